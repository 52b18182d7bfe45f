package io.herald.dispatch;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.springframework.stereotype.Component;

/**
 * An FCM HTTP v1-style send: {"message": {"token", "notification": {"title", "body"}, "data": {...}, "android": {"priority"},
 * "apns": {"headers": {"apns-priority"}}}}, bearer token set on each try (ProviderAddress).
 */
@Component
public class PushRequest {

    private final ObjectMapper json;

    public PushRequest(ObjectMapper json) {
        this.json = json;
    }

    public void build(Exchange exchange) throws JsonProcessingException {
        @SuppressWarnings("unchecked")
        Map<String, String> parts = exchange.getProperty(ChannelDelivery.PARTS, Map.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        // FCM data values must be strings: the type, the key and the non-null references.
        Map<String, String> data = new LinkedHashMap<>();
        data.put("type", notification.type());
        data.put("idempotencyKey", notification.idempotencyKey());
        notification.refs().forEach((k, v) -> {
            if (v != null) {
                data.put(k, String.valueOf(v));
            }
        });
        // The notification's priority as FCM HTTP v1 takes it: android.priority HIGH or NORMAL, and for Apple devices the APNs
        // header apns-priority 10 (at once) or 5 (as the device's power allows). FCM knows no "low": it is sent as normal.
        boolean high = "high".equals(notification.priority());
        String token = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        Map<String, Object> message = Map.of("message", Map.of(
                "token", token,
                "notification", Map.of("title", parts.get("title"), "body", parts.get("body")),
                "data", data,
                "android", Map.of("priority", high ? "HIGH" : "NORMAL"),
                "apns", Map.of("headers", Map.of("apns-priority", high ? "10" : "5"))));
        // The enum, not the text "POST": camel-http converts a String header on every call (~6% of dispatch CPU).
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, HttpMethods.POST);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        // One key per device (the token's hash, first 16 hex digits): a provider that honours the key must not take the
        // customer's second device for a repeat of the first (herald.push.honours-idempotency-key).
        exchange.getMessage().setHeader("Idempotency-Key", ChannelDelivery.providerKey(exchange, "push") + ":" + PushDevices.hash(token).substring(0, 16));
        exchange.getMessage().setBody(json.writeValueAsString(message));
    }
}
