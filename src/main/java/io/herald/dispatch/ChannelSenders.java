package io.herald.dispatch;

import java.io.IOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.DeliverySettings;
import io.herald.config.PerChannelSettings;
import io.herald.digest.DigestMessages;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import io.herald.receipts.Suppressions;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ServiceStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Each channel's sender (routes/channel-sender-template.camel.yaml) takes its work from the ledger, not
 * from Kafka: dispatch queues deliveries PENDING and commits its offsets, and the sender claims due
 * PENDING and PARKED rows in batches, at most herald.&lt;settings&gt;.max-in-flight sent at a time (and as many
 * again waiting for a sender thread), then runs each through its channel route on one of the
 * sender's own threads, where the channel's rate limit is kept right before the provider call
 * (ProviderPermits: permits shared by every instance). So no Kafka consumer waits on a provider or a
 * throttle, and a slow, failing or rate-limited provider only holds its own channel's threads.
 *
 * <p>A sender looks in the ledger when dispatch has woken it (new deliveries queued), when one of its
 * deliveries has finished (room again; a customer's next message may be free), and otherwise every
 * herald.delivery.due-check-ms (parked deliveries coming due, work another instance left behind).
 *
 * <p>While a channel's route (deliver-&lt;channel&gt;) is not started, an operator having suspended or stopped it in Hawtio
 * (or its file being reloaded), its sender claims nothing: the channel's deliveries stay due in the ledger, and go out at the
 * first claim after the route is started again. One claimed just before the route stopped is given back at once
 * ({@link #notStarted}), not left to its claim lease.
 */
@Component
public class ChannelSenders {

    private static final Logger log = LoggerFactory.getLogger(ChannelSenders.class);

    /**
     * The claimed ledger row a sender's exchange carries as its body. traceparent: tracing (issue 15); suppression: see
     * ChannelDelivery.SUPPRESSION; releasedBy: PENDING because its scheduled send's timer (FIRED) or an approver (APPROVED)
     * released it, null otherwise (QuietHoursBeforeSend).
     */
    public record Due(long deliveryId, long notificationId, String channel, String state, String canonical, Customer customer,
                      String traceparent, String suppression, String releasedBy, PushDevices.Devices pushDevices) {

        Due withSuppression(String reason) {
            return new Due(deliveryId, notificationId, channel, state, canonical, customer, traceparent, reason, releasedBy, pushDevices);
        }

        Due withPushDevices(PushDevices.Devices devices) {
            return new Due(deliveryId, notificationId, channel, state, canonical, customer, traceparent, suppression, releasedBy, devices);
        }
    }

    /** One channel's sender state in this instance. */
    private static final class Lane {
        final int maxInFlight;
        final AtomicInteger inFlight = new AtomicInteger();
        volatile boolean woken = true;
        volatile boolean backlog;
        volatile long lastLook;
        volatile long pausedUntil;
        volatile long lastWarning;
        volatile long lastNotStartedWarning;
        /** The channel's route was found not started at the last look: said once, in the log. */
        volatile boolean routeDown;

        Lane(int maxInFlight) {
            this.maxInFlight = maxInFlight;
        }
    }

    /** Outcomes after which a first-success notification queues its next channel. */
    private static final java.util.Set<String> CHAIN_MOVES_ON = java.util.Set.of("FAILED", "SKIPPED", "UNCERTAIN", "SENT", "DELIVERED");

    private final Map<String, Lane> lanes = new LinkedHashMap<>();
    private final DeliveryLedger ledger;
    private final CustomerDirectory directory;
    private final NotificationCatalog catalog;
    private final ObjectMapper json;
    private final HeraldMetrics metrics;
    private final Suppressions suppressions;
    private final long dueCheckMs;
    private final long claimIntervalMs;
    private final Duration lease;
    private final DigestMessages digests;
    private final TransactionTemplate transaction;
    private final ProviderPermits permits;
    /** A savepoint inside the claim's transaction: a suppression query that fails does not undo the claims. */
    private final TransactionTemplate savepoint;
    private final PushDevices pushDevices;
    private final OutcomeWrites outcomes;
    private final QuietHoursBeforeSend quietHours;
    private final CamelContext camel;

    public ChannelSenders(DeliveryLedger ledger, CustomerDirectory directory, NotificationCatalog catalog,
                          ObjectMapper json, HeraldMetrics metrics, DeliverySettings settings, PerChannelSettings channels,
                          Suppressions suppressions, DigestMessages digests, TransactionTemplate transaction, ProviderPermits permits,
                          OutcomeWrites outcomes, QuietHoursBeforeSend quietHours, CamelContext camel, PushDevices pushDevices) {
        this.pushDevices = pushDevices;
        this.camel = camel;
        this.outcomes = outcomes;
        this.quietHours = quietHours;
        this.permits = permits;
        this.transaction = transaction;
        this.savepoint = new TransactionTemplate(transaction.getTransactionManager());
        this.savepoint.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
        this.digests = digests;
        this.suppressions = suppressions;
        this.ledger = ledger;
        this.directory = directory;
        this.catalog = catalog;
        this.json = json;
        this.metrics = metrics;
        this.dueCheckMs = settings.dueCheckMs();
        this.claimIntervalMs = settings.claimIntervalMs();
        this.lease = settings.claimLease();
        for (String channel : ChannelSettings.CHANNELS) {
            lanes.put(channel, new Lane(channels.maxInFlight(channel)));   // herald.<settings>.max-in-flight, at least 1 (checked when bound)
        }
    }

    /**
     * Every channel's next deliveries to send, claimed for this instance, for the channel-senders route to hand to each
     * channel's sender route: for each channel, as many as it has room for, and nothing (without asking the database)
     * while its sender is full or has nothing new to look for. Every channel that looks is claimed in one transaction,
     * with the suppression checks of email and SMS (dispatch wakes all of a notification's channels at once, so one
     * transaction serves them all). A parked retry or a fired scheduled send that came due inside its customer's quiet hours
     * waits SCHEDULED (or PARKED) until they end, in the same transaction, and not handed over (QuietHoursBeforeSend:
     * judged in memory from the claimed rows, written only for those). The rate limit is kept right before each provider call
     * (ProviderPermits), not here.
     * While the database cannot be reached the senders that looked pause a second (a WARN line every 10 s) and try
     * again; nothing is lost, the rows stay in the ledger.
     */
    public List<Due> claimAll() {
        long now = System.currentTimeMillis();
        Map<String, Integer> looking = new LinkedHashMap<>();
        lanes.forEach((channel, lane) -> {
            int room = roomToLook(lane, now);
            if (room > 0 && routeStarted(channel, lane)) {
                looking.put(channel, room);
            }
        });
        if (looking.isEmpty()) {
            return List.of();
        }
        Map<String, List<Due>> claimed;
        Map<String, Integer> counted = new LinkedHashMap<>();
        try {
            claimed = transaction.execute(status -> {
                Map<String, List<Due>> rows = new LinkedHashMap<>();
                looking.forEach((channel, room) -> {
                    List<Due> due = ledger.claimDue(channel, room, lease, this::due);
                    counted.put(channel, due.size());
                    rows.put(channel, readPushDevices(channel, checkSuppressions(channel, quietHours.sendable(due))));
                });
                return rows;
            });
        } catch (RuntimeException e) {
            looking.keySet().forEach(channel -> paused(channel, now, e));
            return List.of();
        }
        List<Due> due = new ArrayList<>();
        claimed.forEach((channel, rows) -> {
            Lane lane = lanes.get(channel);
            lane.backlog = counted.get(channel).equals(looking.get(channel));   // a full batch: there may be more
            lane.inFlight.addAndGet(rows.size());
            due.addAll(rows);
        });
        return due;
    }

    /**
     * How many deliveries the channel's sender should claim now: 0 while it is full, paused or has nothing new to look
     * for. Up to max-in-flight being sent and as many again waiting on the sender's queue, so its threads never wait for
     * the next claim; claimed when at least half of that is free, so one claim serves many deliveries. It looks now if
     * the last claim was full (more are due), or if woken and idle; woken while sending, at most every claim-interval-ms
     * (one claim then serves every delivery that finished meanwhile); otherwise every due-check-ms.
     */
    private int roomToLook(Lane lane, long now) {
        int room = 2 * lane.maxInFlight - lane.inFlight.get();
        if (room < Math.max(1, lane.maxInFlight) || now < lane.pausedUntil) {
            return 0;
        }
        long sinceLast = now - lane.lastLook;
        boolean look = lane.backlog || sinceLast >= dueCheckMs
                || (lane.woken && (lane.inFlight.get() == 0 || sinceLast >= claimIntervalMs));
        if (!look) {
            return 0;
        }
        lane.woken = false;
        lane.backlog = false;
        lane.lastLook = now;
        return room;
    }

    /** The channel's route, deliver-&lt;channel&gt; (in_app: deliver-in-app). */
    static String routeOf(String channel) {
        return "deliver-" + channel.replace('_', '-');
    }

    /**
     * Whether the channel's route is started, so its sender may claim. While it is not (suspended or stopped in Hawtio), the
     * sender looks again at every tick, so it claims as soon as the route is started; the change is said once in the log.
     */
    private boolean routeStarted(String channel, Lane lane) {
        String route = routeOf(channel);
        ServiceStatus status = camel.getRouteController().getRouteStatus(route);
        if (status == ServiceStatus.Started) {
            if (lane.routeDown) {
                lane.routeDown = false;
                log.info("{} sender: route {} is started again; the {} deliveries waiting in the ledger go out now", channel, route, channel);
            }
            return true;
        }
        lane.woken = true;
        if (!lane.routeDown) {
            lane.routeDown = true;
            log.info("{} sender: route {} is {}; {} deliveries wait in the ledger, not claimed, until it is started", channel, route,
                    status == null ? "not there" : status.name().toLowerCase(java.util.Locale.ROOT), channel);
        }
        return false;
    }

    /**
     * A claimed delivery met its channel's route not running (suspended or stopped after the claim; the sender's call does not
     * wait for it, routes/channel-sender-template.camel.yaml): it goes back to the ledger, due at once, for the first claim
     * after the route is started, instead of waiting out its claim lease. One WARN per channel every 10 s at most.
     */
    public void notStarted(Exchange exchange, String channel) {
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        String route = routeOf(channel);
        Lane lane = lane(channel);
        long now = System.currentTimeMillis();
        boolean say = now - lane.lastNotStartedWarning > 10_000;
        if (say) {
            lane.lastNotStartedWarning = now;
        }
        try {
            if (deliveryId != null) {
                ledger.giveBackUnstarted(deliveryId);
            }
        } catch (RuntimeException e) {
            log.warn("{} sender: route {} is not running, and delivery {} cannot be given back to the ledger now ({}); it is sent"
                    + " once the route is started and its claim lease ({}) has ended", channel, route, deliveryId, e.getMessage(), lease);
            return;
        }
        if (say) {
            log.warn("{} sender: route {} is not running (suspended or stopped); delivery {} was not sent and is back in the ledger,"
                    + " where it waits until the route is started", channel, route, deliveryId);
        } else {
            log.debug("{} sender: route {} is not running; delivery {} is back in the ledger", channel, route, deliveryId);
        }
    }

    private void paused(String channel, long now, RuntimeException cause) {
        Lane lane = lanes.get(channel);
        lane.pausedUntil = now + 1000;
        lane.woken = true;
        if (now - lane.lastWarning > 10_000) {
            lane.lastWarning = now;
            log.warn("{} sender: cannot claim deliveries now ({}); trying again, nothing is lost: they stay in the ledger",
                    channel, cause.getMessage());
        }
    }

    /**
     * Push: the claimed batch's device records and dead tokens in one query (PushDevices.readWithClaim), so no delivery reads
     * them on its own. If that query fails (inside a savepoint, so the claims stand) each delivery reads them itself.
     */
    private List<Due> readPushDevices(String channel, List<Due> due) {
        if (due.isEmpty() || !"push".equals(channel)) {
            return due;
        }
        Map<Long, Customer> customers = new HashMap<>();
        due.forEach(one -> customers.put(one.deliveryId(), one.customer()));
        Map<Long, PushDevices.Devices> devices;
        try {
            devices = savepoint.execute(status -> pushDevices.readWithClaim(customers));
        } catch (RuntimeException e) {
            log.warn("push sender: the devices of a batch cannot be read now ({}); each delivery reads its own", e.getMessage());
            return due;
        }
        return due.stream().map(one -> one.withPushDevices(devices.get(one.deliveryId()))).toList();
    }

    /**
     * Email and SMS: the claimed batch's addresses against the suppression list in one query, so no delivery asks on its own.
     * If that query fails (inside a savepoint, so the claims stand) the deliveries go on unchecked and each checks itself
     * when it is prepared.
     */
    private List<Due> checkSuppressions(String channel, List<Due> due) {
        if (due.isEmpty() || !("email".equals(channel) || "sms".equals(channel))) {
            return due;
        }
        Map<Long, String> addresses = new LinkedHashMap<>();
        for (Due one : due) {
            if (one.customer() != null && Recipients.of(channel, one.customer()).present()) {
                addresses.put(one.deliveryId(), Recipients.of(channel, one.customer()).value());
            }
        }
        Map<String, String> reasons;
        try {
            reasons = savepoint.execute(status -> suppressions.reasonsFor(channel, addresses.values()));
        } catch (RuntimeException e) {
            log.warn("{} sender: the suppression list cannot be read for a batch now ({}); each delivery checks it on its own", channel,
                    e.getMessage());
            return due;
        }
        List<Due> checked = new ArrayList<>(due.size());
        for (Due one : due) {
            String address = addresses.get(one.deliveryId());
            checked.add(address == null ? one : one.withSuppression(reasons.getOrDefault(address, "")));
        }
        return checked;
    }

    private Due due(ResultSet row, int n) throws SQLException {
        Customer customer = row.getString("customer_id") == null ? null : directory.toCustomer(row, n);
        return new Due(row.getLong("delivery_id"), row.getLong("notification_id"), row.getString("channel"),
                row.getString("delivery_state"), row.getString("canonical"), customer,
                row.getString("traceparent"), null, row.getString("released_by"), null);   // tracing (issue 15)
    }

    /** Sets up a claimed delivery's exchange as its channel route expects it (the notification, its ledger id, the customer). */
    public void resume(Exchange exchange) throws IOException {
        Due due = exchange.getMessage().getBody(Due.class);
        permits.onItsWay(due.channel());   // counted until its rate-limit step (a sender reserving on its own takes for it too)
        exchange.setProperty(DispatchPlanner.NOTIFICATION, digests.carrying(due.notificationId(),   // a digest's events (io.herald.digest)
                json.readValue(due.canonical(), CanonicalNotification.class)));
        exchange.setProperty(DispatchPlanner.NOTIFICATION_ID, due.notificationId());
        exchange.setProperty(ChannelDelivery.DELIVERY_ID, due.deliveryId());
        if (due.customer() != null) {
            exchange.setProperty(DispatchPlanner.CUSTOMER, due.customer());
        }
        if (due.pushDevices() != null) {
            exchange.setProperty(PushDevices.READ_WITH_CLAIM, due.pushDevices());
        }
        if ("PARKED".equals(due.state())) {
            metrics.retry(due.channel());
        }
        exchange.getMessage().setBody(null);
        if (due.suppression() != null) {
            exchange.setProperty(ChannelDelivery.SUPPRESSION, due.suppression());
        }
        if (due.traceparent() != null) {   // tracing (issue 15): the channel route and provider call continue intake's trace
            exchange.getMessage().setHeader("traceparent", due.traceparent());
        }
    }

    /**
     * The delivery is finished, whatever its outcome: first-success moves on if needed (even through a database outage:
     * OutcomeWrites), and the slot is freed.
     */
    public void finished(Exchange exchange, String channel) {
        try {
            outcomes.untilWritten("The next channel after delivery " + exchange.getProperty(ChannelDelivery.DELIVERY_ID),
                    () -> afterAttempt(exchange));
        } finally {
            done(channel);
        }
    }

    /**
     * After the channel route: with strategy first-success, a channel that has ended queues the next
     * channel in catalog order: one that was not sent (FAILED, SKIPPED) or may not have been (UNCERTAIN
     * does not count as sent) so it is tried, one that was sent so the next is recorded SKIPPED as not
     * needed (its prepare finds the channel that sent it).
     */
    void afterAttempt(Exchange exchange) {
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        String channel = exchange.getProperty(ChannelDelivery.CHANNEL, String.class);
        if (notification == null || deliveryId == null || channel == null || !catalog.knows(notification.type())) {
            return;
        }
        if (!catalog.entry(notification.type()).firstSuccess()) {
            return;
        }
        moveOn(exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class), notification.type(), notification.customerId(), channel,
                ledger.state(deliveryId));
    }

    /**
     * With strategy first-success, a channel that ended in {@code state} queues the next channel in catalog order (the
     * ledger keeps one row per channel, so queueing it twice changes nothing). Also called for a delivery a crash left
     * SENDING once it is settled UNCERTAIN (StaleSendings): no sender is there to move on from it.
     */
    public void moveOn(long notificationId, String type, String customerId, String channel, String state) {
        if (type == null || !catalog.knows(type) || !catalog.entry(type).firstSuccess() || !CHAIN_MOVES_ON.contains(state)) {
            return;   // not first-success; still in progress (a resend's delivery), or PARKED (first-success never parks a delivery)
        }
        List<String> channels = catalog.entry(type).channels();
        int next = channels.indexOf(channel) + 1;
        if (next > 0 && next < channels.size()) {
            queueNext(notificationId, type, customerId, channels.get(next));
        }
    }

    /**
     * Queues a first-success notification's next channel, recording the channel after it (the catalog's, now) for its own
     * sender to move on to, or ChainsCutOff if that sender stops first; its sender is woken.
     */
    public void queueNext(long notificationId, String type, String customerId, String channel) {
        ledger.queue(List.of(new DeliveryLedger.Queued(notificationId, channel, customerId, nextAfter(type, channel))));
        wake(List.of(channel));
    }

    /** The channel after this one in a first-success type's catalog entry, or null (the last one, or not first-success). */
    public String nextAfter(String type, String channel) {
        return type == null || !catalog.knows(type) ? null : catalog.entry(type).nextAfter(channel);
    }

    /** The delivery has finished (whatever its outcome): its slot is free, and the sender looks again. */
    public void done(String channel) {
        permits.leave();
        Lane lane = lane(channel);
        if (lane.inFlight.decrementAndGet() < 0) {
            lane.inFlight.set(0);
            log.warn("{} sender: more deliveries finished than were claimed", channel);
        }
        lane.woken = true;
    }

    /** New deliveries were queued for these channels: their senders look at once. */
    public void wake(Collection<String> channels) {
        for (String channel : channels) {
            Lane lane = lanes.get(channel);
            if (lane != null) {
                lane.woken = true;
            }
        }
    }

    /** Deliveries this instance has claimed and not yet finished (sending or waiting for a sender thread), per channel. */
    public int inFlight(String channel) {
        return lane(channel).inFlight.get();
    }

    private Lane lane(String channel) {
        Lane lane = lanes.get(channel);
        if (lane == null) {
            throw new IllegalArgumentException("no sender for channel '" + channel + "'");
        }
        return lane;
    }
}
