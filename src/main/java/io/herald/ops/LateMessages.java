package io.herald.ops;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.LatePolicy;
import io.herald.schedule.ScheduledSends;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The late-message policy (issue 14 point 5; config/catalog.yaml {@code late}, {@code valid-until}). A message is late when
 * its type's window has passed since the event, or when the time its data names in valid-until (e.g. the next payment
 * attempt a payment-failed notice announces) has passed. Then, per type: send (the default) lets it go out, flagged as a
 * window miss (SendWindows); drop ends it EXPIRED, never sent, with the reason in words, counted and alerted; hold keeps it
 * HELD until an operator sends or dismisses it (ScheduledSends). Checked where a message could go out late: at dispatch
 * ({@link #stoppedAtDispatch}), just before each send ({@link #beforeSending}: a delivery that waited queued, parked or
 * scheduled), and by the send-window sweep ({@link #sweep}: parked and queued ones end at once instead of waiting for their
 * next attempt). An operator's "send now" of a waiting notification overrides the policy: a person decided.
 */
@Component
public class LateMessages {

    private static final Logger log = LoggerFactory.getLogger(LateMessages.class);
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
    private static final int SWEEP_BATCH = 500;

    private final NotificationCatalog catalog;
    private final DeliveryLedger ledger;
    private final ScheduledSends scheduledSends;
    private final HeraldMetrics metrics;
    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final Clock clock;

    public LateMessages(NotificationCatalog catalog, DeliveryLedger ledger, ScheduledSends scheduledSends, HeraldMetrics metrics,
                        JdbcTemplate jdbc, ObjectMapper json, Clock clock) {
        this.catalog = catalog;
        this.ledger = ledger;
        this.scheduledSends = scheduledSends;
        this.metrics = metrics;
        this.jdbc = jdbc;
        this.json = json;
        this.clock = clock;
    }

    /**
     * Why this notification is late at {@code now}, in words, with its policy ("billing.payment_failed is only worth sending
     * within 1 hour of the event (window PT1H, late: drop); the event happened at ..., it was still waiting at ..."); null
     * when it is not late (or its type sends late messages anyway, which SendWindows flags).
     */
    public String lateness(CanonicalNotification notification, Instant now) {
        return lateness(notification, now, null);
    }

    /**
     * As {@link #lateness(CanonicalNotification, Instant)}, with the window's end as stored with the notification
     * ({@code deadline}; null: the event's time plus the window). The stored one is later when Herald itself made the
     * notification wait (quiet hours move it to the end of the wait plus the window): such a message is not late for the
     * wait Herald chose.
     */
    String lateness(CanonicalNotification notification, Instant now, Instant deadline) {
        LatePolicy policy = catalog.latePolicy(notification.type());
        if (policy.sendsLate()) {
            return null;
        }
        NotificationCatalog.Entry entry = catalog.entry(notification.type());
        String waiting = "it was still waiting at " + WHEN.format(now);
        Instant validUntil = validUntil(notification, policy);
        if (validUntil != null && !now.isBefore(validUntil)) {
            return notification.type() + " names a time that has passed (data." + policy.validUntil() + " " + WHEN.format(validUntil)
                    + "; valid-until, late: " + policy.late() + "), so it would read as if that time were still to come; " + waiting;
        }
        Instant windowEnds = deadline != null ? deadline
                : notification.occurredAt() == null ? null : notification.occurredAt().plus(entry.window());
        if (windowEnds != null && !now.isBefore(windowEnds)) {
            boolean postponed = notification.occurredAt() != null && windowEnds.isAfter(notification.occurredAt().plus(entry.window()));
            return notification.type() + " is only worth sending within " + FailureGroups.human(entry.window()) + " of the event (window "
                    + entry.window() + ", late: " + policy.late() + "); the event happened at " + WHEN.format(notification.occurredAt())
                    + (postponed ? ", its window, counted from the end of its wait, ended at " + WHEN.format(windowEnds) : "")
                    + ", " + waiting;
        }
        return null;
    }

    /**
     * Dispatch, for a notification about to be queued as {@code deliveries}: when it is already late and its type drops or
     * holds late messages, its deliveries are recorded EXPIRED (drop) or HELD for an operator (hold) instead, and true says
     * there is nothing to queue. False (the usual case, decided without the database): queue it.
     */
    public boolean stoppedAtDispatch(CanonicalNotification notification, long notificationId, List<DeliveryLedger.Queued> deliveries) {
        String lateness = lateness(notification, clock.instant());
        if (lateness == null) {
            return false;
        }
        List<String> channels = deliveries.stream().map(DeliveryLedger.Queued::channel).toList();
        String policy = catalog.latePolicy(notification.type()).late();
        if ("drop".equals(policy)) {
            for (String channel : ledger.expireBeforeQueued(deliveries, dropped(lateness))) {
                metrics.lateMessage(notification.type(), channel, policy);
            }
        } else {
            scheduledSends.schedule(List.of(new ScheduledSends.Schedule(notificationId, null, held(lateness), null, deliveries)));
            if (ledger.markLate(notificationId) > 0) {   // 0: held already (the notification read again), counted then
                channels.forEach(channel -> metrics.lateMessage(notification.type(), channel, policy));
            }
        }
        log.info("Notification {} ({}) not queued, late: {}", notificationId, notification.type(), policy);
        return true;
    }

    /**
     * Just before a delivery is sent (ChannelDelivery): null to send it; otherwise the delivery was stopped by its type's
     * policy (EXPIRED or HELD, recorded) and the reason says why. Only a late-looking message costs a database round trip.
     */
    public String beforeSending(CanonicalNotification notification, long notificationId, String channel) {
        Instant now = clock.instant();
        if (lateness(notification, now) == null || sentNowByAnOperator(notificationId)) {
            return null;
        }
        String lateness = lateness(notification, now, storedDeadline(notificationId));
        return lateness == null ? null : stop(notification, notificationId, channel, lateness);
    }

    /** The window's end stored with the notification (moved later when Herald made it wait), or null. */
    private Instant storedDeadline(long notificationId) {
        return jdbc.queryForList("SELECT window_deadline FROM notification WHERE id = ?", Timestamp.class, notificationId).stream()
                .filter(java.util.Objects::nonNull).map(Timestamp::toInstant).findFirst().orElse(null);
    }

    /**
     * The send-window sweep (routes/failure-alerts.camel.yaml, send-windows): deliveries of drop and hold types still waiting
     * to be sent (queued, retrying, parked; not being sent) that have become late are stopped now, so a parked one does not
     * wait for its next attempt only to be dropped then. Up to a batch per poll; returns how many it stopped.
     */
    public int sweep() {
        Instant now = clock.instant();
        int stopped = 0;
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            LatePolicy policy = catalog.latePolicy(entry.type());
            if (policy.sendsLate()) {
                continue;
            }
            List<Map<String, Object>> candidates;
            try {
                candidates = candidates(entry.type(), policy, now);
            } catch (org.springframework.dao.DataAccessException e) {
                if (io.herald.kafka.InfrastructureFaults.isInfrastructure(e)) {
                    throw e;   // PostgreSQL is away: the sweep is tried again, as a whole
                }
                // A value PostgreSQL cannot read as a time in one notification's valid-until field stops this type's query,
                // never the other types' sweep and the missed-window flags after it.
                log.warn("The late-message sweep skipped {} this time: its waiting notifications could not be checked ({})",
                        entry.type(), e.getMostSpecificCause().getMessage());
                continue;
            }
            for (Map<String, Object> row : candidates) {
                CanonicalNotification notification = read((String) row.get("canonical"));
                if (notification == null) {
                    continue;
                }
                Timestamp deadline = (Timestamp) row.get("window_deadline");
                String lateness = lateness(notification, now, deadline == null ? null : deadline.toInstant());
                long notificationId = ((Number) row.get("notification_id")).longValue();
                if (lateness != null && stop(notification, notificationId, (String) row.get("channel"), lateness) != null) {
                    stopped++;
                }
            }
        }
        if (stopped > 0) {
            log.warn("{} late deliveries stopped by their type's late policy (drop: EXPIRED; hold: HELD for an operator)", stopped);
        }
        return stopped;
    }

    /** Applies the policy to one waiting delivery; returns why it is not sent, or null when it is to be sent after all. */
    private String stop(CanonicalNotification notification, long notificationId, String channel, String lateness) {
        String policy = catalog.latePolicy(notification.type()).late();
        if ("hold".equals(policy)) {
            // Held, it can still be cancelled by the event that makes it pointless (an invoice paid), as while it waited.
            String matchKey = catalog.cancelledBy(notification.type()).map(rule -> rule.matchKey(notification)).orElse(null);
            ScheduledSends.LateHold hold = scheduledSends.holdLate(notificationId, channel, held(lateness), matchKey);
            if ("SENT_NOW".equals(hold.state()) || ScheduledSends.NOT_WAITING.equals(hold.state())) {
                return null;   // an operator already said send it; or it no longer waits (being sent, or settled): nothing to stop
            }
            if ("HELD".equals(hold.state())) {
                metrics.lateMessage(notification.type(), channel, policy);
                hold.heldWith().forEach(waiting -> metrics.lateMessage(notification.type(), waiting, policy));
                return held(lateness);
            }
            // Dismissed or cancelled by an operator while this channel still waited: it is not sent either.
            lateness = lateness + "; the notification was already " + hold.state().toLowerCase(Locale.ROOT) + " by an operator";
        }
        String reason = dropped(lateness);
        if (ledger.stopLate(notificationId, channel, "EXPIRED", reason)) {
            metrics.lateMessage(notification.type(), channel, "drop");
        }
        return reason;
    }

    private boolean sentNowByAnOperator(long notificationId) {
        return scheduledSends.find(notificationId).map(waiting -> "SENT_NOW".equals(waiting.state())).orElse(false);
    }

    /**
     * Waiting deliveries of one type that look late at {@code now} by their stored deadline or their valid-until field (an
     * ISO time; anything else is left to the Java check), leaving out notifications an operator sent now.
     */
    private List<Map<String, Object>> candidates(String type, LatePolicy policy, Instant now) {
        Timestamp at = Timestamp.from(now);
        return jdbc.queryForList("""
                SELECT d.notification_id, d.channel, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical, n.window_deadline
                FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE d.state IN ('PENDING', 'RETRYING', 'PARKED') AND d.claim_token IS NULL AND n.type = ?
                  AND (n.window_deadline <= ?
                       OR CASE WHEN herald_canonical(n.id, n.received_at, n.canonical)->'data'->>CAST(? AS TEXT) ~ '^\\d{4}-\\d{2}-\\d{2}[Tt]'
                               THEN CAST(herald_canonical(n.id, n.received_at, n.canonical)->'data'->>CAST(? AS TEXT) AS TIMESTAMPTZ) END <= ?)
                  AND NOT EXISTS (SELECT 1 FROM scheduled_send s WHERE s.notification_id = d.notification_id AND s.state = 'SENT_NOW')
                ORDER BY d.id LIMIT ?""", type, at, policy.validUntil(), policy.validUntil(), at, SWEEP_BATCH);
    }

    private CanonicalNotification read(String canonical) {
        try {
            return json.readValue(canonical, CanonicalNotification.class);
        } catch (JsonProcessingException e) {
            log.warn("A waiting notification could not be read for the late-message check: {}", e.getOriginalMessage());
            return null;
        }
    }

    /** The time in data.&lt;valid-until&gt;, if the type names one and the notification carries an ISO-8601 time there. */
    private static Instant validUntil(CanonicalNotification notification, LatePolicy policy) {
        if (policy.validUntil() == null || notification.data() == null) {
            return null;
        }
        Object value = notification.data().get(policy.validUntil());
        if (value == null) {
            return null;   // e.g. Stripe will not retry again: nothing to go stale
        }
        try {
            return Instant.parse(String.valueOf(value));
        } catch (DateTimeParseException e) {
            try {
                return java.time.OffsetDateTime.parse(String.valueOf(value)).toInstant();
            } catch (DateTimeParseException notATime) {
                return null;
            }
        }
    }

    private static String dropped(String lateness) {
        return "not sent: " + lateness;
    }

    private static String held(String lateness) {
        return "held for an operator: " + lateness + "; send it or dismiss it";
    }
}
