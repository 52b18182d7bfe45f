package io.herald.ledger;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Source events that did not become notifications, kept whole with the step and the reason. Whatever
 * the event contained, the row is written: its id and reason are made storable and cut to their
 * columns, its raw payload is kept as received (NUL as a visible escape), see {@link StoredText}.
 */
@Component
public class UnroutedEvents {

    /** One kept event. Status OPEN until a re-drive succeeds (REDRIVEN). */
    public record Unrouted(long id, String source, String sourceEventId, String outcome, String step, String reason,
                           String status, int redriveCount, String redriveOutcome, Instant createdAt, Instant updatedAt,
                           String rawPayload) {
    }

    /** Column sizes of unrouted_event (V1); the reason is TEXT but a reason is a sentence, not a dump. */
    private static final int SOURCE_COLUMN = 20;
    private static final int EVENT_ID_COLUMN = 200;
    private static final int STEP_COLUMN = 20;
    private static final int REASON_LIMIT = 2000;

    private final JdbcTemplate jdbc;

    public UnroutedEvents(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void quarantined(String source, String sourceEventId, String step, String reason, String rawPayload) {
        insert(source, sourceEventId, "QUARANTINED", step, reason, rawPayload);
    }

    /**
     * Quarantined without its payload: the event names a customer who was erased, so what it carries of them is not kept;
     * its row reads {@code removed} (io.herald.retention.PayloadRemoved) in the payload's place, and a re-drive is refused.
     */
    public void quarantinedWithoutPayload(String source, String sourceEventId, String step, String reason, String removed) {
        insert(source, sourceEventId, "QUARANTINED", step, reason, removed, "erasure");
    }

    public void ignored(String source, String sourceEventId, String reason, String rawPayload) {
        insert(source, sourceEventId, "IGNORED", "mapping", reason, rawPayload);
    }

    /** Understood, and left alone at this step (e.g. a contact change older than the directory's entry or a link). */
    public void skipped(String source, String sourceEventId, String step, String reason, String rawPayload) {
        insert(source, sourceEventId, "IGNORED", step, reason, rawPayload);
    }

    /** Newest first; source and status are optional filters (null = any). */
    public List<Unrouted> list(String outcome, String source, String status, int limit) {
        StringBuilder sql = new StringBuilder("SELECT * FROM unrouted_event WHERE outcome = ?");
        List<Object> args = new ArrayList<>(List.of(outcome));
        if (source != null) {
            sql.append(" AND source = ?");
            args.add(source);
        }
        if (status != null) {
            sql.append(" AND status = ?");
            args.add(status);
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
        args.add(limit);
        return jdbc.query(sql.toString(), this::toUnrouted, args.toArray());
    }

    public Optional<Unrouted> find(long id) {
        return jdbc.query("SELECT * FROM unrouted_event WHERE id = ?", this::toUnrouted, id).stream().findFirst();
    }

    /** A re-drive got through (routed, ignored, directory updated or duplicate): the event is done. */
    public void redriven(long id, String outcome) {
        jdbc.update("UPDATE unrouted_event SET status = 'REDRIVEN', redrive_count = redrive_count + 1, redriven_at = now(),"
                + " redrive_outcome = ?, updated_at = now() WHERE id = ?", outcome, id);
    }

    /** A re-drive failed again: the event stays open with the new step and reason. */
    public void stillQuarantined(long id, String step, String reason) {
        jdbc.update("UPDATE unrouted_event SET step = ?, reason = ?, redrive_count = redrive_count + 1, redriven_at = now(),"
                + " redrive_outcome = 'QUARANTINED', updated_at = now() WHERE id = ?",
                StoredText.label(step, STEP_COLUMN), StoredText.label(reason, REASON_LIMIT), id);
    }

    /**
     * Kept once: the same source event read again while its row is still open (a Kafka record redelivered after a
     * rebalance, a poller's batch read again) finds its row and adds none, so an operator sees one row per event. An event
     * without a readable id (not JSON, or no id in it) is the same event when its raw payload is the same.
     */
    private void insert(String source, String sourceEventId, String outcome, String step, String reason, String rawPayload) {
        insert(source, sourceEventId, outcome, step, reason, rawPayload, null);
    }

    private void insert(String source, String sourceEventId, String outcome, String step, String reason, String rawPayload,
                        String removedBy) {
        String storedSource = StoredText.label(source, SOURCE_COLUMN);
        String storedEventId = StoredText.label(sourceEventId, EVENT_ID_COLUMN);
        String storedPayload = rawPayload == null ? "" : StoredText.kept(rawPayload);
        String insert = """
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload, payload_removed_at, payload_removed_by)
                SELECT ?, ?, ?, ?, ?, ?, CASE WHEN CAST(? AS TEXT) IS NOT NULL THEN now() END, ?
                WHERE NOT EXISTS (SELECT 1 FROM unrouted_event WHERE source = ? AND outcome = ? AND status = 'OPEN' AND\s""";
        Object[] row = {storedSource, storedEventId, outcome, StoredText.label(step, STEP_COLUMN), StoredText.label(reason, REASON_LIMIT),
                storedPayload, removedBy, removedBy, storedSource, outcome};
        if (storedEventId != null) {
            jdbc.update(insert + "source_event_id = ?)", append(row, storedEventId));
        } else if (removedBy != null) {
            // Its payload is not kept (an erased customer's): nothing tells two such events apart, each keeps its row.
            jdbc.update(insert + "FALSE)", row);
        } else {
            // The open rows without an id are few (the partial index on (source, source_event_id) finds them); the payload tells them apart.
            jdbc.update(insert + "source_event_id IS NULL AND raw_payload = ?)", append(row, storedPayload));
        }
    }

    private static Object[] append(Object[] row, Object last) {
        Object[] all = java.util.Arrays.copyOf(row, row.length + 1);
        all[row.length] = last;
        return all;
    }

    private Unrouted toUnrouted(ResultSet row, int rowNum) throws SQLException {
        return new Unrouted(row.getLong("id"), row.getString("source"), row.getString("source_event_id"),
                row.getString("outcome"), row.getString("step"), row.getString("reason"), row.getString("status"),
                row.getInt("redrive_count"), row.getString("redrive_outcome"),
                row.getTimestamp("created_at").toInstant(), row.getTimestamp("updated_at").toInstant(),
                row.getString("raw_payload"));
    }

    /** An operator decided this quarantined event needs nothing more (e.g. test data); final. */
    public boolean dismiss(long id) {
        return jdbc.update("UPDATE unrouted_event SET status = 'DISMISSED', updated_at = now()"
                + " WHERE id = ? AND outcome = 'QUARANTINED' AND status = 'OPEN'", id) == 1;
    }
}
