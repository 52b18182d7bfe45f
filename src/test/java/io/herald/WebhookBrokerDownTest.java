package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import org.junit.jupiter.api.Test;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Herald with its Kafka broker unreachable (an address nothing listens on): a good webhook is answered 503
 * within a few seconds, so the sender retries later, and nothing is recorded as accepted; a request that can
 * never succeed is still refused with its 4xx and its row, never a 503.
 */
@DirtiesContext
class WebhookBrokerDownTest extends HeraldIntegrationTest {

    @DynamicPropertySource
    static void brokerNobodyListensOn(DynamicPropertyRegistry registry) {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        String deadBroker = "127.0.0.1:" + port;
        // The component setting, which the shared herald.kafka.brokers only defaults.
        registry.add("camel.component.kafka.brokers", () -> deadBroker);
    }

    @Test
    void aGoodWebhookIsAnswered503WithinSecondsAndABadOneKeepsItsStatus() throws Exception {
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String event = Samples.paymentFailed(newTicketId());
        String ticket = newTicketId();

        long start = System.nanoTime();
        HttpResponse<String> billing = postSignedBilling(event);
        Duration billingTook = Duration.ofNanos(System.nanoTime() - start);
        start = System.nanoTime();
        HttpResponse<String> support = postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket));
        Duration supportTook = Duration.ofNanos(System.nanoTime() - start);
        byte[] unsigned = event.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> wrongSignature = post("/webhooks/billing", "application/json", unsigned,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), unsigned, "whsec_wrong")));

        assertThat(billing.statusCode()).isEqualTo(503);
        assertThat(billing.body()).contains("please retry later");
        assertThat(billingTook).isLessThan(Duration.ofSeconds(8));
        assertThat(support.statusCode()).isEqualTo(503);
        assertThat(supportTook).isLessThan(Duration.ofSeconds(8));
        assertThat(wrongSignature.statusCode()).isEqualTo(401);

        List<Map<String, Object>> rows = jdbc.queryForList("SELECT source, http_status, reason FROM inbound_rejection WHERE id > ? ORDER BY id", before);
        assertThat(rows).extracting(r -> r.get("source") + " " + r.get("http_status") + " " + r.get("reason")).containsExactly(
                "billing 503 Herald could not queue the event on its event broker just now; nothing was accepted, please retry later",
                "support 503 Herald could not queue the event on its event broker just now; nothing was accepted, please retry later",
                "billing 401 no v1 signature matches the body (1 tried; wrong secret, or the body was altered)");
    }
}
