package io.herald.dispatch;

import java.util.Map;

import io.herald.identity.Customer;
import io.herald.ledger.DeliveryLedger;
import io.herald.logging.Masking;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Dispatch's side of the ops webhook digest: the notification's ops text is rendered (masked) and its
 * ops_webhook delivery recorded as waiting for the next digest of its type, in one statement. No
 * provider call and no throttle here, so a burst for the ops webhook never holds the dispatch consumer;
 * routes/ops-digest.camel.yaml posts the digests.
 */
@Component
public class OpsDigestQueue {

    static final String CHANNEL = "ops_webhook";

    private final DeliveryLedger ledger;
    private final NotificationCatalog catalog;
    private final TemplateRenderer templates;
    private final HeraldMetrics metrics;

    public OpsDigestQueue(DeliveryLedger ledger, NotificationCatalog catalog, TemplateRenderer templates, HeraldMetrics metrics) {
        this.ledger = ledger;
        this.catalog = catalog;
        this.templates = templates;
        this.metrics = metrics;
    }

    public void enqueue(Exchange exchange) {
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        long notificationId = exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class);
        Customer customer = exchange.getProperty(DispatchPlanner.CUSTOMER, Customer.class);
        exchange.setProperty(ChannelDelivery.CHANNEL, CHANNEL);
        exchange.setProperty(ChannelDelivery.TYPE, notification.type());
        if (customer == null) {
            DeliveryLedger.Delivery delivery = ledger.open(notificationId, CHANNEL);
            exchange.setProperty(ChannelDelivery.DELIVERY_ID, delivery.id());
            if (!delivery.settled()) {
                ledger.skipped(delivery.id(), "customer " + notification.customerId() + " is no longer in the directory");
                metrics.delivery(CHANNEL, "SKIPPED");
            }
            return;
        }
        NotificationCatalog.Entry entry = catalog.entry(notification.type());
        Map<String, Object> context = MessageContext.of(notification, MessageContext.readerOf(CHANNEL, customer),
                templates.writingLocale(entry.templates(), CHANNEL, customer.locale()));
        String text = templates.render(entry.templates(), CHANNEL, "text", customer.locale(), context);
        ledger.waitForDigest(notificationId, CHANNEL, Recipients.of(CHANNEL, customer).masked(), Masking.mask(text),
                "waiting for the next ops webhook digest of " + notification.type());
    }
}
