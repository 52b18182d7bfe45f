package io.herald.dispatch;

import java.sql.Array;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.approval.Approvals;
import io.herald.digest.CustomerDigests;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.kafka.InfrastructureFaults;
import io.herald.ledger.DeadLetters;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.schedule.AppointmentReminders;
import io.herald.schedule.QuietHours;
import io.herald.schedule.ScheduledSends;
import io.herald.schedule.SupersedingEvents;
import io.herald.ops.LateMessages;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.DefaultExchange;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Dispatch of one Kafka poll's notifications (a batch): reads them, finds their ledger rows and
 * customers in one query, and queues one delivery per catalog channel in one statement
 * (DeliveryLedger.queue); the channels' senders take them from the ledger. First-success queues only
 * the first channel (its sender queues the next if it is not sent); the ops webhook of a type posted in
 * digests is recorded as waiting for its digest (direct:deliver-ops_digest). A notification that cannot
 * be dispatched at all (unreadable, not in the ledger, type no longer in the catalog) becomes a dead
 * letter on its own; the rest of the batch goes on. Nothing here waits on a provider. The batch's reads and
 * writes in the ledger (its notifications, their deliveries, holds, digests, ROUTED) are one transaction: a batch
 * costs one PostgreSQL transaction, and a batch that fails part-way leaves nothing half-queued.
 */
@Component
public class DispatchPlanner {

    public static final String NOTIFICATION = "heraldNotification";
    public static final String NOTIFICATION_ID = "heraldNotificationId";
    /** The customer's directory entry, read once for all the notification's channels (absent if not in the directory). */
    public static final String CUSTOMER = "heraldCustomer";

    private static final String OPS_WEBHOOK = "ops_webhook";

    private final ObjectMapper json;
    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final CustomerDirectory directory;
    private final DeliveryLedger ledger;
    private final NotificationLedger notifications;
    private final ChannelSenders senders;
    private final CamelContext camel;
    private final ProducerTemplate producer;
    private final Approvals approvals;
    private final AppointmentReminders reminders;
    private final CustomerDigests digests;
    private final QuietHours quietHours;
    private final ScheduledSends scheduled;
    private final SupersedingEvents superseding;
    private final LateMessages lateMessages;
    private final TransactionTemplate transaction;

    public DispatchPlanner(ObjectMapper json, NotificationCatalog catalog, JdbcTemplate jdbc, CustomerDirectory directory,
                           DeliveryLedger ledger, NotificationLedger notifications, ChannelSenders senders, CamelContext camel, ProducerTemplate producer,
                           Approvals approvals, AppointmentReminders reminders, CustomerDigests digests, QuietHours quietHours,
                           ScheduledSends scheduled, SupersedingEvents superseding, LateMessages lateMessages, TransactionTemplate transaction) {
        this.transaction = transaction;
        this.digests = digests;
        this.approvals = approvals;
        this.reminders = reminders;
        this.quietHours = quietHours;
        this.scheduled = scheduled;
        this.superseding = superseding;
        this.lateMessages = lateMessages;
        this.json = json;
        this.catalog = catalog;
        this.jdbc = jdbc;
        this.directory = directory;
        this.ledger = ledger;
        this.notifications = notifications;
        this.senders = senders;
        this.camel = camel;
        this.producer = producer;
    }

    /** A record of the batch, read as a notification; {@code record} is the Kafka record it came in (its topic, partition, offset). */
    private record Read(String raw, CanonicalNotification notification, Exchange record) {
    }

    private record Known(long notificationId, Customer customer) {
    }

    private record DeadLetter(String raw, Exception cause, Exchange record) {
    }

    /** What the batch's transaction left to do once committed: the ops digest waits to record and the channels to wake. */
    private record Planned(List<Exchange> digestWaits, Set<String> woken) {
    }

