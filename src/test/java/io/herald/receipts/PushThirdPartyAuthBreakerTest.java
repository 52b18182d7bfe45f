package io.herald.receipts;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.herald.testsupport.Breakers;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * FCM HTTP v1's 401 THIRD_PARTY_AUTH_ERROR (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode: "APNs certificate or web
 * push auth key was invalid or missing") is about the project's APNs / web push key for that device, not about Herald's own
 * credentials: README ("Failure alerts…") calls it a refusal of that message, and "a refusal of one message never opens the
 * breaker". The push must fail and the notification go on to SMS, without counting against the push breaker (Android pushes
 * would otherwise be parked behind a burst of iOS refusals).
 */
class PushThirdPartyAuthBreakerTest extends HeraldIntegrationTest {

    private static final String PUSH_PATH = "/v1/projects/[^/]+/messages:send";
    private static final String THIRD_PARTY_AUTH_ERROR = """
            {"error":{"code":401,"message":"Auth error from APNS or Web Push Service","status":"UNAUTHENTICATED","details":[{"@type":\
            "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"THIRD_PARTY_AUTH_ERROR"}]}}""";

    @Autowired
    CamelContext camel;

    @Test
    void aThirdPartyAuthErrorFailsThatPushWithoutCountingAgainstThePushBreaker() throws Exception {
        Breakers.resetAll(camel);
        String customer = "cus_push_apns" + newTicketId();
        String token = "ap0sT0k" + newTicketId() + "-registration-token-of-an-iphone";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Pat Push', ?, ?, ?::jsonb)",
                customer, customer + "@example.net", "+4477005" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + token + "\"]");
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json; charset=UTF-8").withBody(THIRD_PARTY_AUTH_ERROR)));
        try {
            String ticket = newTicketId();
            assertThat(postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer))
                    .statusCode()).isEqualTo(202);
            String key = "support:agent_replied:" + ticket + ":41000000000555";
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "FAILED");
            // What an operator reads: where the key is fixed (it said only "provider answered HTTP 401 Unauthorized: {…}").
            assertThat((String) rows.get("push").get("reason")).contains("APNs", "Firebase console");
            assertThat(rows.get("sms")).containsEntry("state", "SENT");
            CircuitBreaker push = pushBreaker();
            assertThat(push.getMetrics().getNumberOfFailedCalls()).as("failed calls counted by the push breaker").isZero();
        } finally {
            infra.providers().removeStub(refused);
        }
    }

    /**
     * FCM's 403 SENDER_ID_MISMATCH: the device's token was registered for another Firebase project than the one Herald sends
     * through. The push fails (not retried), the token stays in the directory (a wrong herald.push.url would otherwise empty every
     * customer's tokens), the notification goes on to SMS, and the reason says what to check instead of only quoting the JSON.
     */
    @Test
    void aSenderIdMismatchFailsThatPushSayingWhichProjectToCheckAndKeepsTheToken() throws Exception {
        String customer = "cus_push_sndr" + newTicketId();
        String token = "sNdR0k" + newTicketId() + "-registration-token-of-another-project";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Sam Sender', ?, ?, ?::jsonb)",
                customer, customer + "@example.net", "+4477006" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + token + "\"]");
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(403).withHeader("Content-Type", "application/json; charset=UTF-8").withBody("""
                        {"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":\
                        "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}""")));
        try {
            String ticket = newTicketId();
            assertThat(postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer))
                    .statusCode()).isEqualTo(202);
            Map<String, Map<String, Object>> rows = awaitDeliveries("support:agent_replied:" + ticket + ":41000000000555");
            assertThat(rows.get("push")).containsEntry("state", "FAILED");
            assertThat((String) rows.get("push").get("reason")).contains("another Firebase project", "herald.push.url");
            assertThat(rows.get("sms")).containsEntry("state", "SENT");
            assertThat(jdbc.queryForObject("SELECT push_tokens::text FROM customer WHERE customer_id = ?", String.class, customer)).contains(token);
        } finally {
            infra.providers().removeStub(refused);
        }
    }

    private CircuitBreaker pushBreaker() {
        for (Route route : camel.getRoutes()) {
            if (route.getRouteId().equals("deliver-push")) {
                for (Processor processor : route.filter("*")) {
                    if (processor instanceof ResilienceProcessor breaker) {
                        return breaker.getCircuitBreaker();
                    }
                }
            }
        }
        throw new AssertionError("no breaker on deliver-push");
    }

    private Map<String, Map<String, Object>> awaitDeliveries(String key) {
        List<Map<String, Object>> rows = await().atMost(Duration.ofSeconds(45)).until(() -> jdbc.queryForList("""
                SELECT d.channel, d.state, d.reason FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ?""", key),
                found -> found.size() == 3 && found.stream().noneMatch(r -> List.of("PENDING", "SENDING").contains(r.get("state"))));
        Map<String, Map<String, Object>> byChannel = new LinkedHashMap<>();
        rows.forEach(r -> byChannel.put(r.get("channel").toString(), r));
        return byChannel;
    }
}
