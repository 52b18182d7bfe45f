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
                                          raw_payload, window_deadline, traceparent)
                VALUES (?, ?, ?, ?, ?, 'RECEIVED', CAST(? AS JSONB), ?, ?, ?, ?)
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id""", Long.class,
                n.idempotencyKey(), n.source(), n.sourceEventId(), n.type(), n.customerId(), canonicalJson,
                Timestamp.from(n.occurredAt()), StoredText.kept(rawPayload), Timestamp.from(windowDeadline),
                io.herald.tracing.TraceParent.current());   // tracing (issue 15): the senders continue this trace
        if (!inserted.isEmpty()) {
            return Admission.NEW;
        }
        // Seen before: counted as a suppressed duplicate. Not yet ROUTED (dispatch has not read it: it may never
        // have reached the topic) -> forwarded again; dispatch queues a notification's deliveries once.
        String state = jdbc.queryForObject("""
                UPDATE notification SET duplicates_suppressed = duplicates_suppressed + 1, updated_at = now()
                WHERE idempotency_key = ? RETURNING state""", String.class, n.idempotencyKey());
        return "RECEIVED".equals(state) ? Admission.NOT_YET_ROUTED : Admission.DUPLICATE;
    }

    /**
     * Dispatch has read these notifications off the topic and queued their deliveries: ROUTED, in one
     * statement per batch (a notification still RECEIVED is forwarded again by intake if its source
     * event comes again, since it may never have reached the topic).
     */
    public void markRouted(List<Long> notificationIds) {
        if (notificationIds.isEmpty()) {
            return;
        }
        jdbc.update(con -> {
            var statement = con.prepareStatement(
                    "UPDATE notification SET state = 'ROUTED', updated_at = now() WHERE id = ANY(?) AND state = 'RECEIVED'");
            statement.setArray(1, con.createArrayOf("bigint", notificationIds.toArray()));
            return statement;
        });
    }

}
