package io.herald.receipts;

import java.util.Locale;

import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.StoredText;
import io.herald.logging.Masking;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records one provider receipt (owner of the delivery_receipt table) and applies it, in one
 * transaction: kept first (a provider's retry of an event already kept, same event id, stops here),
 * then matched to its delivery by the provider's message id and applied through the ledger (which
 * decides whether the state may move), then, if it says the address can never receive, the address is
 * suppressed with the receipt as its source. A receipt for a message Herald does not know is kept as
 * UNMATCHED and answered like any other: the provider is not asked to retry what cannot match (one that
 * only came before its send was recorded is applied later, {@link EarlyReceipts}).
 */
@Component
public class DeliveryReceipts {

    private static final Logger log = LoggerFactory.getLogger(DeliveryReceipts.class);

    /**
     * One receipt, already read and verified. finalState: the delivery state it stands for (null for an
     * intermediate status); suppressReason: why its address must not be sent to again (null: it may be).
     */
    public record Receipt(String channel, String providerMessageId, String eventId, String status, String errorCode,
                          String finalState, String reason, String address, String suppressReason) {
    }

    private final JdbcTemplate jdbc;
    private final DeliveryLedger ledger;
    private final Suppressions suppressions;
    private final TransactionTemplate tx;
    private final MeterRegistry meters;
    private final io.herald.ledger.LedgerArchive archive;

    public DeliveryReceipts(JdbcTemplate jdbc, DeliveryLedger ledger, Suppressions suppressions, TransactionTemplate tx, MeterRegistry meters,
                            io.herald.ledger.LedgerArchive archive) {
        this.archive = archive;
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.suppressions = suppressions;
        this.tx = tx;
        this.meters = meters;
    }

    /** The outcome kept with the receipt: APPLIED, KEPT, UNMATCHED or DUPLICATE (not kept again). */
    public String record(Receipt receipt) {
        return record(receipt, null);
    }

