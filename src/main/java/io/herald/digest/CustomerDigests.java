package io.herald.digest;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.dispatch.ChannelSenders;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.schedule.ScheduledSends;
import io.herald.schedule.SupersedingEvents;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Dispatch's side of customer digests (catalog {@code digest: {window: PT2M, key: ticketId}}), and the one owner of tables
 * customer_digest and customer_digest_member. A notification of such a type either
 * <ul>
 *   <li>opens a digest for its customer and key: its own deliveries wait SCHEDULED until the window ends
 *       ({@link ScheduledSends}, so the console lists it, an operator can send it now or cancel it, and the durable timer
 *       fires it once across instances), or</li>
 *   <li>joins the open digest of its customer and key: its deliveries end DIGESTED, their reason naming the notification
 *       whose message carries them.</li>
 * </ul>
 * Each notification is placed in one transaction. Joining locks the digest and the opening notification's scheduled_send
 * row (FOR SHARE): firing, sending now and cancelling update that row, so they wait for a join in progress, and a
 * notification arriving after them finds the digest no longer scheduled and opens a new one. The window is over when
 * Herald's clock passes closes_at, whether or not the timer has fired yet. Two notifications opening a digest at once
 * (two instances) meet at the unique index customer_digest_one_open: one insert wins, the other notification joins it.
 * A notification already in a digest (read again after a crash, a batch dispatched twice) is left as it is.
 * <p>A type whose cancelled-by names itself (the ticket's status): one that arrives after a newer one of its kind was
 * told (the newer one's digest went out, or it is on its way) would open a new digest telling an older state; it is
 * cancelled instead, with the reason (SupersedingEvents). One that finds a digest open joins it: the digest lists its
 * updates in the order they occurred and ends with the newest.
 */
@Component
public class CustomerDigests {

    /** A notification of a digest type and the deliveries dispatch would have queued for its customer channels. */
    public record Event(long notificationId, CanonicalNotification notification, List<DeliveryLedger.Queued> deliveries) {
    }

    private static final Logger log = LoggerFactory.getLogger(CustomerDigests.class);
    private static final int LONGEST_KEY = 140;   // digest:<type>:<customer>:<key> fits scheduled_send.match_key (300)
    private static final int TRIES = 3;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final DeliveryLedger ledger;
    private final ScheduledSends scheduledSends;
    private final NotificationCatalog catalog;
    private final ChannelSenders senders;
    private final SupersedingEvents superseding;
    private final Clock clock;

    public CustomerDigests(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger ledger, ScheduledSends scheduledSends,
                           NotificationCatalog catalog, ChannelSenders senders, SupersedingEvents superseding, Clock clock) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.ledger = ledger;
        this.scheduledSends = scheduledSends;
        this.catalog = catalog;
        this.senders = senders;
        this.superseding = superseding;
        this.clock = clock;
    }

    /** Places each notification in its digest, in order (one transaction each). */
    public void place(List<Event> events) {
        for (Event event : events) {
            place(event);
        }
    }

    private void place(Event event) {
        CanonicalNotification notification = event.notification();
        NotificationCatalog.Digest rule = catalog.digest(notification.type());
        String key = notification.customerId() == null ? null : keyOf(notification, rule.key());
        if (key == null) {
            // Nothing to group it by: it goes out on its own, as without a digest.
            ledger.queue(event.deliveries());
            senders.wake(event.deliveries().stream().map(DeliveryLedger.Queued::channel).distinct().toList());
            log.info("Notification {} ({}) has no usable {} to group it by: sent on its own, not in a digest", event.notificationId(),
                    notification.type(), rule.key());
            return;
        }
        transaction.executeWithoutResult(status -> {
            if (!jdbc.queryForList("SELECT digest_id FROM customer_digest_member WHERE notification_id = ?", Long.class,
                    event.notificationId()).isEmpty()) {
                return;   // placed before (read again)
            }
            Instant now = clock.instant();
            for (int tries = 0; tries < TRIES; tries++) {
                Map<String, Object> open = jdbc.queryForList("""
                        SELECT d.id, d.opened_by, d.closes_at, s.state FROM customer_digest d
                        JOIN scheduled_send s ON s.notification_id = d.opened_by
                        WHERE d.type = ? AND d.customer_id = ? AND d.digest_key = ? AND d.open
                        FOR UPDATE OF d FOR SHARE OF s""", notification.type(), notification.customerId(), key)
                        .stream().findFirst().orElse(null);
                if (open != null) {
                    Instant closesAt = ((Timestamp) open.get("closes_at")).toInstant();
                    if ("SCHEDULED".equals(open.get("state")) && closesAt.isAfter(now)) {
                        join(event, ((Number) open.get("id")).longValue(), ((Number) open.get("opened_by")).longValue(), closesAt, rule, key, now);
                        return;
                    }
                    // Its window is over, or it was fired, sent now or cancelled: no longer open to newcomers.
                    jdbc.update("UPDATE customer_digest SET open = false WHERE id = ?", open.get("id"));
                }
                // Only if it would open one (asked on each try: another instance may have told a newer one meanwhile).
                String superseded = superseding.supersededBeforeOpening(event.notificationId(), notification, now);
                if (superseded != null) {   // a newer one of its kind was told already: this older one would contradict it
                    superseding.cancelAtDispatch(event.notificationId(), event.deliveries(), false, superseded);
                    return;
                }
                if (open(event, rule, key, now)) {
                    return;
                }
                // Another instance opened one for the same customer and key meanwhile: join it.
            }
            // Transient (InfrastructureFaults): the batch is dispatched again after a pause, never dead-lettered for this.
            throw new ConcurrencyFailureException("notification " + event.notificationId() + " could not be placed in a digest of "
                    + notification.type() + " after " + TRIES + " tries (other instances kept opening and closing it); dispatched again");
        });
    }

    /** Opens the digest (false: another one is open for this customer and key) and schedules its message for the window's end. */
    private boolean open(Event event, NotificationCatalog.Digest rule, String key, Instant now) {
        CanonicalNotification notification = event.notification();
        Instant closesAt = now.plus(rule.window());
        List<Long> opened = jdbc.queryForList("""
                INSERT INTO customer_digest (type, customer_id, digest_key, opened_by, closes_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING RETURNING id""", Long.class, notification.type(), notification.customerId(), key,
                event.notificationId(), Timestamp.from(closesAt));
        if (opened.isEmpty()) {
            return false;
        }
        jdbc.update("INSERT INTO customer_digest_member (notification_id, digest_id, joined_at) VALUES (?, ?, ?)",
                event.notificationId(), opened.get(0), Timestamp.from(now));
        scheduledSends.schedule(List.of(new ScheduledSends.Schedule(event.notificationId(), closesAt,
                "digest window " + rule.window() + " for " + rule.key() + " " + key + ": every " + notification.type()
                        + " of this customer and " + rule.key() + " until then goes out in this one message",
                matchKey(notification, key), event.deliveries())));
        return true;
    }

    private void join(Event event, long digestId, long openedBy, Instant closesAt, NotificationCatalog.Digest rule, String key, Instant now) {
        if (jdbc.update("INSERT INTO customer_digest_member (notification_id, digest_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                event.notificationId(), digestId, Timestamp.from(now)) == 0) {
            return;   // placed meanwhile by another instance
        }
        ledger.carriedByDigest(event.deliveries(), "sent in the digest of notification " + openedBy + " (" + rule.key() + " " + key
                + ", its window closes at " + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
                .withZone(java.time.ZoneOffset.UTC).format(closesAt) + "): that notification's message lists this one; see it for what was sent");
    }

    /** What the digest's scheduled send is known by: digest:&lt;type&gt;:&lt;customer&gt;:&lt;key&gt;. */
    static String matchKey(CanonicalNotification notification, String key) {
        return "digest:" + notification.type() + ":" + notification.customerId() + ":" + key;
    }

    /** data.&lt;key&gt;, else refs.&lt;key&gt;, as text; null when absent, blank or too long to group by. */
    static String keyOf(CanonicalNotification notification, String field) {
        Object value = notification.data() == null ? null : notification.data().get(field);
        if (value == null && notification.refs() != null) {
            value = notification.refs().get(field);
        }
        String text = value == null ? null : String.valueOf(value).strip();
        return text == null || text.isEmpty() || text.length() > LONGEST_KEY ? null : text;
    }
}
