package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import org.junit.jupiter.api.Test;

/**
 * An SMS provider outage is announced on the ops webhook once, with the parked deliveries it holds,
 * and once when the provider is back: not per failed delivery, not at every poll.
 */
class OutageAlertsTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String DOWN = "SMS provider unreachable since ";
    private static final String BACK = "SMS provider back since ";

    @Test
    void aProviderOutageIsAnnouncedOnceAndItsEndOnce() {
        int downBefore = OpsAlerts.accepted(infra.providers(), DOWN).size();
        int backBefore = OpsAlerts.accepted(infra.providers(), BACK).size();
        String run = "outage" + newTicketId();
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Otto Outage', ?, ?)",
                customer, customer + "@example.net", "+4477007" + (10000 + Integer.parseInt(run.replaceAll("\\D", "")) % 89999));
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"Service unavailable\"}")));
        try {
            parkedSms(run, customer, 8, 0, "now()");
            // The breaker opens on the provider's 503s: one alert, naming the provider, the time and the parked deliveries.
            await().atMost(Duration.ofSeconds(40)).until(() -> OpsAlerts.accepted(infra.providers(), DOWN).size() > downBefore);
            String alert = OpsAlerts.accepted(infra.providers(), DOWN).get(downBefore);
            assertThat(alert).containsPattern("SMS provider unreachable since \\d\\d:\\d\\d UTC: \\d+ deliver(y|ies) parked");
            // Not repeated while the outage lasts (the local poll runs every 2 s).
            await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8))
                    .until(() -> OpsAlerts.accepted(infra.providers(), DOWN).size() == downBefore + 1);
        } finally {
            infra.providers().removeStub(down);
        }
        // The provider answers again: the parked SMS go out, the breaker closes, and its end is announced once.
        await().atMost(Duration.ofSeconds(60)).until(() -> OpsAlerts.accepted(infra.providers(), BACK).size() > backBefore);
        List<String> back = OpsAlerts.accepted(infra.providers(), BACK);
        assertThat(back.get(backBefore)).containsPattern("SMS provider back since \\d\\d:\\d\\d UTC: parked deliveries are being sent");
        await().during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8))
                .until(() -> OpsAlerts.accepted(infra.providers(), BACK).size() == backBefore + 1
                        && OpsAlerts.accepted(infra.providers(), DOWN).size() == downBefore + 1);
    }

    @Test
    void aDatabaseOutageIsAnnouncedFromMemoryOnceAndItsEndOnceWhileHealthAnswersAtOnce() throws Exception {
        String down = "PostgreSQL unreachable since ";
        String back = "PostgreSQL back since ";
        int downBefore = OpsAlerts.accepted(infra.providers(), down).size();
        int backBefore = OpsAlerts.accepted(infra.providers(), back).size();
        infra.stopPostgres();
        try {
            await().atMost(Duration.ofSeconds(40)).until(() -> OpsAlerts.accepted(infra.providers(), down).size() > downBefore);
            assertThat(OpsAlerts.accepted(infra.providers(), down).get(downBefore))
                    .containsPattern("PostgreSQL unreachable since \\d\\d:\\d\\d UTC: webhooks keep accepting");
            // Health answers from its last background check: readiness says the database is down, and at once,
            // not after a connection wait (the image's healthcheck allows 5 s).
            await().atMost(Duration.ofSeconds(20)).until(() -> health("/actuator/health/readiness").statusCode() == 503);
            for (String path : new String[] {"/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness"}) {
                long start = System.nanoTime();
                int status = health(path).statusCode();
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as(path).isLessThan(Duration.ofMillis(1500));
                assertThat(status).as(path).isEqualTo(path.endsWith("liveness") ? 200 : 503);
            }
            await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7))
                    .until(() -> OpsAlerts.accepted(infra.providers(), down).size() == downBefore + 1);
        } finally {
            infra.startPostgres();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> OpsAlerts.accepted(infra.providers(), back).size() > backBefore);
        assertThat(OpsAlerts.accepted(infra.providers(), back).get(backBefore))
                .containsPattern("PostgreSQL back since \\d\\d:\\d\\d UTC: events and deliveries are processed again");
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(7))
                .until(() -> OpsAlerts.accepted(infra.providers(), back).size() == backBefore + 1
                        && OpsAlerts.accepted(infra.providers(), down).size() == downBefore + 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> health("/actuator/health/readiness").statusCode() == 200);
    }

    private java.net.http.HttpResponse<String> health(String path) throws Exception {
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
    }
}
