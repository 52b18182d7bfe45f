package io.herald.console;

import java.time.Instant;
import java.util.List;

import io.herald.ledger.StoredText;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Every operator action, kept: who, when, what, on which delivery or event, the comment and the outcome, and the instance
 * that performed it (column instance: behind a load balancer any instance may answer a click).
 */
@Component
public class AuditTrail {

    /** {@code instance}: the Herald instance that performed it (null for actions recorded before V73). */
    public record Action(long id, Instant actedAt, String actor, String action, String target, long targetId,
                         Long notificationId, String comment, String outcome, String instance) {

        /** The same action with its free texts replaced (masked for viewers). */
        public Action withTexts(String comment, String outcome) {
            return new Action(id, actedAt, actor, action, target, targetId, notificationId, comment, outcome, instance);
        }

        /** Who did it, and where: "alice on herald-2" (behind a load balancer any instance may have answered the click). */
        public String actorAndInstance() {
            return instance == null ? actor : actor + " on " + instance;
        }
    }

    private final JdbcTemplate jdbc;

    public AuditTrail(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** operator_action.actor's length. */
    private static final int ACTOR_CHARS = 200;

    /**
     * Kept once the outcome is known, dated when the action started (so the timeline shows it before its effects). The actor is
     * cut to its column (an Alertmanager receiver's name can be longer): an audit entry never fails the action it records.
     */
    public long record(Instant actedAt, String actor, String action, String target, long targetId, Long notificationId, String comment,
                       String outcome) {
        return jdbc.queryForObject("""
                INSERT INTO operator_action (acted_at, actor, action, target, target_id, notification_id, comment, outcome, instance)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""", Long.class,
                java.sql.Timestamp.from(actedAt), StoredText.label(actor, ACTOR_CHARS), action, target, targetId, notificationId, blankToNull(comment), outcome,
                io.herald.web.InstanceName.NAME);
    }

    public List<Action> forNotification(long notificationId) {
        return jdbc.query("SELECT * FROM operator_action WHERE notification_id = ? ORDER BY id", (row, n) -> of(row), notificationId);
    }

    public List<Action> forTarget(String target, long targetId) {
        return jdbc.query("SELECT * FROM operator_action WHERE target = ? AND target_id = ? ORDER BY id", (row, n) -> of(row),
                target, targetId);
    }

    private static Action of(java.sql.ResultSet row) throws java.sql.SQLException {
        Long notification = row.getObject("notification_id", Long.class);
        return new Action(row.getLong("id"), row.getTimestamp("acted_at").toInstant(), row.getString("actor"),
                row.getString("action"), row.getString("target"), row.getLong("target_id"),
                notification, row.getString("comment"), row.getString("outcome"), row.getString("instance"));
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }
}
