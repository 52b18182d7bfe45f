package io.herald.dispatch;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.herald.config.DeliverySettings;
import io.herald.digest.DigestMessages;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ServiceStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Long provider outages. A delivery that still fails transiently after its in-process retries is
 * parked durably (state PARKED, next attempt per herald.delivery.park-delays) instead of failing
 * with everyone else's; its channel's sender claims it again when due (a parked resend: the
 * parked-deliveries route). After the last park it
 * is FAILED. Each park delay gets +-20% jitter, so deliveries parked together by one outage are not all
 * re-driven at one instant. With strategy first-success a transient failure is not parked: the next
 * channel is tried. A resend is parked and re-driven the same way, on its own row, as that resend (its
 * own provider key).
 *
 * <p>A delivery the open circuit breaker turned away was never offered to the provider: it keeps its
 * place in the park schedule (not counted as a park, never FAILED for it) and is tried again once the
 * breaker lets calls through (herald.delivery.breaker.open-seconds), so a recovered provider gets the
 * whole backlog rather than a wave of failures.
 */
@Component
public class ParkedDeliveries {

    /** When a parked delivery is tried next, as its reason says it to a person: "2026-12-06 01:02:47 UTC". */
    static final java.time.format.DateTimeFormatter WHEN = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(java.time.ZoneOffset.UTC);

    private static final Logger log = LoggerFactory.getLogger(ParkedDeliveries.class);

    private final DeliveryLedger ledger;
    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final List<Duration> delays;
    private final HeraldMetrics metrics;
    private final DigestMessages digests;
    private final Duration breakerOpen;
    private final int batchSize;
    private final OutcomeWrites outcomes;
    private final CamelContext camel;

    private final PushDevices pushDevices;
    private final ChannelDelivery channelDelivery;

    public ParkedDeliveries(DeliveryLedger ledger, NotificationCatalog catalog, JdbcTemplate jdbc, ObjectMapper json,
                            DeliverySettings settings, HeraldMetrics metrics, DigestMessages digests, OutcomeWrites outcomes,
                            CamelContext camel, PushDevices pushDevices, ChannelDelivery channelDelivery) {
        this.pushDevices = pushDevices;
        this.channelDelivery = channelDelivery;
        this.camel = camel;
        this.outcomes = outcomes;
        this.digests = digests;
        // herald.delivery.park-delays (each at least PT1S), .breaker.open-seconds and .parked-batch-size, checked when bound
        // (DeliverySettings; BadSettingStartupTest)
        this.metrics = metrics;
        this.breakerOpen = Duration.ofSeconds(Math.max(1, settings.breaker().openSeconds()));
        this.batchSize = settings.parkedBatchSize();
        this.ledger = ledger;
        this.catalog = catalog;
        this.jdbc = jdbc;
        this.json = json;
        this.delays = List.copyOf(settings.parkDelays());
    }

    /**
     * The route configuration's last step for transient trouble: park for later, or fail for good.
     * Written with this attempt's claim: if the attempt was given up meanwhile, nothing changes. Written even through a
     * database outage (OutcomeWrites).
     */
    public void parkOrFail(Exchange exchange) {
        outcomes.untilWritten("The park of delivery " + exchange.getProperty(ChannelDelivery.DELIVERY_ID), () -> parkOrFailNow(exchange));
    }

