package io.herald.receipts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.WebhookSettings;
import io.herald.ingest.InboundRejected;
import io.herald.dispatch.EmailMessage;
import io.herald.logging.Masking;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * SendGrid-style email events (POST /webhooks/email/events, a JSON array of events). Verified the way
 * SendGrid signs its Event Webhook: X-Twilio-Email-Event-Webhook-Signature is a base64 DER ECDSA P-256
 * signature (SHA-256) over the X-Twilio-Email-Event-Webhook-Timestamp value followed by the raw body,
 * checked with the public key SendGrid shows (herald.email-events.verification-key, base64 DER). Each event
 * is matched to the Message-ID Herald gave the mail by the herald_message_id unique arg the mail's X-SMTPAPI header set to it
 * (SendGrid puts it on every event; its smtp-id may be a Message-ID of its own, and spam reports and unsubscribes have none),
 * or by its smtp-id when the arg is absent. A replayed body changes nothing: each
 * event is kept once by its sg_event_id, and states only move forward.
 */
@Component
public class EmailEvents {

    public static final String SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature";
    public static final String TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp";
    static final String KEY_SETTING = "herald.email-events.verification-key (HERALD_EMAIL_EVENTS_VERIFICATION_KEY)";

    private final PublicKey key;
    private final ObjectMapper json;
    private final DeliveryReceipts receipts;

    public EmailEvents(WebhookSettings webhooks, ObjectMapper json, DeliveryReceipts receipts) {
        String verificationKey = webhooks.emailEvents().verificationKey();
        this.key = verificationKey == null || verificationKey.isBlank() ? null : publicKey(verificationKey.trim());
        this.json = json;
        this.receipts = receipts;
    }

