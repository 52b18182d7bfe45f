package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/**
 * The message Herald posts to FCM HTTP v1 (projects.messages.send): the notification's priority reaches the device as FCM
 * takes it, android.priority HIGH or NORMAL and the APNs header apns-priority 10 or 5, so a high-priority notice wakes a
 * phone in Doze mode and a normal one does not drain its battery.
 */
class PushRequestTest {

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aHighPriorityNotificationIsSentWithFcmsHighPriorityOnAndroidAndApns() throws Exception {
        JsonNode message = message("high");
        assertThat(message.path("android").path("priority").asText()).isEqualTo("HIGH");
        assertThat(message.path("apns").path("headers").path("apns-priority").asText()).isEqualTo("10");
        assertThat(message.path("token").asText()).isEqualTo("tok-of-the-phone");
        assertThat(message.path("notification").path("title").asText()).isEqualTo("Payment failed");
    }

    @Test
    void aNormalOrLowPriorityNotificationIsSentWithNormalPriority() throws Exception {
        for (String priority : new String[] {"normal", "low"}) {
            JsonNode message = message(priority);
            assertThat(message.path("android").path("priority").asText()).as(priority).isEqualTo("NORMAL");
            assertThat(message.path("apns").path("headers").path("apns-priority").asText()).as(priority).isEqualTo("5");
        }
    }

    private JsonNode message(String priority) throws Exception {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(DispatchPlanner.NOTIFICATION, new CanonicalNotification("billing:invoice.payment_failed:evt_1", "billing",
                "evt_1", "billing.payment_failed", "cus_1", Instant.parse("2026-12-04T10:00:00Z"), Map.of(), Map.of(), priority));
        exchange.setProperty(ChannelDelivery.RECIPIENT, "tok-of-the-phone");
        exchange.setProperty(ChannelDelivery.PARTS, Map.of("title", "Payment failed", "body", "Your payment did not go through."));
        new PushRequest(json).build(exchange);
        return json.readTree(exchange.getMessage().getBody(String.class)).path("message");
    }
}
