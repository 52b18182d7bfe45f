package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Quiescence;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A delivery an operator retried that fails again, for another reason, is a new failure the team is told of (found by an
 * audit of the alerts: the retry kept the first failure's alerted mark, and the second failure was never posted).
 */
class RetriedFailureAlertTest extends HeraldIntegrationTest {

    private static final String SMS = "/2010-04-01/Accounts/[^/]+/Messages.json";

    @Autowired
    CamelContext camel;

    @Test
    void aRetriedDeliveryThatFailsAgainIsAlertedAgain() throws Exception {
        Quiescence.awaitNothingInFlight(camel, jdbc);
        OpsAlerts.quiet(camel, jdbc);
        String unique = newTicketId();
        StubMapping invalid = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS)).atPriority(1).willReturn(aResponse()
                .withStatus(400).withHeader("Content-Type", "application/json")
                .withBody("{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number (case " + unique + ").\"}")));
        long delivery;
        try {
            String event = Samples.paymentFailed(unique).replace("\"created\": 1763719200", "\"created\": " + Instant.now().getEpochSecond());
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
            String key = Samples.paymentFailedKey(unique);
            delivery = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.id FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE d.channel = 'sms' AND d.state = 'FAILED' AND n.idempotency_key = ?", Long.class, key),
                    ids -> ids.size() == 1).get(0);
            await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.accepted(infra.providers(), "case " + unique).isEmpty());
            assertThat(OpsAlerts.accepted(infra.providers(), "case " + unique).get(0)).contains("(HTTP 400)");
        } finally {
            infra.providers().removeStub(invalid);
        }
        // The operator fixes the number in the CRM and retries; now the provider refuses Herald's credentials (another cause).
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS)).atPriority(1).willReturn(aResponse()
                .withStatus(401).withHeader("Content-Type", "application/json")
                .withBody("{\"code\": 20003, \"message\": \"Authenticate (case-retry " + unique + ")\"}")));
        try {
            assertThat(apiAs(OPERATOR, "POST", "/api/deliveries/" + delivery + "/retry", "{\"comment\": \"number fixed\"}").statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", delivery),
                    row -> "FAILED".equals(row.get("state")) && String.valueOf(row.get("reason")).contains("case-retry"));
            // Expected: alerted like any new failure within a poll or two (2 s locally).
            await().atMost(Duration.ofSeconds(20)).until(() -> !OpsAlerts.accepted(infra.providers(), "case-retry " + unique).isEmpty());
        } finally {
            infra.providers().removeStub(refused);
        }
    }
}
