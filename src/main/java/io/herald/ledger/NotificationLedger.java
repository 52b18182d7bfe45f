package io.herald.ledger;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.herald.notification.CanonicalNotification;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The notification rows of the ledger. Admission is the first dedup guard: the idempotency key
 * is unique, so a repeated source event finds its row and is counted as suppressed (not the same Kafka record read
 * again: {@link SourceRecord}). A row that
 * was admitted but never forwarded (crash in between) is forwarded again rather than lost.
 */
@Component
public class NotificationLedger {

    public enum Admission { NEW, NOT_YET_ROUTED, DUPLICATE }

    /**
     * The payload row written with its notification, in the same statement (V38: notification_payload, partitioned by month
     * of the notification's received_at); the canonical row keeps "data": {}.
     */
    private static final String INSERT_PAYLOAD = "INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)\n";

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
                WITH inserted AS (
                  INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                            window_deadline, traceparent)
                  VALUES (?, ?, ?, ?, ?, 'RECEIVED', jsonb_set(CAST(? AS JSONB), '{data}', '{}'), ?, ?, ?)
                  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, received_at),
                     payload AS (""" + INSERT_PAYLOAD + """
                                 SELECT id, received_at, ?, CAST(? AS JSONB) -> 'data' FROM inserted)
                SELECT id FROM inserted""", Long.class,
                n.idempotencyKey(), n.source(), n.sourceEventId(), n.type(), n.customerId(), canonicalJson,
                Timestamp.from(n.occurredAt()), Timestamp.from(windowDeadline),
                io.herald.tracing.TraceParent.current(),   // tracing (issue 15): the senders continue this trace
                StoredText.kept(rawPayload), canonicalJson);
        if (!inserted.isEmpty()) {
            return Admission.NEW;
        }
        // Seen before: counted as a suppressed duplicate. Not yet ROUTED (dispatch has not read it: it may never
        // have reached the topic) -> forwarded again; dispatch queues a notification's deliveries once.
        // Not found in the working set: the archive holds it (V76's trigger counted it there).
        List<String> state = jdbc.queryForList("""
                UPDATE notification SET duplicates_suppressed = duplicates_suppressed + 1, updated_at = now()
                WHERE idempotency_key = ? RETURNING state""", String.class, n.idempotencyKey());
        return state.contains("RECEIVED") ? Admission.NOT_YET_ROUTED : Admission.DUPLICATE;
    }

    /**
     * A notification to admit with others of its batch ({@link #admitAll}), with the Kafka record its source event was read
     * from (null when there is none).
     */
    public record ToAdmit(CanonicalNotification notification, String canonicalJson, String rawPayload, Instant windowDeadline,
                          String traceparent, SourceRecord sourceRecord) {
    }

    /**
     * Where a source event was read from: its topic and partition ("herald.billing.events/2") and its offset. The same
     * record read again (a consumer group rebalance, a crash before the offset commit) is not the source sending it again.
     */
    public record SourceRecord(String partition, long offset) {
    }

    /**
     * The incoming record i was read before for notification n: the same partition, at or before the record n keeps (a
     * partition is read in order). Herald's own re-read (a rebalance, a crash before the offset commit), not a repeat.
     */
    private static final String READ_BEFORE = "(n.source_record_partition = i.source_record_partition"
            + " AND i.source_record_offset <= n.source_record_offset)";

    private static final String ADMIT_ALL = """
            WITH incoming AS (
                   SELECT * FROM unnest(?::varchar[], ?::varchar[], ?::varchar[], ?::varchar[], ?::varchar[], ?::text[],
                                        ?::timestamptz[], ?::text[], ?::timestamptz[], ?::varchar[], ?::varchar[], ?::bigint[])
                     WITH ORDINALITY
                     AS i(idempotency_key, source, source_event_id, type, customer_id, canonical, occurred_at, raw_payload,
                          window_deadline, traceparent, source_record_partition, source_record_offset, ord)),
                 inserted AS (
                   INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                             window_deadline, traceparent, source_record_partition, source_record_offset)
                   SELECT idempotency_key, source, source_event_id, type, customer_id, 'RECEIVED',
                          jsonb_set(CAST(canonical AS JSONB), '{data}', '{}'), occurred_at, window_deadline, traceparent,
                          source_record_partition, source_record_offset
                   FROM incoming ORDER BY ord
                   ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, received_at, idempotency_key),
                 payload AS (""" + INSERT_PAYLOAD + """
                   SELECT inserted.id, inserted.received_at, incoming.raw_payload, CAST(incoming.canonical AS JSONB) -> 'data'
                   FROM inserted JOIN incoming USING (idempotency_key)),
                 seen AS (
                   UPDATE notification n SET
                     duplicates_suppressed = n.duplicates_suppressed + CASE WHEN READ_BEFORE THEN 0 ELSE 1 END,
                     updated_at = CASE WHEN READ_BEFORE THEN n.updated_at ELSE now() END,
                     source_record_partition = COALESCE(i.source_record_partition, n.source_record_partition),
                     source_record_offset = CASE WHEN READ_BEFORE THEN n.source_record_offset
                                                 ELSE COALESCE(i.source_record_offset, n.source_record_offset) END
                   FROM incoming i
                   WHERE n.idempotency_key = i.idempotency_key
                     AND n.idempotency_key NOT IN (SELECT idempotency_key FROM inserted)
                   RETURNING n.idempotency_key, n.state)
            SELECT idempotency_key, 'NEW' AS admission FROM inserted
            UNION ALL
            SELECT idempotency_key, state FROM seen""".replace("READ_BEFORE", READ_BEFORE);

    /**
     * Admits a batch's notifications in one statement, as {@link #admit} does each: one result per
     * notification, in order. A key that comes twice in the batch is admitted once, the later one is a
     * DUPLICATE; a key admitted by another consumer at the same moment is a DUPLICATE here (that
     * consumer forwards it). A repeat is counted in duplicates_suppressed unless it is a record read before (its
     * {@link SourceRecord} at or before the one the notification keeps): that is Herald reading it again, not the source
     * sending it again; it is still forwarded again when not yet routed.
     */
    public List<Admission> admitAll(List<ToAdmit> batch) {
        Set<String> keys = new HashSet<>();
        List<ToAdmit> distinct = batch.stream().filter(admit -> keys.add(admit.notification().idempotencyKey())).toList();
        Map<String, String> outcome = new HashMap<>();
        if (!distinct.isEmpty()) {
            jdbc.query(con -> {
                PreparedStatement statement = con.prepareStatement(ADMIT_ALL);
                statement.setArray(1, con.createArrayOf("varchar", distinct.stream().map(a -> a.notification().idempotencyKey()).toArray()));
                statement.setArray(2, con.createArrayOf("varchar", distinct.stream().map(a -> a.notification().source()).toArray()));
                statement.setArray(3, con.createArrayOf("varchar", distinct.stream().map(a -> a.notification().sourceEventId()).toArray()));
                statement.setArray(4, con.createArrayOf("varchar", distinct.stream().map(a -> a.notification().type()).toArray()));
                statement.setArray(5, con.createArrayOf("varchar", distinct.stream().map(a -> a.notification().customerId()).toArray()));
                statement.setArray(6, con.createArrayOf("text", distinct.stream().map(ToAdmit::canonicalJson).toArray()));
                statement.setArray(7, con.createArrayOf("timestamptz", distinct.stream()
                        .map(a -> a.notification().occurredAt() == null ? null : Timestamp.from(a.notification().occurredAt())).toArray()));
                statement.setArray(8, con.createArrayOf("text", distinct.stream().map(a -> StoredText.kept(a.rawPayload())).toArray()));
                statement.setArray(9, con.createArrayOf("timestamptz", distinct.stream().map(a -> Timestamp.from(a.windowDeadline())).toArray()));
                statement.setArray(10, con.createArrayOf("varchar", distinct.stream().map(ToAdmit::traceparent).toArray()));   // tracing (issue 15)
                statement.setArray(11, con.createArrayOf("varchar", distinct.stream()
                        .map(a -> a.sourceRecord() == null ? null : a.sourceRecord().partition()).toArray()));
                statement.setArray(12, con.createArrayOf("bigint", distinct.stream()
                        .map(a -> a.sourceRecord() == null ? null : a.sourceRecord().offset()).toArray()));
                return statement;
            }, row -> {
                outcome.put(row.getString(1), row.getString(2));
            });
        }
        List<Admission> admissions = new ArrayList<>(batch.size());
        Set<String> answered = new HashSet<>();
        for (ToAdmit admit : batch) {
            String key = admit.notification().idempotencyKey();
            String result = answered.add(key) ? outcome.get(key) : null;   // a later copy in the same batch: a duplicate
            admissions.add("NEW".equals(result) ? Admission.NEW : "RECEIVED".equals(result) ? Admission.NOT_YET_ROUTED : Admission.DUPLICATE);
        }
        if (distinct.size() < batch.size()) {
            // A later copy in the same batch is another record: counted, unless that record was read before (a re-read batch).
            Set<String> first = new HashSet<>();
            for (ToAdmit admit : batch) {
                String key = admit.notification().idempotencyKey();
                if (!first.add(key)) {
                    String partition = admit.sourceRecord() == null ? null : admit.sourceRecord().partition();
                    Long offset = admit.sourceRecord() == null ? null : admit.sourceRecord().offset();
                    jdbc.update("""
                            UPDATE notification n SET duplicates_suppressed = duplicates_suppressed + 1, updated_at = now(),
                                   source_record_partition = COALESCE(i.source_record_partition, n.source_record_partition),
                                   source_record_offset = COALESCE(i.source_record_offset, n.source_record_offset)
                            FROM (SELECT CAST(? AS VARCHAR) AS source_record_partition, CAST(? AS BIGINT) AS source_record_offset) i
                            WHERE n.idempotency_key = ? AND NOT COALESCE(""" + READ_BEFORE + ", false)", partition, offset, key);
                }
            }
        }
        return admissions;
    }

    /**
     * A notification Herald makes itself, not read from a source (an appointment's reminder, made when its booking is
     * dispatched): admitted ROUTED (it never goes through the topic), with the notification it comes from as its payload
     * history. Its idempotency key makes it once however often that is repeated. Returns its id, new or not.
     */
    public long admitDerived(CanonicalNotification n, String canonicalJson, String fromCanonical, Instant windowDeadline) {
        jdbc.update("""
                WITH inserted AS (
                  INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                            window_deadline)
                  VALUES (?, ?, ?, ?, ?, 'ROUTED', jsonb_set(CAST(? AS JSONB), '{data}', '{}'), ?, ?)
                  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, received_at)
                """ + INSERT_PAYLOAD + """
                SELECT id, received_at, ?, CAST(? AS JSONB) -> 'data' FROM inserted""",
                n.idempotencyKey(), n.source(), n.sourceEventId(), n.type(), n.customerId(), canonicalJson,
                Timestamp.from(n.occurredAt()), Timestamp.from(windowDeadline), StoredText.kept(fromCanonical), canonicalJson);
        return jdbc.queryForObject("SELECT id FROM notification_all WHERE idempotency_key = ?", Long.class, n.idempotencyKey());
    }

    /** The canonical form of a notification as dispatch stored it (what its deliveries render), or null. */
    public String canonical(long notificationId) {
        return jdbc.query("SELECT herald_canonical(id, received_at, canonical)::text FROM notification_all WHERE id = ?",
                        (row, i) -> row.getString(1), notificationId)
                .stream().findFirst().orElse(null);
    }

    /**
     * A waiting notification now says something else and is due at another time (a reminder whose appointment was
     * rescheduled): its canonical form (what it renders), its occurrence and its send-window deadline are rewritten.
     */
    public void retimed(long notificationId, String canonicalJson, Instant occurredAt, Instant windowDeadline) {
        jdbc.update("""
                WITH retimed AS (
                  UPDATE notification SET canonical = jsonb_set(CAST(? AS JSONB), '{data}', '{}'), occurred_at = ?, window_deadline = ?,
                         updated_at = now() WHERE id = ? RETURNING id, received_at)
                UPDATE notification_payload p SET data = CAST(? AS JSONB) -> 'data'
                FROM retimed WHERE p.notification_id = retimed.id AND p.received_at = retimed.received_at""",
                canonicalJson, Timestamp.from(occurredAt), Timestamp.from(windowDeadline), notificationId, canonicalJson);
    }

    /**
     * An admitted notification the broker refused for good (it is quarantined instead): removed with its payload while
     * still RECEIVED (no delivery exists before dispatch reads it), so that its event ends in one row and a re-drive
     * admits it again.
     */
    public void withdraw(String idempotencyKey) {
        jdbc.update("DELETE FROM notification WHERE idempotency_key = ? AND state = 'RECEIVED'", idempotencyKey);
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

    /** A notification that may have been made pointless by one received before it: whose, which types, which field and value. */
    public record SupersededQuestion(long notificationId, String customerId, List<String> types, String field, String value) {
    }

    /** The notification that answers a {@link SupersededQuestion}: its type, when it occurred, and its source event. */
    public record Superseding(String type, Instant occurredAt, String source, String sourceEventId) {
    }

    /**
     * For each question, the earliest notification of the same customer, of one of its types, naming the same value in the
     * field (refs, then data) that occurred at or after the asking notification (strictly after for one of its own type,
     * two of the same second cancel neither, and only one on its way to the customer or sent: not one awaiting an approver,
     * cancelled, expired or dead-lettered): already received, it makes that one pointless (catalog cancelled-by; events
     * arrive out of order: Stripe does not promise order). One statement for all
     * of them; a question without such a notification (or without occurrence times to compare) has no entry.
     */
    public Map<Long, Superseding> supersedingAlreadyReceived(List<SupersededQuestion> questions) {
        Map<Long, Superseding> found = new HashMap<>();
        if (questions.isEmpty()) {
            return found;
        }
        jdbc.query(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    SELECT q.id, s.type, s.occurred_at, s.source, s.source_event_id
                    FROM unnest(?::bigint[], ?::varchar[], ?::text[], ?::text[], ?::text[]) AS q(id, customer_id, types, field, value)
                    JOIN notification me ON me.id = q.id
                    CROSS JOIN LATERAL (
                      SELECT n.type, n.occurred_at, n.source, n.source_event_id FROM notification n
                      WHERE n.customer_id = q.customer_id AND n.type = ANY(string_to_array(q.types, ' ')) AND n.id <> q.id
                        AND (n.occurred_at > me.occurred_at OR (n.occurred_at = me.occurred_at AND n.type <> me.type))
                        AND (n.type <> me.type OR EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.channel <> 'ops_webhook'
                             AND d.state IN ('PENDING', 'SENDING', 'RETRYING', 'PARKED', 'DIGEST_WAITING', 'SCHEDULED', 'SENT', 'DELIVERED', 'UNCERTAIN')))
                        AND COALESCE(n.canonical -> 'refs' ->> q.field, herald_canonical(n.id, n.received_at, n.canonical) -> 'data' ->> q.field) = q.value
                      ORDER BY n.occurred_at, n.id LIMIT 1) s""");
            statement.setArray(1, con.createArrayOf("bigint", questions.stream().map(SupersededQuestion::notificationId).toArray()));
            statement.setArray(2, con.createArrayOf("varchar", questions.stream().map(SupersededQuestion::customerId).toArray()));
            statement.setArray(3, con.createArrayOf("text", questions.stream().map(q -> String.join(" ", q.types())).toArray()));
            statement.setArray(4, con.createArrayOf("text", questions.stream().map(SupersededQuestion::field).toArray()));
            statement.setArray(5, con.createArrayOf("text", questions.stream().map(SupersededQuestion::value).toArray()));
            return statement;
        }, row -> {
            found.put(row.getLong(1), new Superseding(row.getString(2), row.getTimestamp(3).toInstant(), row.getString(4), row.getString(5)));
        });
        return found;
    }

    /**
     * For a notification of a digest type about to open a new digest: the earliest newer one of its kind (same customer, same
     * value in the field, occurred strictly later) that the customer was told of or is being told of: one of its customer
     * deliveries is on its way or sent, or it was carried by a digest whose message is (its opener's delivery), or that
     * digest's window has closed ({@code now} is past its closes_at) and its message only waits for its timer to fire. One
     * still waiting in an open window does not count: the asking one joins that digest instead. Null when there is none.
     */
    public Superseding newerOfItsKindTold(SupersededQuestion question, Instant now) {
        return jdbc.query("""
                SELECT n.type, n.occurred_at, n.source, n.source_event_id
                FROM notification me JOIN notification n ON n.customer_id = ? AND n.type = me.type AND n.id <> me.id
                  AND n.occurred_at > me.occurred_at
                WHERE me.id = ?
                  AND COALESCE(n.canonical -> 'refs' ->> ?, herald_canonical(n.id, n.received_at, n.canonical) -> 'data' ->> ?) = ?
                  AND (EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.channel <> 'ops_webhook'
                               AND d.state IN ('PENDING', 'SENDING', 'RETRYING', 'PARKED', 'SENT', 'DELIVERED', 'UNCERTAIN'))
                       OR EXISTS (SELECT 1 FROM customer_digest_member m JOIN customer_digest g ON g.id = m.digest_id
                                  JOIN delivery d ON d.notification_id = g.opened_by AND d.channel <> 'ops_webhook'
                                  WHERE m.notification_id = n.id
                                    AND (d.state IN ('PENDING', 'SENDING', 'RETRYING', 'PARKED', 'SENT', 'DELIVERED', 'UNCERTAIN')
                                         OR d.state = 'SCHEDULED' AND g.closes_at <= ?)))
                ORDER BY n.occurred_at, n.id LIMIT 1""",
                row -> row.next() ? new Superseding(row.getString(1), row.getTimestamp(2).toInstant(), row.getString(3), row.getString(4)) : null,
                question.customerId(), question.notificationId(), question.field(), question.field(), question.value(), Timestamp.from(now));
    }

    /**
     * Dispatch could not handle it and kept it as a dead letter (dead_letter, with the reason): DEAD_LETTER, no longer in
     * flight and never sent (it stayed RECEIVED, kept for ever by retention as in progress, and forwarded again by intake
     * whenever its source event came again, to fail the same way).
     */
    public void deadLettered(String idempotencyKey) {
        jdbc.update("UPDATE notification SET state = 'DEAD_LETTER', updated_at = now() WHERE idempotency_key = ? AND state = 'RECEIVED'",
                idempotencyKey);
    }

    /**
     * Herald itself made the notification wait (quiet hours): its send window counts from the end of the wait, so the
     * deadline moves to {@code deadline} if that is later. Never earlier; safe to run again.
     */
    public void postponeDeadline(long notificationId, Instant deadline) {
        jdbc.update("UPDATE notification SET window_deadline = GREATEST(window_deadline, ?) WHERE id = ?", Timestamp.from(deadline), notificationId);
    }

    /**
     * {@link #postponeDeadline} for several notifications in one statement (deliveries a sender's claim parked for quiet
     * hours), except those whose window had already passed at {@code now} (Herald's clock): a wait Herald chose later does
     * not make a late message timely again; its late policy applies when it is sent.
     */
    public void postponeDeadlines(Map<Long, Instant> deadlines, Instant now) {
        if (deadlines.isEmpty()) {
            return;
        }
        jdbc.update(con -> {
            PreparedStatement statement = con.prepareStatement("""
                    UPDATE notification n SET window_deadline = GREATEST(n.window_deadline, t.deadline)
                    FROM unnest(?::bigint[], ?::text[]) AS v(id, deadline_text), LATERAL (SELECT v.deadline_text::timestamptz AS deadline) t
                    WHERE n.id = v.id AND (n.window_deadline IS NULL OR n.window_deadline > ?)""");
            statement.setArray(1, con.createArrayOf("bigint", deadlines.keySet().toArray()));
            // ISO-8601 instants ("…Z"), not java.sql.Timestamp, whose text form is a local time without its zone.
            statement.setArray(2, con.createArrayOf("text", deadlines.values().stream().map(Instant::toString).toArray()));
            statement.setTimestamp(3, Timestamp.from(now));
            return statement;
        });
    }
}
