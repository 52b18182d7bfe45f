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

    public Optional<String> ofNotification(long notificationId) {
        return removal("notification", notificationId);
    }

    public Optional<String> ofEvent(long eventId) {
        return removal("unrouted_event", eventId);
    }

    private Optional<String> removal(String table, long id) {
        return jdbc.query("SELECT payload_removed_by, payload_removed_at FROM " + table + " WHERE id = ? AND payload_removed_at IS NOT NULL",
                (row, n) -> PayloadRemoved.of(row.getString(1), row.getTimestamp(2)), id).stream().findFirst();
    }
}
