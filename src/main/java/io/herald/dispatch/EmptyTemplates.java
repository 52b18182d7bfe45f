package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.herald.config.DeliverySettings;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * A template that was empty when its message was rendered (TemplateEmptied): an editor saving in two steps empties the file,
 * then writes it, so the file is usually whole again a moment later. Nothing was sent and the delivery was not claimed: it
 * is parked, as for a provider outage, and its channel's sender (or, for a resend, the parked-deliveries route) tries it
 * again when due, per herald.delivery.park-delays, its reason saying when ("email not sent yet: template
 * billing.invoice_paid/email.text.en.mustache was empty (perhaps being saved); Herald tries again at 2026-12-06 21:40:12 UTC
 * (1 of 3)"). It is tried at most TRIES times (the first delays of the schedule, about 1, 5 and 15 minutes by default): a
 * file still empty after them is not being saved, and the delivery FAILS naming the file and what to do. A step of a
 * first-success chain fails at once, as for an outage, so the chain's next channel is tried.
 */
@Component
public class EmptyTemplates {

    /** Parks for an empty template at most, whatever the delivery's other parks (herald.delivery.park-delays, when it has fewer). */
    static final int TRIES = 3;

    private static final Logger log = LoggerFactory.getLogger(EmptyTemplates.class);

    private final DeliveryLedger ledger;
    private final NotificationCatalog catalog;
    private final ChannelDelivery channelDelivery;
    private final HeraldMetrics metrics;
    private final OutcomeWrites outcomes;
    private final List<Duration> delays;

    public EmptyTemplates(DeliveryLedger ledger, NotificationCatalog catalog, ChannelDelivery channelDelivery, HeraldMetrics metrics,
                          OutcomeWrites outcomes, DeliverySettings settings) {
        this.ledger = ledger;
        this.catalog = catalog;
        this.channelDelivery = channelDelivery;
        this.metrics = metrics;
        this.outcomes = outcomes;
        this.delays = List.copyOf(settings.parkDelays());
    }

    /** The route configuration's step for TemplateEmptied: parked to be tried again, or FAILED once its tries are used up. */
    public void parkOrFail(Exchange exchange) {
        TemplateEmptied emptied = emptied(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        Long notificationId = exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class);
        String channel = exchange.getProperty(ChannelDelivery.CHANNEL, String.class);
        Long resendId = exchange.getProperty(ChannelDelivery.RESEND, Long.class);
        int tries = Math.min(TRIES, delays.size());
        boolean chainStep = resendId == null && notification != null && catalog.knows(notification.type())
                && catalog.entry(notification.type()).firstSuccess();
        if (emptied == null || notificationId == null || channel == null || chainStep || tries == 0) {
            channelDelivery.failed(exchange);
            return;
        }
        outcomes.untilWritten("The park of a " + channel + " delivery of notification " + notificationId,
                () -> parkOrFailNow(exchange, emptied, notificationId, channel, resendId, tries));
    }

    private void parkOrFailNow(Exchange exchange, TemplateEmptied emptied, long notificationId, String channel, Long resendId, int tries) {
        long deliveryId = ledger.open(notificationId, channel).id();
        // Its own tries: a delivery parked before by a provider outage has them all (counted with its other parks, one parked
        // three times for an outage failed at once, "still empty after 3 parked re-tries", though never tried for the file).
        // Since its last operator's retry only: a retry resets the delivery's park count (a fresh park schedule), and each park
        // for an empty template adds to that count, so it bounds them (counted since ever, a retried delivery failed at once).
        int parked = Math.min(ledger.parkedFor(deliveryId, resendId, TemplateEmptied.WAITING),
                ledger.parkedCount(new DeliveryLedger.Claim(deliveryId, resendId, null)));
        if (parked >= tries) {
            exchange.setProperty(Exchange.EXCEPTION_CAUGHT, new TemplateMissing(emptied.getMessage() + " (still empty after " + parked
                    + " parked re-tries)"));
            channelDelivery.failed(exchange);
            return;
        }
        Instant next = Instant.now().plus(ParkedDeliveries.jittered(delays.get(Math.min(parked, delays.size() - 1))));
        String reason = channel + " not sent yet: " + emptied.waiting() + "; Herald tries again at " + ParkedDeliveries.WHEN.format(next)
                + " (" + (parked + 1) + " of " + tries + ")";
        exchange.setProperty(ChannelDelivery.DELIVERY_ID, deliveryId);
        if (ledger.parkedUnclaimed(deliveryId, resendId, reason, next)) {
            metrics.delivery(channel, "PARKED");
            log.warn("Delivery {} PARKED until {}: {}", deliveryId, next, reason);
        } else {
            log.warn("Delivery {} not parked (settled, or another attempt holds it): {}", deliveryId, reason);
        }
    }

    private static TemplateEmptied emptied(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TemplateEmptied emptied) {
                return emptied;
            }
        }
        return null;
    }
}