    /** A bad key fails startup naming the setting. */
    static PublicKey publicKey(String base64Der) {
        try {
            return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(Base64.getMimeDecoder().decode(base64Der)));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalStateException(KEY_SETTING + " is not an ECDSA public key in base64 DER (copy the Verification Key"
                    + " SendGrid shows under Mail Settings > Signed Event Webhook)", e);
        }
    }

    /** 401 unless the signature over timestamp + raw body verifies with the configured key. */
    public void verify(Exchange exchange) {
        if (key == null) {
            throw new InboundRejected(401, "the email events verification key is not configured (" + KEY_SETTING + "); refusing every event");
        }
        java.util.List<String> signatures = io.herald.ingest.SignatureHeaders.values(exchange.getMessage().getHeader(SIGNATURE_HEADER));
        String timestamp = exchange.getMessage().getHeader(TIMESTAMP_HEADER, String.class);
        if (signatures.isEmpty()) {
            throw new InboundRejected(401, "missing " + SIGNATURE_HEADER + " header");
        }
        if (timestamp == null || timestamp.isBlank()) {
            throw new InboundRejected(401, "missing " + TIMESTAMP_HEADER + " header");
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        exchange.getMessage().setBody(body);
        boolean valid = false;
        for (String signature : signatures) {
            try {
                Signature ecdsa = Signature.getInstance("SHA256withECDSA");
                ecdsa.initVerify(key);
                ecdsa.update(timestamp.getBytes(StandardCharsets.UTF_8));
                ecdsa.update(body == null ? new byte[0] : body);
                valid |= ecdsa.verify(Base64.getDecoder().decode(signature));
            } catch (IllegalArgumentException | GeneralSecurityException e) {
                // not base64, or not a DER signature: the same answer as a wrong one
            }
        }
        if (!valid) {
            throw new InboundRejected(401, "signature does not match the body (" + io.herald.ingest.SignatureHeaders.tried(signatures)
                    + "wrong verification key " + KEY_SETTING
                    + ", or the body was altered)");
        }
        // Signed, but when? SendGrid documents no tolerance and retries a batch for up to a day or more, perhaps signed as
        // first sent: a batch signed more than three days ago (or more than an hour ahead) is a replay, refused. Within that,
        // a replay is kept once by its sg_event_id.
        long signedAt;
        try {
            signedAt = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            throw new InboundRejected(401, TIMESTAMP_HEADER + " is not a time in Unix seconds");
        }
        long now = java.time.Instant.now().getEpochSecond();
        if (signedAt < now - MAX_AGE.toSeconds() || signedAt > now + 3600) {
            throw new InboundRejected(401, "the batch was signed at " + java.time.Instant.ofEpochSecond(Math.max(-31557014167219200L,
                    Math.min(31556889864403199L, signedAt))) + ", not within the last " + MAX_AGE.toDays() + " days: a replayed"
                    + " request, refused");
        }
    }

    /** The oldest signature accepted: longer than SendGrid retries a batch, so a retry signed as first sent still passes. */
    static final java.time.Duration MAX_AGE = java.time.Duration.ofDays(3);

    /** Records every event of the verified array; answered 200 with what each came to. */
    public void record(Exchange exchange) {
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new InboundRejected(415, "content type is '" + (contentType == null ? "none" : contentType) + "'; expected application/json");
        }
        JsonNode events;
        try {
            events = json.readTree(exchange.getMessage().getBody(byte[].class));
        } catch (IOException e) {
            throw new InboundRejected(400, "body is not valid JSON; expected a JSON array of email events");
        }
        if (events == null || !events.isArray()) {
            throw new InboundRejected(400, "body is not a JSON array; expected a JSON array of email events");
        }
        Map<String, Integer> outcomes = new LinkedHashMap<>();
        for (JsonNode event : events) {
            // Opens and clicks say nothing about delivery and come for every mail of the account: counted, not kept (each
            // would be a receipt and an attempt row, and a log line).
            boolean engagement = event != null && ENGAGEMENT.contains(text(event, "event", "").toLowerCase(Locale.ROOT));
            outcomes.merge(engagement ? "IGNORED" : receipts.record(receipt(event)), 1, Integer::sum);
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        StringBuilder answer = new StringBuilder("{\"status\":\"recorded\",\"events\":" + events.size());
        outcomes.forEach((outcome, count) -> answer.append(",\"").append(outcome).append("\":").append(count));
        exchange.getMessage().setBody(answer.append('}').toString());
    }

    /** Engagement events (SendGrid's open, click and group_resubscribe): not about delivery, so not kept as receipts. */
    private static final java.util.Set<String> ENGAGEMENT = java.util.Set.of("open", "click", "group_resubscribe");

    /** SendGrid's reasons for dropping a mail to an address on one of its suppression lists ("Bounced Address", …). */
    private static final java.util.List<String> PROVIDER_LISTS = java.util.List.of("bounced address", "spam reporting address",
            "unsubscribed address");

    /** One event as a receipt: the state it stands for, a reason in words, and whether its address is to be suppressed. */
    static DeliveryReceipts.Receipt receipt(JsonNode event) {
        String kind = text(event, "event", "unknown").toLowerCase(Locale.ROOT);
        // The unique arg Herald set on every mail comes back on every event: SendGrid's smtp-id does not reliably carry the
        // mail's own Message-ID (it may be one SendGrid made, <…@ismtpd…sendgrid.net>), and is absent from spam reports and
        // unsubscribes. smtp-id only for an event without the arg (a mail sent before Herald set it).
        String smtpId = text(event, EmailMessage.EVENT_MESSAGE_ID, "").trim();
        if (smtpId.isEmpty()) {
            smtpId = text(event, "smtp-id", "").trim();
        }
        if (!smtpId.isEmpty() && !smtpId.startsWith("<")) {
            smtpId = "<" + smtpId + ">";
        }
        String status = text(event, "status", null);
        // The server's words may quote the address: kept masked, like every stored message text.
        String why = Masking.mask(String.join(" ", java.util.stream.Stream.of(status, text(event, "reason", null), text(event, "response", null))
                .filter(part -> part != null && !part.isBlank()).toList()));
        String finalState = null;
        String reason;
        String suppress = null;
        switch (kind) {
            case "delivered" -> {
                finalState = "DELIVERED";
                reason = "the customer's mail server accepted the email" + (why.isEmpty() ? "" : " (" + why + ")");
            }
            case "bounce" -> {
                if ("blocked".equalsIgnoreCase(text(event, "type", "bounce"))) {
                    finalState = "UNDELIVERED";
                    reason = "the customer's mail server blocked the email (a temporary or policy refusal, the address was not suppressed)"
                            + (why.isEmpty() ? "" : ": " + why);
                } else {
                    finalState = "BOUNCED";
                    reason = "the email bounced: the customer's mail server says the address cannot receive mail"
                            + (why.isEmpty() ? "" : " (" + why + ")") + "; update the customer's email address";
                    suppress = "hard bounce" + (why.isEmpty() ? "" : ": " + why);
                }
            }
            case "dropped" -> {
                finalState = "UNDELIVERED";
                reason = "the email provider dropped the email without sending it" + (why.isEmpty() ? "" : ": " + why);
                // The provider drops every later mail to an address on its own lists: Herald stops sending to it too.
                String dropped = text(event, "reason", "");
                if (PROVIDER_LISTS.stream().anyMatch(list -> dropped.toLowerCase(Locale.ROOT).contains(list))) {
                    suppress = "the email provider drops mail to this address (" + Masking.mask(dropped) + ")";
                }
            }
            case "unsubscribe" -> {
                reason = "the customer unsubscribed from all email at the email provider; no more email is sent to this address";
                suppress = "the customer unsubscribed from all email at the email provider";
            }
            case "spamreport" -> {
                finalState = "COMPLAINED";
                reason = "the customer reported the email as spam; no more email is sent to this address";
                suppress = "the customer reported an email as spam";
            }
            case "deferred" -> reason = "the customer's mail server deferred the email; the email provider keeps trying"
                    + (why.isEmpty() ? "" : " (" + why + ")");
            default -> reason = "the email provider reported '" + kind + "'";
        }
        return new DeliveryReceipts.Receipt("email", smtpId, text(event, "sg_event_id", null), kind, status, finalState, reason,
                text(event, "email", null), suppress);
    }

    private static String text(JsonNode event, String field, String otherwise) {
        JsonNode value = event.get(field);
        return value == null || value.isNull() || value.isContainerNode() ? otherwise : value.asText();
    }
}