    /**
     * Queues the batch's deliveries in the ledger, records its digest waits and dead letters; the
     * route commits the offsets afterwards. Safe to run again for the same records (after a crash or
     * a retried step): rows already queued or settled stay as they are.
     */
    public void dispatch(Exchange batch) throws Exception {
        List<Read> readable = new ArrayList<>();
        List<DeadLetter> deadLetters = new ArrayList<>();
        for (Exchange record : records(batch)) {
            String raw = record.getMessage().getBody(String.class);
            try {
                CanonicalNotification notification = json.readValue(raw == null ? "" : raw, CanonicalNotification.class);
                if (notification == null || notification.idempotencyKey() == null) {
                    throw new IllegalStateException("the message has no idempotencyKey: it is not a canonical notification;"
                            + " it was not sent to anyone. Check what published it to the notifications topic");
                }
                readable.add(new Read(raw, notification, record));
            } catch (JsonProcessingException | IllegalStateException e) {
                deadLetters.add(new DeadLetter(raw, e, record));
            }
        }
        Planned done = transaction.execute(status -> queue(readable, deadLetters));   // one transaction for the batch
        for (Exchange wait : done.digestWaits()) {
            producer.send("direct:deliver-ops_digest", wait);
            if (wait.getException() != null) {
                throw wait.getException();   // the database is not there: the whole batch is tried again
            }
        }
        for (DeadLetter deadLetter : deadLetters) {
            deadLetter(deadLetter.raw(), deadLetter.cause(), deadLetter.record());
        }
        senders.wake(done.woken());
    }

