package io.herald.dispatch;

import java.util.Map;

import io.herald.config.MailSettings;
import io.herald.ledger.DeliveryLedger;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/** The SMTP message camel-mail sends: HTML body with the text as its plain-text alternative. */
@Component
public class EmailMessage {

    /** SendGrid's SMTP API header (X-SMTPAPI): a JSON object of per-message settings. */
    public static final String SMTP_API = "X-SMTPAPI";
    /** The unique arg naming the mail's Message-ID; SendGrid puts it at the top level of every event about the mail. */
    public static final String EVENT_MESSAGE_ID = "herald_message_id";

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
        // SendGrid's SMTP API: unique args come back on every event of the mail, also the spam reports, unsubscribes, opens
        // and clicks that carry no smtp-id (EmailEvents matches them by it). SendGrid removes the header; it holds only the
        // Message-ID, which the mail carries anyway, and no personal data.
        exchange.getMessage().setHeader(SMTP_API, "{\"unique_args\": {\"" + EVENT_MESSAGE_ID + "\": \"" + messageId + "\"}}");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "text/html; charset=UTF-8");
        exchange.getMessage().setHeader("CamelMailAlternativeBody", parts.get("text"));
        exchange.getMessage().setBody(parts.get("html"));
    }

    /** &lt;delivery-id.claim-token@herald&gt;: unique per attempt, and not guessable from the delivery id alone. */
    /** Also written by the stale sweep in SQL for an email a crash cut off (DeliveryLedger.settleStale): keep both alike. */
    static String messageId(Exchange exchange) {
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        return "<" + claim.deliveryId() + "." + claim.token().toString().replace("-", "") + "@herald>";
    }
}
