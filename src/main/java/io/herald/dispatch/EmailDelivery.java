package io.herald.dispatch;

import java.util.Map;

import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.logging.Masking;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The email channel's bookkeeping around the SMTP send: opens the ledger row (skipping a
 * delivery that is already settled), renders subject and text, and records the outcome.
 */
@Component
public class EmailDelivery {

    private static final Logger log = LoggerFactory.getLogger(EmailDelivery.class);

    public static final String DELIVERY_ID = "heraldDeliveryId";
    public static final String SKIP = "heraldSkip";
    private static final String CHANNEL = "email";

    private final DeliveryLedger ledger;
    private final CustomerDirectory directory;
    private final TemplateRenderer templates;
    private final String from;

    public EmailDelivery(DeliveryLedger ledger, CustomerDirectory directory, TemplateRenderer templates,
                         @Value("${herald.mail.from}") String from) {
        this.ledger = ledger;
        this.directory = directory;
        this.templates = templates;
        this.from = from;
    }

    public void prepare(Exchange exchange) {
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        long notificationId = exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class);
        DeliveryLedger.Delivery delivery = ledger.open(notificationId, CHANNEL);
        exchange.setProperty(DELIVERY_ID, delivery.id());
        if (delivery.settled()) {
            exchange.setProperty(SKIP, "already " + delivery.state());
            return;
        }
        Customer customer = directory.find(notification.customerId()).orElse(null);
        if (customer == null || customer.email() == null || customer.email().isBlank()) {
            String reason = "customer " + notification.customerId() + " has no email address in the directory";
            ledger.skipped(delivery.id(), reason);
            exchange.setProperty(SKIP, reason);
            return;
        }
        Map<String, Object> context = MessageContext.of(notification, customer);
        String subject = templates.render(notification.type(), CHANNEL, "subject", customer.locale(), context);
        String text = templates.render(notification.type(), CHANNEL, "text", customer.locale(), context);

        ledger.sending(delivery.id(), Masking.email(customer.email()), subject, Masking.mask(text));
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader("To", customer.email());
        exchange.getMessage().setHeader("From", from);
        exchange.getMessage().setHeader("Subject", subject);
        exchange.getMessage().setHeader("X-Herald-Idempotency-Key", notification.idempotencyKey() + ":" + CHANNEL);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=UTF-8");
        exchange.getMessage().setBody(text);
    }

    public void sent(Exchange exchange) {
        long deliveryId = exchange.getProperty(DELIVERY_ID, Long.class);
        ledger.sent(deliveryId, "smtp:" + exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class).idempotencyKey());
    }

    public void failed(Exchange exchange) {
        Long deliveryId = exchange.getProperty(DELIVERY_ID, Long.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = "email not sent: " + (cause == null ? "unknown error" : cause.getMessage());
        if (deliveryId != null) {
            ledger.failed(deliveryId, reason);
        }
        log.warn("Delivery {} FAILED: {}", deliveryId, reason, cause);
    }
}