    /**
     * The batch's ledger work, run in the batch's one transaction: finds the notifications and their customers, then
     * queues, holds, digests and marks them ROUTED; one that cannot be dispatched goes to {@code deadLetters}.
     */
    private Planned queue(List<Read> readable, List<DeadLetter> deadLetters) {
        Map<String, Known> known = known(readable);
        Map<Long, CanonicalNotification> dispatching = new java.util.HashMap<>();
        readable.forEach(read -> Optional.ofNullable(known.get(read.notification().idempotencyKey()))
                .ifPresent(row -> dispatching.put(row.notificationId(), read.notification())));
        Map<Long, String> superseded = superseding.alreadySuperseded(dispatching);   // received first: events out of order
        List<DeliveryLedger.Queued> queued = new ArrayList<>();
        List<Exchange> digestWaits = new ArrayList<>();
        List<Approvals.Hold> held = new ArrayList<>();
        List<CustomerDigests.Event> digested = new ArrayList<>();
        List<QuietHours.Held> quiet = new ArrayList<>();
        List<CanonicalNotification> routed = new ArrayList<>();
        Set<Long> deadLettered = new java.util.HashSet<>();   // stay RECEIVED here; deadLetter() marks them DEAD_LETTER
        Set<String> woken = new LinkedHashSet<>();
        Set<String> notOnItsWay = new java.util.HashSet<>();   // superseded, late or awaiting an approver: supersedes none of its own kind
        for (Read read : readable) {
            CanonicalNotification notification = read.notification();
            Known ledgerRow = known.get(notification.idempotencyKey());
            if (ledgerRow == null) {
                deadLetters.add(new DeadLetter(read.raw(), new IllegalStateException("notification " + notification.idempotencyKey()
                        + " is not in the ledger: it did not come through Herald's intake"), read.record()));
                continue;
            }
            NotificationCatalog.Entry entry;
            try {
                entry = catalog.entry(notification.type());
            } catch (InvalidNotification e) {
                deadLetters.add(new DeadLetter(read.raw(), e, read.record()));
                deadLettered.add(ledgerRow.notificationId());
                continue;
            }
            List<String> channels = entry.firstSuccess() ? entry.channels().subList(0, 1) : entry.channels();
            List<DeliveryLedger.Queued> deliveries = channels.stream().map(channel -> queued(entry, ledgerRow, channel, notification)).toList();
            try {   // appointment reminders booked, moved or cancelled; a confirmation for a started appointment is not sent (io.herald.schedule)
                if (reminders.dispatch(notification, ledgerRow.notificationId(), deliveries)) {
                    continue;
                }
            } catch (InvalidNotification e) {
                deadLetters.add(new DeadLetter(read.raw(), e, read.record()));
                deadLettered.add(ledgerRow.notificationId());
                continue;
            }
            routed.add(notification);   // what it supersedes is cancelled even while it awaits approval itself
            String approvalRule = Approvals.holdReason(entry, notification);
            String supersededBecause = superseded.get(ledgerRow.notificationId());
            if (supersededBecause != null || approvalRule != null) {
                notOnItsWay.add(notification.idempotencyKey());
            }
            if (supersededBecause != null) {
                // Made pointless by one already received (events out of order), before the late policy looks at it: nothing for
                // the customer; the team's post goes as usual, unless the type needs approval (nothing is left to approve).
                deliveries = superseding.cancelAtDispatch(ledgerRow.notificationId(), deliveries, approvalRule != null, supersededBecause);
                channels = deliveries.stream().map(DeliveryLedger.Queued::channel).toList();
                if (deliveries.isEmpty()) {
                    continue;
                }
            }
            if (lateMessages.stoppedAtDispatch(notification, ledgerRow.notificationId(), deliveries)) {
                notOnItsWay.add(notification.idempotencyKey());
                continue;   // already late: dropped (EXPIRED) or held for an operator, per its type's late policy
            }
            if (approvalRule != null && supersededBecause == null) {   // held AWAITING_APPROVAL: queued only once approved (io.herald.approval)
                held.add(new Approvals.Hold(ledgerRow.notificationId(), approvalRule, deliveries));
                continue;
            }
            if (supersededBecause == null && catalog.digest(notification.type()) != null) {   // customer channels in its digest (io.herald.digest)
                digested.add(new CustomerDigests.Event(ledgerRow.notificationId(), notification,
                        deliveries.stream().filter(d -> !OPS_WEBHOOK.equals(d.channel())).toList()));
                channels = channels.contains(OPS_WEBHOOK) ? List.of(OPS_WEBHOOK) : List.of();
            }
            // Inside its category's quiet hours for this customer: the customer channels wait until they end (io.herald.schedule).
            Optional<QuietHours.Wait> wait = quietHours.waitFor(entry, notification, ledgerRow.customer());
            List<DeliveryLedger.Queued> waiting = new ArrayList<>();
            for (String channel : channels) {
                if (wait.isPresent() && !OPS_WEBHOOK.equals(channel)) {
                    waiting.add(queued(entry, ledgerRow, channel, notification));
                } else if (OPS_WEBHOOK.equals(channel) && !entry.opsEach()) {
                    digestWaits.add(digestWait(notification, ledgerRow));
                } else {
                    queued.add(queued(entry, ledgerRow, channel, notification));
                    woken.add(channel);
                }
            }
            wait.filter(w -> !waiting.isEmpty()).ifPresent(w -> quiet.add(w.of(ledgerRow.notificationId(), waiting)));
        }
        ledger.queue(queued);
        approvals.hold(held);
        digests.place(digested);
        holdForQuietHours(quiet);
        superseding.cancelSuperseded(routed, notOnItsWay);   // after the holds: a batch with the notice and what supersedes it cancels it
        notifications.markRouted(known.values().stream().map(Known::notificationId).filter(id -> !deadLettered.contains(id)).toList());
        return new Planned(digestWaits, woken);
    }

    /**
     * A delivery as dispatch queues it (or holds, schedules or digests it instead), recording the channel a first-success
     * chain tries after it, so a chain a crash cuts after this step is followed (ChainsCutOff) however the step was released.
     * The ops webhook goes to the internal team, not the customer: no per-customer order to keep there.
     */
    private static DeliveryLedger.Queued queued(NotificationCatalog.Entry entry, Known ledgerRow, String channel, CanonicalNotification notification) {
        return new DeliveryLedger.Queued(ledgerRow.notificationId(), channel, OPS_WEBHOOK.equals(channel) ? null : notification.customerId(),
                entry.nextAfter(channel));
    }

