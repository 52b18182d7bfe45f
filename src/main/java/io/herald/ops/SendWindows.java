package io.herald.ops;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Send windows (config/catalog.yaml, window per type): a message is worth sending until the event's
 * occurrence plus its window. The deadline is stored with the notification when it is created;
 * a delivery that misses it is flagged (delivery.window_missed_at) and counted once, whether it
 * was sent late ({@link #checkSent}) or was still not sent when the deadline passed
 * ({@link #flagMissed}, run by the send-windows route). Flagged deliveries are alerted like failures.
 */
@Component
public class SendWindows {

    private static final Logger log = LoggerFactory.getLogger(SendWindows.class);

    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final HeraldMetrics metrics;

    public SendWindows(NotificationCatalog catalog, JdbcTemplate jdbc, HeraldMetrics metrics) {
        this.catalog = catalog;
        this.jdbc = jdbc;
        this.metrics = metrics;
    }

    /** The notification's deadline: when it occurred plus its type's window. */
    public Instant deadlineOf(CanonicalNotification notification) {
        return notification.occurredAt().plus(catalog.entry(notification.type()).window());
    }

    /**
     * Called once a delivery was sent. Almost every send is on time, which is known without the
     * database; only a late-looking one is checked against the stored deadline and flagged. Never
     * throws: the message is already with the provider, and a flag must not turn it into a failure
     * (a late send missed here is still visible by sent_at > window_deadline).
     */
    public void checkSent(long deliveryId, CanonicalNotification notification, String channel) {
        try {
            if (notification.occurredAt() == null || Instant.now().isBefore(deadlineOf(notification))) {
                return;
            }
            int flagged = jdbc.update("""
                    UPDATE delivery d SET window_missed_at = d.sent_at FROM notification n
                    WHERE d.id = ? AND n.id = d.notification_id AND d.window_missed_at IS NULL AND d.sent_at > n.window_deadline""",
                    deliveryId);
            if (flagged > 0) {
                metrics.windowMissed(notification.type(), channel);
                log.warn("Delivery {} ({} by {}) was sent after its window", deliveryId, notification.type(), channel);
            }
        } catch (RuntimeException e) {
            log.warn("Delivery {} was sent, but whether it missed its window could not be recorded: {}", deliveryId, e.getMessage());
        }
    }

    /**
     * Flags deliveries still not sent when their deadline passed. One statement: when several
     * instances run it at once, each row is flagged (and counted) by one of them only.
     */
    public int flagMissed() {
        List<Map<String, Object>> missed = jdbc.queryForList("""
                UPDATE delivery d SET window_missed_at = now()
                FROM notification n
                WHERE n.id = d.notification_id AND d.window_missed_at IS NULL
                  AND d.state IN ('PENDING', 'RETRYING', 'PARKED', 'FAILED', 'UNCERTAIN')
                  AND n.window_deadline < now()
                RETURNING d.id, d.state, d.channel, n.type""");
        for (Map<String, Object> row : missed) {
            metrics.windowMissed((String) row.get("type"), (String) row.get("channel"));
            log.warn("Delivery {} ({} by {}) missed its send window: still {}", row.get("id"), row.get("type"), row.get("channel"),
                    row.get("state"));
        }
        return missed.size();
    }
}
