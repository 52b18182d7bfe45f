package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.herald.testsupport.Breakers;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Prometheus;
import io.herald.testsupport.Quiescence;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** /actuator/prometheus, scraped without a login, counts what Herald did: in, notified, delivered, retried, quarantined, how fast. */
class PrometheusMetricsTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String TYPE = "billing.payment_failed";

    @Autowired
    CamelContext camel;

    @Test
    void aKnownSetOfEventsShowsInTheCountersAndTheLatencyHistogram() throws Exception {
        Quiescence.awaitNothingInFlight(camel, jdbc);
        // Seen once with two test JVMs: the earlier tests' 503s left the SMS breaker's window one failure short, this test's
        // one 503 opened it, and the other two SMS were turned away and retried (4 retries counted instead of 1).
        Breakers.resetAll(camel);
        Prometheus before = scrape();
        // A customer whose first SMS meets a 503 (one retry), then two events for Jenny, and one for nobody Herald knows.
        String phone = "+4477006" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String customer = "cus_metrics" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Met Rics', ?, ?)",
                customer, customer + "@example.net", phone);
        infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .inScenario("metrics-" + phone).whenScenarioStateIs(Scenario.STARTED).willSetStateTo("recovered")
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        String first = newTicketId();
        String second = newTicketId();
        String third = newTicketId();
        String nobody = newTicketId();
        post(Samples.paymentFailed(first).replace("cus_RkT4aB7cD9eF1g", customer));
        post(Samples.paymentFailed(second));
        post(Samples.paymentFailed(third));
        post(Samples.paymentFailed(nobody).replace("cus_RkT4aB7cD9eF1g", "cus_Nobody" + nobody));

        List<String> keys = List.of(first, second, third).stream().map(Samples::paymentFailedKey).toList();
        await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key IN (" + keys.stream().map(k -> "?").collect(Collectors.joining(","))
                + ")", String.class, keys.toArray()), states -> states.size() == 9 && states.stream().allMatch("SENT"::equals));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM unrouted_event"
                + " WHERE source_event_id = ? AND outcome = 'QUARANTINED'", Integer.class, "evt_test" + nobody) == 1);

        Prometheus after = scrape();
        assertThat(delta(before, after, "herald_events_in_total", "source", "billing")).isEqualTo(4);
        // The webhook's requests are counted and timed (http.server.requests), without a long task timer registered for
        // each request (management.observations.long-task-timer.enabled false in config/application.yaml)
        assertThat(after.sum("http_server_requests_seconds_count", "method", "POST", "status", "202")
                - before.sum("http_server_requests_seconds_count", "method", "POST", "status", "202")).isGreaterThanOrEqualTo(4);
        assertThat(after.hasAny("http_server_requests_active")).as("a long task timer per request").isFalse();
        assertThat(delta(before, after, "herald_notifications_total", "type", TYPE)).isEqualTo(3);
        assertThat(delta(before, after, "herald_quarantined_total", "source", "billing", "step", "identity")).isEqualTo(1);
        for (String channel : List.of("email", "sms", "ops_webhook")) {
            assertThat(delta(before, after, "herald_deliveries_total", "channel", channel, "state", "SENT")).as(channel).isEqualTo(3);
            assertThat(delta(before, after, "herald_end_to_end_seconds_count", "channel", channel, "type", TYPE)).as(channel).isEqualTo(3);
        }
        assertThat(delta(before, after, "herald_delivery_retries_total", "channel", "sms")).isEqualTo(1);
        assertThat(delta(before, after, "herald_deliveries_total", "channel", "sms", "state", "FAILED")).isZero();
        // The latency histogram per type and channel: cumulative buckets from 50 ms to 4 h, then +Inf, which holds every sample.
        TreeMap<Double, Double> buckets = after.buckets("herald_end_to_end_seconds", "channel", "sms", "type", TYPE);
        assertThat(buckets.firstKey()).isBetween(0.05, 0.06);
        assertThat(buckets.lowerKey(Double.POSITIVE_INFINITY)).isBetween(3 * 3600.0, 4 * 3600.0);
        assertThat(buckets.lastEntry().getValue()).isEqualTo(after.value("herald_end_to_end_seconds_count", "channel", "sms", "type", TYPE));
        assertThat(List.copyOf(buckets.values())).isSorted();
    }

    @Test
    void anEventThatJustHappenedLandsInTheFiniteLatencyBuckets() throws Exception {
        Quiescence.awaitNothingInFlight(camel, jdbc);
        Prometheus before = scrape();
        String unique = newTicketId();
        post(Samples.paymentFailed(unique).replace("\"created\": 1763719200", "\"created\": " + Instant.now().getEpochSecond()));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'sms'", String.class,
                Samples.paymentFailedKey(unique)), states -> states.equals(List.of("SENT")));
        Prometheus after = scrape();
        // Sent well within 4 hours of the event: counted in the last finite bucket, not only in +Inf.
        TreeMap<Double, Double> was = before.buckets("herald_end_to_end_seconds", "channel", "sms", "type", TYPE);
        TreeMap<Double, Double> now = after.buckets("herald_end_to_end_seconds", "channel", "sms", "type", TYPE);
        double lastFinite = now.lowerKey(Double.POSITIVE_INFINITY);
        assertThat(now.get(lastFinite) - was.getOrDefault(lastFinite, 0.0)).isEqualTo(1);
    }

    private void post(String event) throws Exception {
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
    }

    /** No Authorization header: scrapers hold no login. */
    private Prometheus scrape() throws Exception {
        HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/prometheus"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(scrape.statusCode()).isEqualTo(200);
        return new Prometheus(scrape.body());
    }

    private static double delta(Prometheus before, Prometheus after, String name, String... labels) {
        return after.value(name, labels) - before.value(name, labels);
    }
}
