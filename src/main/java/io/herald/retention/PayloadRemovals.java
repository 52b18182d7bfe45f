package io.herald.retention;

import java.util.Optional;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Whether a notification's or a quarantined event's payload was removed (retention, erasure), in words; for the actions that need it. */
@Component
public class PayloadRemovals {

    private final JdbcTemplate jdbc;

    public PayloadRemovals(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Removed one by one (its payload_removed_at) or with its month's payload partitions (V38: notification_payload_removal). */
    public Optional<String> ofNotification(long notificationId) {
        return jdbc.query("SELECT removed_by, removed_at FROM notification_payload_removal WHERE notification_id = ?",
                (row, n) -> PayloadRemoved.of(row.getString(1), row.getTimestamp(2)), notificationId).stream().findFirst();
    }

    public Optional<String> ofEvent(long eventId) {
        return removal("unrouted_event", eventId);
    }

    private Optional<String> removal(String table, long id) {
        return jdbc.query("SELECT payload_removed_by, payload_removed_at FROM " + table + " WHERE id = ? AND payload_removed_at IS NOT NULL",
                (row, n) -> PayloadRemoved.of(row.getString(1), row.getTimestamp(2)), id).stream().findFirst();
    }
}