    /**
     * The same for a receipt that also names the delivery it is about ({@code sentFor}: an SMS status callback's ?ref=, signed
     * by the provider): when no delivery has its message id, an UNCERTAIN delivery of that id without one (the provider's
     * answer to Herald's call was lost) takes it, as SENT, and the receipt applies to it. One that comes while that delivery is
     * still SENDING is kept with the id named, for {@link EarlyReceipts}.
     */
    public String record(Receipt receipt, Long sentFor) {
        String kept = tx.execute(status -> {
            String eventId = text(receipt.eventId(), 200);
            // What the provider sent, as it can be stored and looked up (a NUL in a message id ended the receipt in a database
            // error, answered 503: the provider would have retried it for ever).
            String messageId = text(receipt.providerMessageId(), 300);
            String address = text(receipt.address(), 320);
            // The provider's words in the reasons (SendGrid's reason and response, Twilio's error code), cleaned once and used
            // for every row: a NUL left in the delivery's or the suppression's reason failed the whole batch with a 503.
            String reason = reason(receipt.reason());
            String suppressReason = reason(receipt.suppressReason());
            lockEvent(receipt.channel(), eventId);
            java.util.Map<String, Object> row = jdbc.queryForList("""
                    INSERT INTO delivery_receipt (channel, provider_message_id, provider_event_id, status, error_code, outcome, reason,
                                                  final_state)
                    SELECT ?, ?, CAST(? AS VARCHAR), ?, ?, 'UNMATCHED', ?, ?\s""" + NOT_KEPT_YET + " RETURNING id, received_at",
                    receipt.channel(), messageId, eventId, text(receipt.status(), 40),
                    text(receipt.errorCode(), 40), reason, receipt.finalState(), eventId, receipt.channel(), eventId)
                    .stream().findFirst().orElse(null);
            if (row == null) {
                return "DUPLICATE";
            }
            long receiptId = ((Number) row.get("id")).longValue();
            DeliveryLedger.ReceiptMatch match = ledger.receipt(receipt.channel(), messageId, receipt.finalState(),
                    attemptOutcome(receipt.status(), receipt.finalState()), reason);
            if (!match.matched() && messageId != null && archive.bringBackSent(receipt.channel(), messageId)) {
                // A late receipt (a complaint weeks later) for an archived send: applied in the working set, archived again later.
                match = ledger.receipt(receipt.channel(), messageId, receipt.finalState(), attemptOutcome(receipt.status(), receipt.finalState()),
                        reason);
            }
            if (!match.matched() && sentFor != null && messageId != null && ledger.sentAsReported(sentFor, receipt.channel(), messageId)) {
                match = ledger.receipt(receipt.channel(), messageId, receipt.finalState(), attemptOutcome(receipt.status(), receipt.finalState()),
                        reason);
            }
            String outcome = !match.matched() ? "UNMATCHED" : match.applied() ? "APPLIED" : "KEPT";
            // An SMS receipt that names no send yet may be early (EarlyReceipts applies it once the send is recorded): the number it
            // says can never receive is kept as the suppression list would keep it, for then.
            boolean suppressLater = !match.matched() && !"email".equals(receipt.channel()) && suppressReason != null
                    && address != null && !address.isBlank();
            jdbc.update("""
                    UPDATE delivery_receipt SET delivery_id = ?, outcome = ?, reason = ?, suppress_address_hash = ?,
                                                suppress_address_masked = ?, suppress_reason = ?, sent_for = ?
                    WHERE id = ? AND received_at = ?""",
                    match.deliveryId(), outcome, match.reason(), suppressLater ? Suppressions.hash(receipt.channel(), address) : null,
                    suppressLater ? Suppressions.masked(receipt.channel(), address) : null, suppressLater ? suppressReason : null,
                    match.matched() ? null : sentFor, receiptId, row.get("received_at"));
            // An email event is signed by the provider and names the address it is about: a spam report, hard bounce or
            // unsubscribe suppresses that address even when it names no message Herald knows (SendGrid sends spam reports and
            // unsubscribes without the message's smtp-id). SMS callbacks suppress only for a message of Herald's.
            if ((match.matched() || "email".equals(receipt.channel())) && suppressReason != null && address != null
                    && !address.isBlank()) {
                suppressions.add(receipt.channel(), address, suppressReason, receiptId);
            }
            log.info("{} receipt '{}' for {}: {} (delivery {}, was {})", receipt.channel(), receipt.status(),
                    Masking.mask(messageId), outcome, match.deliveryId(), match.stateBefore());
            return outcome;
        });
        if (!"DUPLICATE".equals(kept)) {
            count(receipt.channel(), receipt.finalState(), kept);
        }
        return kept;
    }

    /**
     * herald_receipts_total{channel, outcome}: every receipt kept (a provider's retry of the same event not counted again), by what
     * it reports: delivered, bounced, undelivered, complained; interim for a status on the way (sent, queued, deferred); unmatched
     * for a receipt about a message Herald does not know when it arrives (many of them: a provider webhook pointed at the wrong
     * Herald); one that only came before its send was recorded is counted again under what it reports once applied (EarlyReceipts).
     */
    void count(String channel, String finalState, String outcome) {
        String label = "UNMATCHED".equals(outcome) ? "unmatched"
                : finalState == null ? "interim" : finalState.toLowerCase(java.util.Locale.ROOT);
        Counter.builder("herald.receipts").description("Delivery receipts from the providers, per channel and what they report")
                .tag("channel", channel).tag("outcome", label).register(meters).increment();
    }

    /** An opt-out the customer sent (an SMS STOP): kept as a receipt (outcome OPT_OUT) and the sender's address suppressed with it as source. */
    public void optOut(String channel, String providerMessageId, String address, String reason) {
        String kept = reason(reason);
        tx.executeWithoutResult(status -> {
            long receiptId = jdbc.queryForObject("""
                    INSERT INTO delivery_receipt (channel, provider_message_id, status, outcome, reason)
                    VALUES (?, ?, 'inbound', 'OPT_OUT', ?) RETURNING id""", Long.class, channel, text(providerMessageId, 300), kept);
            suppressions.add(channel, address, kept, receiptId);
        });
    }

