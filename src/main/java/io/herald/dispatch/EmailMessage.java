package io.herald.dispatch;

import java.util.Map;

import io.herald.config.MailSettings;
import io.herald.ledger.DeliveryLedger;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/** The SMTP message camel-mail sends: HTML body with the text as its plain-text alternative. */
@Component
public class EmailMessage {

    private final String from;

    public EmailMessage(MailSettings mail) {
        this.from = mail.from();
    }

    public void build(Exchange exchange) {
        @SuppressWarnings("unchecked")
        Map<String, String> parts = exchange.getProperty(ChannelDelivery.PARTS, Map.class);
        exchange.getMessage().setHeader("To", exchange.getProperty(ChannelDelivery.RECIPIENT, String.class));
        exchange.getMessage().setHeader("From", from);
        exchange.getMessage().setHeader("Subject", parts.get("subject"));
        exchange.getMessage().setHeader("X-Herald-Idempotency-Key", ChannelDelivery.providerKey(exchange, "email"));
        // The provider's email events name the mail by this Message-ID (smtp-id): kept as the delivery's provider id.
        String messageId = messageId(exchange);
        exchange.setProperty(ChannelDelivery.MESSAGE_ID, messageId);
        exchange.getMessage().setHeader("Message-ID", messageId);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/html; charset=UTF-8");
        exchange.getMessage().setHeader("CamelMailAlternativeBody", parts.get("text"));
        exchange.getMessage().setBody(parts.get("html"));
    }

    /** &lt;delivery-id.claim-token@herald&gt;: unique per attempt, and not guessable from the delivery id alone. */
    static String messageId(Exchange exchange) {
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        return "<" + claim.deliveryId() + "." + claim.token().toString().replace("-", "") + "@herald>";
    }
}
