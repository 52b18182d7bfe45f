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
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Receipts that came before their send was recorded. A provider may report on a message before Herald has written the
 * message's SENT with the provider's id (Twilio posts "queued" or "sent", sometimes "undelivered", within milliseconds of its
 * own answer; a slow database delays the write). Such a receipt is kept UNMATCHED by {@link DeliveryReceipts}; every
 * herald.receipts.early.poll-interval-ms (routes/delivery-receipts.camel.yaml, early-receipts), the UNMATCHED receipts of the
 * last herald.receipts.early.window that may name a message of Herald's (any SMS; an email whose Message-ID is Herald's,
 * &lt;delivery-id.claim-token@sender's domain&gt;, or &lt;…@herald&gt; as Herald gave them before V65: the email provider's webhook also reports the account's other mail) and whose message id a delivery or an
 * operator's resend now carries are applied, oldest first, exactly as they would have been on arrival: through the ledger
 * (which decides whether the state may move), with an attempt in the timeline, and the number suppressed if the receipt said
 * it can never receive. Each receipt is applied in a transaction of its own (it locks one notification and one delivery,
 * never several at once), its row locked SKIP LOCKED and moved off UNMATCHED in that transaction, so it is applied once,
 * also with several instances. An SMS receipt that names its delivery (sent_for, the callback's ?ref=) is applied also once
 * that delivery ended UNCERTAIN without the provider's answer (a call cut off, a crash): the delivery takes the receipt's
 * message id, as SENT ({@link DeliveryLedger#sentAsReported}). A receipt whose send is never recorded (a message of another
 * system) stays UNMATCHED; once it is older than the window, the suppression key kept for it is cleared.
 */
@Component
public class EarlyReceipts {

    private static final Logger log = LoggerFactory.getLogger(EarlyReceipts.class);
    /** Receipts looked at per run; more wait for the next run. */
    private static final int BATCH = 500;
    /** The receipts worth looking at again, as the partial index delivery_receipt_early (V55) says it. */
    private static final String MAY_BE_EARLY = "r.outcome = 'UNMATCHED' AND (r.channel = 'sms' OR r.provider_message_id LIKE '%@herald>'"
            + " OR r.provider_message_id ~ '^<[0-9]+[.][0-9a-f]{32}@') ";

    private record Early(long id, Timestamp receivedAt, String channel, String messageId, String status, String finalState,
                         String reason, String suppressHash, String suppressMasked, String suppressReason, Long sentFor) {
    }

    private final JdbcTemplate jdbc;
    private final DeliveryLedger ledger;
    private final Suppressions suppressions;
    private final DeliveryReceipts receipts;
    private final TransactionTemplate tx;
    private final String window;

    public EarlyReceipts(JdbcTemplate jdbc, DeliveryLedger ledger, Suppressions suppressions, DeliveryReceipts receipts,
                         TransactionTemplate tx, ReceiptSettings settings) {
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.suppressions = suppressions;
        this.receipts = receipts;
        this.tx = tx;
        this.window = settings.early().window().toSeconds() + " seconds";
    }

    /** One run: the early receipts whose send is now recorded applied, the expired ones' suppression keys cleared. Returns how many were applied. */
    public int run() {
        List<Long> due = jdbc.queryForList("""
                SELECT r.id FROM delivery_receipt r
                WHERE\s""" + MAY_BE_EARLY + """
                  AND r.received_at > now() - CAST(? AS INTERVAL)
                  AND (EXISTS (SELECT 1 FROM delivery d WHERE d.provider_message_id = r.provider_message_id AND d.channel = r.channel
                                                          AND d.state <> 'SENDING')
                       OR EXISTS (SELECT 1 FROM delivery_resend rs WHERE rs.provider_message_id = r.provider_message_id)
                       OR EXISTS (SELECT 1 FROM delivery d WHERE d.id = r.sent_for AND d.channel = r.channel AND d.state = 'UNCERTAIN'
                                                          AND d.provider_message_id IS NULL))
                ORDER BY r.received_at, r.id LIMIT ?""", Long.class, window, BATCH);
        int applied = 0;
        for (long id : due) {
            if (Boolean.TRUE.equals(tx.execute(status -> apply(id)))) {
                applied++;
            }
        }
        clearExpired();
        return applied;
    }

    /** Applies one receipt, unless another instance has it or it was applied meanwhile; true when it found its delivery. */
    private boolean apply(long receiptId) {
        Early receipt = jdbc.query("""
                SELECT r.id, r.received_at, r.channel, r.provider_message_id, r.status, r.final_state, r.reason,
                       r.suppress_address_hash, r.suppress_address_masked, r.suppress_reason, r.sent_for
                FROM delivery_receipt r WHERE r.id = ? AND r.outcome = 'UNMATCHED' FOR UPDATE OF r SKIP LOCKED""",
                (row, n) -> new Early(row.getLong("id"), row.getTimestamp("received_at"), row.getString("channel"),
                        row.getString("provider_message_id"), row.getString("status"), row.getString("final_state"),
                        row.getString("reason"), row.getString("suppress_address_hash"), row.getString("suppress_address_masked"),
                        row.getString("suppress_reason"), (Long) row.getObject("sent_for")), receiptId).stream().findFirst().orElse(null);
        if (receipt == null) {
            return false;
        }
        if (receipt.sentFor() != null && receipt.messageId() != null) {
            ledger.sentAsReported(receipt.sentFor(), receipt.channel(), receipt.messageId());   // false: it has its id, or is not UNCERTAIN
        }
        DeliveryLedger.ReceiptMatch match = ledger.receipt(receipt.channel(), receipt.messageId(), receipt.finalState(),
                DeliveryReceipts.attemptOutcome(receipt.status(), receipt.finalState()), receipt.reason());
        if (!match.matched()) {
            return false;   // its delivery went meanwhile (retention): it stays as it was
        }
        String outcome = match.applied() ? "APPLIED" : "KEPT";
        jdbc.update("""
                UPDATE delivery_receipt SET delivery_id = ?, outcome = ?, reason = ?, suppress_address_hash = NULL,
                                            suppress_address_masked = NULL, suppress_reason = NULL, sent_for = NULL
                WHERE id = ? AND received_at = ?""", match.deliveryId(), outcome, match.reason(), receipt.id(), receipt.receivedAt());
        if (receipt.suppressHash() != null) {
            suppressions.addHashed(receipt.channel(), receipt.suppressHash(), receipt.suppressMasked(), receipt.suppressReason(),
                    receipt.id());
        }
        receipts.count(receipt.channel(), receipt.finalState(), outcome);
        log.info("{} receipt '{}' for {}, received before its send was recorded: {} (delivery {}, was {})", receipt.channel(),
                receipt.status(), Masking.mask(receipt.messageId()), outcome, match.deliveryId(), match.stateBefore());
        return true;
    }

    /**
     * The suppression key kept with an early SMS receipt is for the moment its send is recorded; one that never was (a message of
     * another system on the same account) does not keep it longer than the window (and a day, the range each run looks at).
     */
    private void clearExpired() {
        jdbc.update("""
                UPDATE delivery_receipt r SET suppress_address_hash = NULL, suppress_address_masked = NULL, suppress_reason = NULL
                WHERE\s""" + MAY_BE_EARLY + """
                  AND r.received_at <= now() - CAST(? AS INTERVAL) AND r.received_at > now() - CAST(? AS INTERVAL) - INTERVAL '1 day'
                  AND r.suppress_address_hash IS NOT NULL""", window, window);
    }
}