    /** Held for their quiet hours: their customer deliveries wait SCHEDULED until they end, their send windows counted from then. */
    private void holdForQuietHours(List<QuietHours.Held> held) {
        if (held.isEmpty()) {
            return;
        }
        scheduled.schedule(held.stream().map(QuietHours.Held::send).toList());
        held.forEach(h -> notifications.postponeDeadline(h.send().notificationId(), h.deadline()));   // Herald chose the delay
    }

    /**
     * Something unexpected stopped the whole batch (not the database or the broker: those are waited for). Nothing of it
     * was kept (one transaction), so its notifications are dispatched again one at a time, each in its own transaction:
     * only one that fails again becomes a dead letter with its reason, and the others go out (one bad notification never
     * takes the other customers' of its batch with it). An outage met meanwhile fails the batch, to be read again.
     */
    public void dispatchOneByOne(Exchange batch) throws Exception {
        for (Exchange record : records(batch)) {
            try {
                dispatch(record);
            } catch (Exception e) {
                if (InfrastructureFaults.isInfrastructure(e)) {
                    throw e;
                }
                deadLetter(record.getMessage().getBody(String.class), e, record);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Exchange> records(Exchange batch) {
        Object body = batch.getMessage().getBody();
        return body instanceof List<?> list ? (List<Exchange>) list : List.of(batch);
    }

    /** The ledger id and the directory entry of every notification of the batch, in one query. */
    private Map<String, Known> known(List<Read> readable) {
        Map<String, Known> known = new HashMap<>();
        if (readable.isEmpty()) {
            return known;
        }
        String[] keys = readable.stream().map(read -> read.notification().idempotencyKey()).distinct().toArray(String[]::new);
        jdbc.query(con -> {
            var statement = con.prepareStatement("""
                    SELECT n.id AS notification_id, n.idempotency_key, c.* FROM notification n
                    LEFT JOIN customer c ON c.customer_id = n.customer_id
                    WHERE n.idempotency_key = ANY(?)""");
            Array array = con.createArrayOf("varchar", keys);
            statement.setArray(1, array);
            return statement;
        }, row -> {
            Customer customer = row.getString("customer_id") == null ? null : directory.toCustomer(row, 0);
            known.put(row.getString("idempotency_key"), new Known(row.getLong("notification_id"), customer));
        });
        return known;
    }

    private Exchange digestWait(CanonicalNotification notification, Known ledgerRow) {
        Exchange wait = new DefaultExchange(camel);
        wait.setProperty(NOTIFICATION, notification);
        wait.setProperty(NOTIFICATION_ID, ledgerRow.notificationId());
        if (ledgerRow.customer() != null) {
            wait.setProperty(CUSTOMER, ledgerRow.customer());
        }
        return wait;
    }

    /** One notification to the dead-letter store and topic (direct:dispatch-dead-letter), with its reason. */
    private void deadLetter(String raw, Exception cause, Exchange record) throws Exception {
        Exchange letter = new DefaultExchange(camel);
        letter.getMessage().setBody(raw == null ? "" : raw);
        letter.setProperty("heraldRaw", raw == null ? "" : raw);
        letter.setProperty(Exchange.EXCEPTION_CAUGHT, cause);
        DeadLetters.readFrom(letter, record);   // the same record read again (a rebalance, a batch tried again) is kept once
        producer.send("direct:dispatch-dead-letter", letter);
        if (letter.getException() != null) {
            throw letter.getException();
        }
        String key = idempotencyKeyOf(raw);
        if (key != null) {
            notifications.deadLettered(key);   // in the ledger (it came through intake): its state says so
        }
    }

    private String idempotencyKeyOf(String raw) {
        try {
            JsonNode key = raw == null ? null : json.readTree(raw).get("idempotencyKey");
            return key != null && key.isTextual() ? key.asText() : null;
        } catch (JsonProcessingException unreadable) {
            return null;
        }
    }
}
