package io.herald.dispatch;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.StringJoiner;

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

    /** The most bytes of text one RFC 2047 encoded word holds in base64 within its 75 characters. */
    private static final int ENCODED_WORD_BYTES = 45;

    private final String from;
    /** The sender's domain (herald.mail.from), the Message-IDs' right-hand side. */
    private final String domain;

    public EmailMessage(MailSettings mail) {
        this.from = mail.from();
        this.domain = domainOf(mail.from());
    }

    /**
     * The domain of the sender address (herald.mail.from: "Herald &lt;notifications@example.com&gt;" gives example.com): a
     * Message-ID's right-hand side should be a full domain of the sender's (RFC 5322 3.6.4), as spam filters score a bare name
     * such as "herald". An internationalised domain is given in its ASCII form (xn--…). An address that cannot be read gives
     * "localhost" (herald.mail.from without a domain stops startup: MailSettings).
     */
    public static String domainOf(String from) {
        return java.util.Objects.requireNonNullElse(MailSettings.senderDomain(from), "localhost");
    }

    public void build(Exchange exchange) {
        @SuppressWarnings("unchecked")
        Map<String, String> parts = exchange.getProperty(ChannelDelivery.PARTS, Map.class);
        exchange.getMessage().setHeader("To", exchange.getProperty(ChannelDelivery.RECIPIENT, String.class));
        exchange.getMessage().setHeader("From", from);
        exchange.getMessage().setHeader("Subject", subjectHeader(parts.get("subject")));
        exchange.getMessage().setHeader("X-Herald-Idempotency-Key", ChannelDelivery.providerKey(exchange, "email"));
        // The provider's email events name the mail by this Message-ID (smtp-id): kept as the delivery's provider id.
        String messageId = messageId(exchange, domain);
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

    /**
     * The subject as the customer's mail client is to show it. Jakarta Mail sends a plain-ASCII subject as it is, so one that
     * quotes an RFC 2047 encoded word from the data (a ticket subject "Re: =?UTF-8?B?WW91ciBhY2NvdW50…?=") would be decoded
     * by the client into words Herald never wrote or kept; such a subject is sent as an encoded word of its own, which the
     * client decodes once, back to the text Herald rendered and keeps (decoding is not applied again to what it gives).
     */
    static String subjectHeader(String subject) {
        if (subject == null || !subject.contains("=?")) {
            return subject;
        }
        // Jakarta Mail's own encoders leave plain ASCII as it is; the subject is cut between characters into encoded words.
        StringJoiner words = new StringJoiner(" ");
        StringBuilder word = new StringBuilder();
        subject.codePoints().forEach(c -> {
            String character = Character.toString(c);
            if (utf8(word + character).length > ENCODED_WORD_BYTES) {
                words.add(encodedWord(word.toString()));
                word.setLength(0);
            }
            word.append(character);
        });
        return words.add(encodedWord(word.toString())).toString();
    }

    private static String encodedWord(String text) {
        return "=?UTF-8?B?" + Base64.getEncoder().encodeToString(utf8(text)) + "?=";
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * &lt;delivery-id.claim-token@sender-domain&gt;: unique per attempt, and not guessable from the delivery id alone. Also
     * written by the stale sweep in SQL for an email a crash cut off (DeliveryLedger.settleStale), and recognised by its shape
     * by EarlyReceipts: keep the three alike.
     */
    static String messageId(Exchange exchange, String domain) {
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        return "<" + claim.deliveryId() + "." + claim.token().toString().replace("-", "") + "@" + domain + ">";
    }
}