    private void parkOrFailNow(Exchange exchange) {
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        String channel = exchange.getProperty(ChannelDelivery.CHANNEL, "delivery", String.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String problem = ProviderErrors.readable(cause, channel);
        if (claim == null || notification == null) {
            log.warn("{} failed before its delivery was claimed for sending: {}", channel, problem);
            return;
        }
        long deliveryId = claim.deliveryId();
        int parked = ledger.parkedCount(claim);
        boolean firstSuccess = catalog.entry(notification.type()).firstSuccess() && !claim.resend();
        if (cause instanceof CallNotPermittedException && !firstSuccess) {
            keepSlotWhileBreakerOpen(claim, channel, problem, parked);
            return;
        }
        if ((firstSuccess || parked >= delays.size()) && pushDevices.sentToAnotherDevice(exchange, problem)) {
            // A push another device of the customer took is not failed for the device that stayed unreachable.
            channelDelivery.sent(exchange, "name");
            return;
        }
        if (firstSuccess || parked >= delays.size()) {
            String why = parked >= delays.size() && parked > 0 ? " (still failing after " + parked + " parked re-tries)" : "";
            if (ledger.failed(claim, channel + " not sent: " + problem + why, ProviderErrors.statusOf(cause))) {
                metrics.delivery(channel, "FAILED");
                log.warn("Delivery {} FAILED: {} not sent: {}{}", deliveryId, channel, problem, why);
            }
            return;
        }
        Instant now = Instant.now();
        Instant next = now.plus(jittered(delays.get(parked)));
        Long retryAfter = exchange.getProperty(ProviderErrors.RETRY_AFTER_MS, Long.class);
        if (retryAfter != null && next.isBefore(now.plusMillis(retryAfter))) {
            next = now.plusMillis(retryAfter);   // never sooner than the provider asked
        }
        if (ledger.parked(claim, channel + " provider unavailable: " + problem + "; parked, next attempt at " + WHEN.format(next)
                + " (" + (parked + 1) + " of " + delays.size() + ")", next, ProviderErrors.statusOf(cause))) {
            metrics.delivery(channel, "PARKED");
            log.warn("Delivery {} PARKED until {}: {}", deliveryId, next, problem);
        }
    }

    /** Turned away by the open breaker, never offered: parked again until the breaker lets calls through, in the same slot. */
    private void keepSlotWhileBreakerOpen(DeliveryLedger.Claim claim, String channel, String problem, int parked) {
        Instant next = Instant.now().plus(jittered(breakerOpen));
        String slot = parked == 0 ? "" : " (still " + parked + " of " + delays.size() + ": not counted, it was not offered to the provider)";
        if (ledger.parked(claim, channel + " provider unavailable: " + problem + "; parked, next attempt at " + WHEN.format(next) + slot, next, null, false)) {
            metrics.delivery(channel, "PARKED");
            log.warn("Delivery {} PARKED until {} (breaker open, not counted as a park): {}", claim.deliveryId(), next, problem);
        }
    }

    /** A delay with +-20% jitter. */
    static Duration jittered(Duration delay) {
        return Duration.ofMillis((long) (delay.toMillis() * ThreadLocalRandom.current().nextDouble(0.8, 1.2)));
    }

    /**
     * The next batch of parked resends that are due, claimed for this instance (FOR UPDATE SKIP
     * LOCKED, with a lease): the route keeps asking while batches come back. Parked deliveries are
     * not here: their channel's sender claims them with its queued ones (ChannelSenders).
     */
    public List<Map<String, Object>> claimDue() {
        return ledger.claimDueResends(batchSize, Duration.ofMinutes(5), runningChannels());
    }

    /**
     * The channels whose route (deliver-&lt;channel&gt;) is started. A resend of a channel whose route an operator stopped or
     * suspended in Hawtio stays parked and due, not claimed, and goes out at the first poll after the route is started
     * again; claimed, it held this poll for Camel's wait for the route (30 s) and then waited out its 5-minute lease.
     */
    private List<String> runningChannels() {
        return ChannelSettings.CHANNELS.stream()
                .filter(channel -> camel.getRouteController().getRouteStatus(ChannelSenders.routeOf(channel)) == ServiceStatus.Started)
                .toList();
    }

    /** Sets up a claimed row's exchange as dispatch would, so the channel route can run it again. */
    public void resume(Exchange exchange) throws IOException {
        @SuppressWarnings("unchecked")
        Map<String, Object> row = exchange.getMessage().getBody(Map.class);
        long notificationId = ((Number) row.get("notification_id")).longValue();
        String canonical = jdbc.queryForObject("SELECT herald_canonical(id, received_at, canonical)::text FROM notification WHERE id = ?",
                String.class, notificationId);
        exchange.setProperty(DispatchPlanner.NOTIFICATION, digests.carrying(notificationId,   // a digest's events (io.herald.digest)
                json.readValue(canonical, CanonicalNotification.class)));
        exchange.setProperty(DispatchPlanner.NOTIFICATION_ID, notificationId);
        if (row.get("resend_id") != null) {
            // A parked resend goes out again as that resend, with its own provider key, never the original's.
            exchange.setProperty(ChannelDelivery.RESEND, ((Number) row.get("resend_id")).longValue());
        }
        exchange.getMessage().setBody(row.get("channel"));
        metrics.retry((String) row.get("channel"));
    }
}
