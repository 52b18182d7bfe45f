package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
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
    /** How long the ops webhook takes over the first alert: long enough for a retry to fail again meanwhile, below the alert's 8 s timeout. */
    private static final int SLOW_ALERT_MS = 5000;

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
        // The operator fixes the number in the CRM and retries; the new number is in a country the account may not send to
        // (another cause, refused at once: a 401 would be parked and tried again first, half a minute of this test).
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS)).atPriority(1).willReturn(aResponse()
                .withStatus(400).withHeader("Content-Type", "application/json")
                .withBody("{\"code\": 21408, \"message\": \"Permission to send an SMS has not been enabled for the region indicated by"
                        + " the 'To' number (case-retry " + unique + ").\"}")));
        try {
            assertThat(apiAs(OPERATOR, "POST", "/api/deliveries/" + delivery + "/retry", "{\"comment\": \"number fixed\"}").statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", delivery),
                    row -> "FAILED".equals(row.get("state")) && String.valueOf(row.get("reason")).contains("case-retry"));
            // Expected: alerted like any new failure within a poll or two (2 s locally).
            await().atMost(Duration.ofSeconds(20)).until(() -> !OpsAlerts.accepted(infra.providers(), "case-retry " + unique).isEmpty());
        } finally {
            infra.providers().removeStub(refused);
            apiAs(OPERATOR, "POST", "/api/deliveries/" + delivery + "/dismiss", "{\"comment\": \"test done\"}");   // leaves the open failures
        }
    }

    /**
     * The same, while the first failure's alert is still on its way to a slow ops webhook: the operator retries at once and
     * the retry fails again before the webhook answers. Found by an audit of the alerts: the first alert's transaction then
     * marked the delivery alerted as it stood by then, so the second failure was never posted.
     */
    @Test
    void aRetryThatFailsAgainWhileTheFirstAlertIsPostedIsAlertedToo() throws Exception {
        Quiescence.awaitNothingInFlight(camel, jdbc);
        OpsAlerts.quiet(camel, jdbc);
        String unique = newTicketId();
        StubMapping slowWebhook = infra.providers().stubFor(WireMock.post(urlPathMatching("/services/.*")).atPriority(1)
                .withHeader("Idempotency-Key", matching("herald-alert:.*")).withRequestBody(containing("case " + unique))
                .willReturn(aResponse().withStatus(200).withBody("ok").withFixedDelay(SLOW_ALERT_MS)));
        StubMapping invalid = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS)).atPriority(1).willReturn(aResponse()
                .withStatus(400).withHeader("Content-Type", "application/json")
                .withBody("{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number (case " + unique + ").\"}")));
        StubMapping refused = null;
        long delivery = 0;
        try {
            String event = Samples.paymentFailed(unique).replace("\"created\": 1763719200", "\"created\": " + Instant.now().getEpochSecond());
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
            String key = Samples.paymentFailedKey(unique);
            long failed = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.id FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE d.channel = 'sms' AND d.state = 'FAILED' AND n.idempotency_key = ?", Long.class, key),
                    ids -> ids.size() == 1).get(0);
            delivery = failed;
            // The alert of the first failure reached the webhook, which has not answered yet.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> OpsAlerts.posts(infra.providers()).stream().anyMatch(p -> p.text().contains("case " + unique)));
            infra.providers().removeStub(invalid);
            // The operator fixes the number and retries at once; the new number is in a country the account may not send to
            // (refused at once, not retried: a new failure, of another kind).
            refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS)).atPriority(1).willReturn(aResponse()
                    .withStatus(400).withHeader("Content-Type", "application/json")
                    .withBody("{\"code\": 21408, \"message\": \"Permission to send an SMS has not been enabled for the region"
                            + " indicated by the 'To' number (case-retry " + unique + ").\"}")));
            assertThat(apiAs(OPERATOR, "POST", "/api/deliveries/" + failed + "/retry", "{\"comment\": \"number fixed\"}").statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                    .until(() -> jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", failed),
                            row -> "FAILED".equals(row.get("state")) && String.valueOf(row.get("reason")).contains("case-retry"));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM alert_group WHERE example LIKE ?", Integer.class, "%case " + unique + "%"))
                    .as("the retry failed again while the first alert was still being posted (its transaction not yet committed)").isZero();

            // Expected: the second failure is posted too, at the poll after the slow post (2 s locally).
            await().atMost(Duration.ofSeconds(SLOW_ALERT_MS / 1000 + 15))
                    .until(() -> !OpsAlerts.accepted(infra.providers(), "case-retry " + unique).isEmpty());
            // The first failure was posted once: the slow post's transaction still marked what it had announced.
            assertThat(OpsAlerts.accepted(infra.providers(), "case " + unique)).hasSize(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject(
                    "SELECT alerted_at IS NOT NULL FROM delivery WHERE id = ?", Boolean.class, failed));
        } finally {
            infra.providers().removeStub(invalid);
            if (refused != null) {
                infra.providers().removeStub(refused);
            }
            infra.providers().removeStub(slowWebhook);
            if (delivery != 0) {   // leaves the open failures, so no later test finds it
                apiAs(OPERATOR, "POST", "/api/deliveries/" + delivery + "/dismiss", "{\"comment\": \"test done\"}");
            }
        }
    }
}
