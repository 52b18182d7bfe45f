package io.herald.ledger;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

import io.herald.notification.CanonicalNotification;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The notification rows of the ledger. Admission is the first dedup guard: the idempotency key
 * is unique, so a repeated source event finds its row and is counted as suppressed. A row that
 * was admitted but never forwarded (crash in between) is forwarded again rather than lost.
 */
@Component
public class NotificationLedger {

    public enum Admission { NEW, NOT_YET_ROUTED, DUPLICATE }

    private final JdbcTemplate jdbc;

    public NotificationLedger(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Admits a notification, kept with the raw source event it came from (the console's payload history)
     * and its window deadline (occurrence + catalog window) for the send-window check. The validator has
     * already refused ids that do not fit their columns and made the canonical text storable; the raw
     * payload is kept as received, NUL as a visible escape ({@link StoredText#kept}).
     */
    public Admission admit(CanonicalNotification n, String canonicalJson, String rawPayload, Instant windowDeadline) {
        List<Long> inserted = jdbc.queryForList("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                          raw_payload, window_deadline)
                VALUES (?, ?, ?, ?, ?, 'RECEIVED', CAST(? AS JSONB), ?, ?, ?)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""", Long.class,
                n.idempotencyKey(), n.source(), n.sourceEventId(), n.type(), n.customerId(), canonicalJson,
                Timestamp.from(n.occurredAt()), StoredText.kept(rawPayload), Timestamp.from(windowDeadline));
        if (!inserted.isEmpty()) {
            return Admission.NEW;
        }
        String state = jdbc.queryForObject("SELECT state FROM notification WHERE idempotency_key = ?", String.class, n.idempotencyKey());
        if ("RECEIVED".equals(state)) {
            return Admission.NOT_YET_ROUTED;
        }
        jdbc.update("UPDATE notification SET duplicates_suppressed = duplicates_suppressed + 1, updated_at = now() WHERE idempotency_key = ?",
                n.idempotencyKey());
        return Admission.DUPLICATE;
    }

    public void markRouted(String idempotencyKey) {
        jdbc.update("UPDATE notification SET state = 'ROUTED', updated_at = now() WHERE idempotency_key = ? AND state = 'RECEIVED'",
                idempotencyKey);
    }

}
