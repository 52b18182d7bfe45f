package io.herald.ops;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
 * was sent late (flagged by the statement that records it SENT, {@link #lateCheckAt}) or was still not sent when the deadline passed
 * ({@link #flagMissed}, run by the send-windows route). Flagged deliveries are alerted like failures. Whether a late
 * message goes out at all is its type's late policy ({@link LateMessages}: the send-windows route runs its sweep first); only
 * those sent late (late: send) or still waiting for another reason are flagged here.
 */
@Component
public class SendWindows {

    private static final Logger log = LoggerFactory.getLogger(SendWindows.class);
    /** How long a delivery made after its deadline may take to go out before it is flagged as not sent in time. */
    static final Duration ARRIVED_LATE_GRACE = Duration.ofSeconds(10);

    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final HeraldMetrics metrics;

    private final Clock clock;

    public SendWindows(NotificationCatalog catalog, JdbcTemplate jdbc, HeraldMetrics metrics, Clock clock) {
        this.catalog = catalog;
        this.clock = clock;
        this.jdbc = jdbc;
        this.metrics = metrics;
    }

    /** The notification's deadline: when it occurred plus its type's window. */
    public Instant deadlineOf(CanonicalNotification notification) {
        return notification.occurredAt().plus(catalog.entry(notification.type()).window());
    }

    /**
     * Now by Herald's clock if a send now may be after the notification's window, else null: almost every send is on time,
     * which is known without the database; only for the others does the SENT statement compare the stored deadline (which
     * quiet hours may have moved later) and flag it (DeliveryLedger#sent).
     */
    public Instant lateCheckAt(CanonicalNotification notification) {
        Instant now = clock.instant();
        return notification.occurredAt() != null && !now.isBefore(deadlineOf(notification)) ? now : null;
    }

    /** A delivery was recorded SENT and flagged as sent after its window, in that statement: counted once. */
    public void sentAfterWindow(long deliveryId, CanonicalNotification notification, String channel) {
        metrics.windowMissed(notification.type(), channel);
        log.debug("Delivery {} ({} by {}) was sent after its window", deliveryId, notification.type(), channel);
    }

    /**
     * Flags deliveries still not sent when their deadline passed by Herald's clock, up to a batch per poll. Rows
     * another instance (or a delivery in progress) holds are skipped, not waited for, and taken at
     * a later poll; each row is flagged (and counted) once. A delivery made after its deadline (an event that arrived
     * late) is given {@link #ARRIVED_LATE_GRACE} to go out first, when it is flagged as sent after its window: flagged here
     * at once, it read "still PENDING at its deadline" a moment before it was sent.
     */
    public int flagMissed() {
        List<Map<String, Object>> missed = jdbc.queryForList("""
                UPDATE delivery d SET window_missed_at = now()
                FROM notification n
                WHERE n.id = d.notification_id
                  AND d.id IN (SELECT w.id FROM delivery w JOIN notification wn ON wn.id = w.notification_id
                               WHERE w.window_missed_at IS NULL AND w.state IN ('PENDING', 'RETRYING', 'PARKED', 'FAILED', 'UNCERTAIN')
                                 AND wn.window_deadline < ?
                                 AND (w.created_at < wn.window_deadline OR w.created_at < ?)
                               LIMIT 5000 FOR UPDATE OF w SKIP LOCKED)
                RETURNING d.id, d.state, d.channel, n.type""", java.sql.Timestamp.from(clock.instant()),
                java.sql.Timestamp.from(clock.instant().minus(ARRIVED_LATE_GRACE)));
        Map<String, Long> byKind = new TreeMap<>();
        for (Map<String, Object> row : missed) {
            metrics.windowMissed((String) row.get("type"), (String) row.get("channel"));
            byKind.merge(row.get("type") + " by " + row.get("channel") + " still " + row.get("state"), 1L, Long::sum);
        }
        if (!missed.isEmpty()) {
            // One line per poll, not per delivery: a backlog of old events would otherwise flood the log.
            log.warn("{} deliveries missed their send window while not sent: {}", missed.size(), byKind);
        }
        return missed.size();
    }
}
