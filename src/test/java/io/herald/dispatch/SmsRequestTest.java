package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

import io.herald.config.SmsSettings;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/**
 * The form Herald posts to a Twilio-style Messages API. Twilio reports what happened to a message only to a status
 * callback named with it (or set on a Messaging Service): with Herald's public base URL configured, every message names
 * Herald's status callback, the URL the callbacks' signatures are then checked against.
 */
class SmsRequestTest {

    @Test
    void everyMessageNamesHeraldsStatusCallbackWhenItsPublicAddressIsConfigured() {
        Map<String, String> form = form(new SmsRequest(settings("https://herald.example.com/")));
        assertThat(form).containsEntry("To", "+447700900123").containsEntry("From", "+15005550006")
                .containsEntry("Body", "Your payment of US$49.00 did not go through.")
                .containsEntry("StatusCallback", "https://herald.example.com/webhooks/sms/status?ref=4711");
    }

    /**
     * The callback URL names the delivery, so a callback for an SMS whose answer was lost still finds it; an operator's resend
     * names none (its delivery's own message is the one in doubt).
     */
    @Test
    void theCallbackNamesTheDeliveryButNotForAResend() {
        SmsRequest request = new SmsRequest(settings("https://herald.example.com"));
        assertThat(form(request, null)).containsEntry("StatusCallback", "https://herald.example.com/webhooks/sms/status?ref=4711");
        assertThat(form(request, 12L)).containsEntry("StatusCallback", "https://herald.example.com/webhooks/sms/status");
    }

    @Test
    void withoutAPublicAddressNoCallbackIsNamedAndAMessagingServiceMustSetIt() {
        assertThat(form(new SmsRequest(settings("")))).containsOnlyKeys("To", "From", "Body");
    }

    private static Map<String, String> form(SmsRequest request) {
        return form(request, null);
    }

    private static Map<String, String> form(SmsRequest request, Long resend) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(ChannelDelivery.DELIVERY_ID, 4711L);
        exchange.setProperty(ChannelDelivery.RESEND, resend);
        exchange.setProperty(DispatchPlanner.NOTIFICATION, new CanonicalNotification("billing:invoice.payment_failed:evt_1", "billing",
                "evt_1", "billing.payment_failed", "cus_1", Instant.parse("2026-12-04T10:00:00Z"), Map.of(), Map.of(), "high"));
        exchange.setProperty(ChannelDelivery.RECIPIENT, "+447700900123");
        exchange.setProperty(ChannelDelivery.PARTS, Map.of("text", "Your payment of US$49.00 did not go through."));
        request.build(exchange);
        return Arrays.stream(exchange.getMessage().getBody(String.class).split("&")).map(pair -> pair.split("=", 2))
                .collect(Collectors.toMap(p -> p[0], p -> URLDecoder.decode(p[1], StandardCharsets.UTF_8), (a, b) -> b, LinkedHashMap::new));
    }

    private static SmsSettings settings(String webhookBaseUrl) {
        return new SmsSettings("http://sms.example/Messages.json", "ACdemo", "token", "+15005550006", 10, 16, null, null, false, null,
                null, null, null, webhookBaseUrl, 1600, 10);
    }
}
