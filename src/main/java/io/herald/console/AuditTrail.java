package io.herald.console;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import io.herald.ledger.StoredText;
import io.herald.logging.Masking;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Every operator action, kept: who, when, what, on which delivery or event, the comment and the outcome. */
@Component
public class AuditTrail {

    public record Action(long id, Instant actedAt, String actor, String action, String target, long targetId,
                         Long notificationId, String comment, String outcome) {
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
                INSERT INTO operator_action (acted_at, actor, action, target, target_id, notification_id, comment, outcome)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""", Long.class,
                java.sql.Timestamp.from(actedAt), StoredText.label(actor, ACTOR_CHARS), action, target, targetId, notificationId, blankToNull(comment), outcome);
    }

    /**
     * An erasure of the customer these notifications were for: an email address or phone number an operator quoted in an
     * action's comment or outcome ("jenny@… asked for a copy") is removed; the actions stay, with who, when and what.
     * Returns how many actions changed.
     */
    public int eraseAddresses(Collection<Long> notificationIds) {
        List<Object[]> changed = new ArrayList<>();
        jdbc.query("SELECT id, comment, outcome FROM operator_action WHERE notification_id = ANY(?)",
                ps -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", notificationIds.toArray())), row -> {
            String comment = row.getString("comment");
            String outcome = row.getString("outcome");
            String erasedComment = comment == null ? null : Masking.withoutAddresses(comment, "(erased)");
            String erasedOutcome = outcome == null ? null : Masking.withoutAddresses(outcome, "(erased)");
            if (!java.util.Objects.equals(comment, erasedComment) || !java.util.Objects.equals(outcome, erasedOutcome)) {
                changed.add(new Object[] {erasedComment, erasedOutcome, row.getLong("id")});
            }
        });
        if (!changed.isEmpty()) {
            jdbc.batchUpdate("UPDATE operator_action SET comment = ?, outcome = ? WHERE id = ?", changed);
        }
        return changed.size();
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
                notification, row.getString("comment"), row.getString("outcome"));
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }
}
