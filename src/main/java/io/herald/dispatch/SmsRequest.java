package io.herald.dispatch;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import io.herald.config.SmsSettings;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.springframework.stereotype.Component;

/**
 * A Twilio-style Messages API request: form-encoded To, From, Body, with basic auth (account SID, auth token). With
 * herald.sms.webhook-base-url set, each message also names Herald's status callback (StatusCallback): Twilio reports a
 * message's delivery only to a callback given with it (or set on a Messaging Service), never by the sending number alone.
 * The callback URL names the delivery ({@code ?ref=<delivery id>}; Twilio signs the whole URL, so it cannot be forged): when
 * the provider's answer to the call was lost (the SMS is UNCERTAIN, with no message id), its callbacks still find the delivery
 * and settle it ({@link io.herald.receipts.SmsStatusCallbacks}). An operator's resend names none: the delivery's own message
 * is the one in doubt.
 */
@Component
public class SmsRequest {

    /** Where Herald takes SMS status callbacks (routes/delivery-receipts.camel.yaml). */
    static final String STATUS_PATH = "/webhooks/sms/status";
    /** The status callback's query parameter naming the delivery: ?ref=&lt;delivery id&gt;. */
    public static final String REF = "ref";

    private final String accountSid;
    private final String authToken;
    private final String from;
    /** "<Herald's public base URL>/webhooks/sms/status", or "" when the base URL is not configured. */
    private final String statusCallback;

    public SmsRequest(SmsSettings sms) {
        this.accountSid = sms.accountSid();
        this.authToken = sms.authToken();
        this.from = sms.from();
        String base = sms.webhookBaseUrl().strip().replaceAll("/+$", "");
        this.statusCallback = base.isEmpty() ? "" : base + STATUS_PATH;
    }

    public void build(Exchange exchange) {
        @SuppressWarnings("unchecked")
        Map<String, String> parts = exchange.getProperty(ChannelDelivery.PARTS, Map.class);
        String form = "To=" + encode(exchange.getProperty(ChannelDelivery.RECIPIENT, String.class))
                + "&From=" + encode(from) + "&Body=" + encode(parts.get("text")) + statusCallback(exchange);
        // The enum, not the text "POST": camel-http converts a String header on every call (~6% of dispatch CPU).
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, HttpMethods.POST);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/x-www-form-urlencoded; charset=UTF-8");
        exchange.getMessage().setHeader("Authorization", "Basic " + Base64.getEncoder()
                .encodeToString((accountSid + ":" + authToken).getBytes(StandardCharsets.UTF_8)));
        exchange.getMessage().setHeader("Idempotency-Key", ChannelDelivery.providerKey(exchange, "sms"));
        exchange.getMessage().setBody(form);
    }

    /** "&StatusCallback=…/webhooks/sms/status?ref=<delivery id>" (no ref for a resend), or "" without a public base URL. */
    private String statusCallback(Exchange exchange) {
        if (statusCallback.isEmpty()) {
            return "";
        }
        Object deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID);
        boolean named = deliveryId != null && exchange.getProperty(ChannelDelivery.RESEND) == null;
        return "&StatusCallback=" + encode(statusCallback + (named ? "?" + REF + "=" + deliveryId : ""));
    }

    private static String encode(String value) {
        return URLEncoder.encode(value == null ? "" : value, StandardCharsets.UTF_8);
    }
}