    /**
     * The SMS provider refused a delivery because its number will refuse every message (Twilio 21610 opted out: outcome
     * OPT_OUT; 21614 not a mobile number: UNDELIVERABLE): kept as a receipt of that delivery (status the
     * provider's code, provider_message_id the masked number) and the number suppressed with it as source, in one transaction.
     */
    public void numberRefusedAtProvider(long deliveryId, String number, String providerCode, int httpStatus, String outcome, String reason) {
        tx.executeWithoutResult(status -> {
            long receiptId = jdbc.queryForObject("""
                    INSERT INTO delivery_receipt (channel, provider_message_id, status, error_code, delivery_id, outcome, reason)
                    VALUES ('sms', ?, ?, ?, ?, ?, ?) RETURNING id""", Long.class, text(Masking.phone(number), 300),
                    text(providerCode, 40), String.valueOf(httpStatus), deliveryId, outcome, reason(reason));
            suppressions.add("sms", number, reason(reason), receiptId);
        });
        Counter.builder("herald.receipts").description("Delivery receipts from the providers, per channel and what they report")
                .tag("channel", "sms").tag("outcome", outcome.toLowerCase(Locale.ROOT)).register(meters).increment();
    }

    /**
     * The push provider answered that a token is no longer registered (or is no token at all): kept as a receipt of the delivery
     * whose call got that answer (outcome TOKEN_REMOVED, status the provider's error code, provider_message_id the masked token),
     * once per delivery and token; counted as herald_receipts_total{channel="push", outcome="token_removed"}. Runs in the caller's
     * transaction, with the token's removal from the directory.
     */
    public void tokenRemoved(long deliveryId, String maskedToken, String providerCode, int httpStatus, String reason) {
        String eventId = text("token-removed:" + deliveryId + ":" + maskedToken, 200);
        lockEvent("push", eventId);
        int kept = jdbc.update("""
                INSERT INTO delivery_receipt (channel, provider_message_id, provider_event_id, status, error_code, delivery_id, outcome, reason)
                SELECT 'push', ?, CAST(? AS VARCHAR), ?, ?, ?, 'TOKEN_REMOVED', ?\s""" + NOT_KEPT_YET,
                text(maskedToken, 300), eventId, text(providerCode, 40), String.valueOf(httpStatus), deliveryId, text(reason, 2000),
                eventId, "push", eventId);
        if (kept == 1) {
            Counter.builder("herald.receipts").description("Delivery receipts from the providers, per channel and what they report")
                    .tag("channel", "push").tag("outcome", "token_removed").register(meters).increment();
        }
    }

    /**
     * Kept once per provider event: the table is partitioned by month (V43), so no unique index can span the months a
     * provider's retry may cross. The caller first takes {@link #lockEvent}; then this condition (parameters: the event id,
     * the channel, the event id again) finds an earlier copy in any month. A receipt without an event id is always kept.
     */
    private static final String NOT_KEPT_YET = """
            WHERE CAST(? AS VARCHAR) IS NULL OR NOT EXISTS (
              SELECT 1 FROM delivery_receipt r WHERE r.channel = ? AND r.provider_event_id = ?)""";

    /**
     * Serialises the receipts of one provider event until the transaction ends (a transaction-scoped advisory lock): a
     * provider's retry racing the original waits for it, then its own statement sees it kept. Nothing to lock without an id.
     */
    private void lockEvent(String channel, String eventId) {
        if (eventId != null) {
            jdbc.query("SELECT pg_advisory_xact_lock(hashtext('herald.receipt-event'), hashtext(? || ':' || ?))", row -> null,
                    channel, eventId);
        }
    }

    /**
     * The attempt row's outcome, in at most 20 characters: the final state the receipt settles (DELIVERED, BOUNCED,
     * UNDELIVERED, COMPLAINED), else the provider's status in capitals, letters only (e.g. QUEUED, DEFERRED).
     */
    static String attemptOutcome(String status, String finalState) {
        String word = status == null ? "UNKNOWN" : status.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z]", "");
        String outcome = finalState != null ? finalState : word;
        return outcome.length() > 20 ? outcome.substring(0, 20) : outcome;
    }

    /** A reason as people read it and PostgreSQL stores it: control characters (NUL) dropped, lone surrogates replaced, cut to 2000. */
    private static String reason(String value) {
        return StoredText.truncate(StoredText.content(value), 2000);
    }

    private static String text(String value, int max) {
        if (value == null) {
            return null;
        }
        String clean = value.replace("\u0000", "");
        return clean.length() > max ? clean.substring(0, max) : clean;
    }
}
