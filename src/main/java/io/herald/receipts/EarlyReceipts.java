package io.herald.receipts;

import java.sql.Timestamp;
import java.util.List;

import io.herald.config.ReceiptSettings;
import io.herald.ledger.DeliveryLedger;
import io.herald.logging.Masking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Receipts that came before their send was recorded. A provider may report on a message before Herald has written the
 * message's SENT with the provider's id (Twilio posts "queued" or "sent", sometimes "undelivered", within milliseconds of its
 * own answer; a slow or briefly unreachable database delays the write). Such a receipt is kept UNMATCHED by
 * {@link DeliveryReceipts}; every herald.receipts.early.poll-interval-ms (routes/delivery-receipts.camel.yaml, early-receipts),
 * the UNMATCHED receipts of the last herald.receipts.early.window whose message id a delivery now carries are applied to it,
 * oldest first, exactly as they would have been on arrival: through the ledger (which decides whether the state may move),
 * with an attempt in the timeline, and the number suppressed if the receipt said it can never receive. Each receipt is
 * applied once: its row is locked (SKIP LOCKED, so two instances share the work) and leaves UNMATCHED in the same
 * transaction. A receipt whose send is never recorded (a message of another system) stays UNMATCHED.
 */
@Component
public class EarlyReceipts {

    private static final Logger log = LoggerFactory.getLogger(EarlyReceipts.class);
    /** Receipts applied per run; more wait for the next run. */
    private static final int BATCH = 500;

    private record Early(long id, Timestamp receivedAt, String channel, String messageId, String status, String finalState,
                         String reason, String suppressHash, String suppressMasked, String suppressReason) {
    }

    private final JdbcTemplate jdbc;
    private final DeliveryLedger ledger;
    private final Suppressions suppressions;
    private final String window;

    public EarlyReceipts(JdbcTemplate jdbc, DeliveryLedger ledger, Suppressions suppressions, ReceiptSettings settings) {
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.suppressions = suppressions;
        this.window = settings.early().window().toSeconds() + " seconds";
    }

    /** Applies the early receipts whose send is now recorded; runs in the caller's transaction. Returns how many. */
    public int apply() {
        List<Early> found = jdbc.query("""
                SELECT r.id, r.received_at, r.channel, r.provider_message_id, r.status, r.final_state, r.reason,
                       r.suppress_address_hash, r.suppress_address_masked, r.suppress_reason
                FROM delivery_receipt r
                WHERE r.outcome = 'UNMATCHED' AND r.received_at > now() - CAST(? AS INTERVAL)
                  AND EXISTS (SELECT 1 FROM delivery d WHERE d.provider_message_id = r.provider_message_id AND d.channel = r.channel
                                                         AND d.state <> 'SENDING')
                ORDER BY r.received_at, r.id LIMIT ? FOR UPDATE OF r SKIP LOCKED""",
                (row, n) -> new Early(row.getLong("id"), row.getTimestamp("received_at"), row.getString("channel"),
                        row.getString("provider_message_id"), row.getString("status"), row.getString("final_state"),
                        row.getString("reason"), row.getString("suppress_address_hash"), row.getString("suppress_address_masked"),
                        row.getString("suppress_reason")),
                window, BATCH);
        for (Early receipt : found) {
            DeliveryLedger.ReceiptMatch match = ledger.receipt(receipt.channel(), receipt.messageId(), receipt.finalState(),
                    DeliveryReceipts.attemptOutcome(receipt.status(), receipt.finalState()), receipt.reason());
            if (!match.matched()) {
                continue;   // its delivery went meanwhile (erased, retention): it stays as it was
            }
            String outcome = match.applied() ? "APPLIED" : "KEPT";
            jdbc.update("""
                    UPDATE delivery_receipt SET delivery_id = ?, outcome = ?, reason = ?, suppress_address_hash = NULL,
                                                suppress_address_masked = NULL, suppress_reason = NULL
                    WHERE id = ? AND received_at = ?""", match.deliveryId(), outcome, match.reason(), receipt.id(), receipt.receivedAt());
            if (receipt.suppressHash() != null) {
                suppressions.addHashed(receipt.channel(), receipt.suppressHash(), receipt.suppressMasked(), receipt.suppressReason(),
                        receipt.id());
            }
            log.info("{} receipt '{}' for {}, received before its send was recorded: {} (delivery {}, was {})", receipt.channel(),
                    receipt.status(), Masking.mask(receipt.messageId()), outcome, match.deliveryId(), match.stateBefore());
        }
        return found.size();
    }
}
