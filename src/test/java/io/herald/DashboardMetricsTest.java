package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Polls;
import io.herald.testsupport.Prometheus;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.yaml.snakeyaml.Yaml;

/**
 * The shipped Grafana dashboard (deploy/grafana) and Prometheus alert rules (deploy/prometheus) are built on
 * metrics Herald really exports: after a little traffic of each kind, every metric name their PromQL uses is
 * in /actuator/prometheus. Rejected webhooks are counted per source and kind, listed in the console, and a
 * burst of signature failures from one source is alerted once on the ops webhook.
 */
class DashboardMetricsTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    private static final Path DASHBOARD = Path.of("deploy/grafana/herald-dashboard.json");
    private static final Path RULES = Path.of("deploy/prometheus/herald-alerts.yaml");
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    @Test
    void everyMetricTheDashboardAndTheAlertRulesUseIsExported() throws Exception {
        Set<String> used = new TreeSet<>();
        dashboardExpressions().forEach(expr -> used.addAll(metricNames(expr)));
        Map<String, String> rules = alertRules();
        rules.values().forEach(expr -> used.addAll(metricNames(expr)));
        // What the rules must watch, each on its own metric.
        assertThat(rules.keySet()).contains("HeraldDeliveryFailureRateHigh", "HeraldParkedBacklog", "HeraldCircuitBreakerOpen",
                "HeraldSendWindowMisses", "HeraldWebhookSignatureFailures", "HeraldConsumerLag");
        assertThat(used).contains("herald_deliveries_total", "herald_deliveries_parked", "herald_breaker_open", "herald_window_missed_total",
                "herald_webhook_rejected_total", "herald_kafka_consumer_lag");

        // A little traffic of each kind: an SMS that meets a 503 once (a retry), a year-old event (sent after its
        // window), an event for nobody Herald knows (quarantined), a webhook with the wrong content type (rejected).
        String phone = "+4477008" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String customer = "cus_dash" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Dash Board', ?, ?)",
                customer, customer + "@example.net", phone);
        infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .inScenario("dashboard-" + phone).whenScenarioStateIs(Scenario.STARTED).willSetStateTo("recovered")
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        String known = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(known).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        assertThat(postSignedBilling(Samples.paymentFailed(newTicketId()).replace("cus_RkT4aB7cD9eF1g", "cus_Nobody" + known))
                .statusCode()).isEqualTo(202);
        byte[] plain = "{}".getBytes(StandardCharsets.UTF_8);
        assertThat(post("/webhooks/billing", "text/plain", plain, Map.of("Stripe-Signature",
                Signatures.stripe(Instant.now().getEpochSecond(), plain, BILLING_SECRET))).statusCode()).isEqualTo(415);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(exported()).as("metrics the dashboard and rules use, missing from /actuator/prometheus")
                        .containsAll(used));
        assertThat(scrape().value("herald_webhook_rejected_total", "reason", "content_type", "source", "billing")).isPositive();
    }

    @Test
    void aBurstOfSignatureFailuresIsAlertedOnceCountedAndListed() throws Exception {
        // Other tests' refusals share this database: start from no recent signature refusals and no burst.
        jdbc.update("DELETE FROM inbound_rejection WHERE http_status = 401");
        jdbc.update("DELETE FROM rejection_burst");
        double before = scrape().value("herald_webhook_rejected_total", "reason", "signature", "source", "support");

        // The support system signs with a secret Herald was not given (a rotation on one side only).
        for (int i = 0; i < 20; i++) {
            postWithRotatedSecret();
        }
        String alert = await().atMost(Duration.ofSeconds(30)).until(() -> burstAlerts(), found -> !found.isEmpty()).get(0);
        assertThat(alert).contains("The support webhook refused 20 requests for their signature in the last 5 minutes",
                "herald.support.webhook-secret (HERALD_SUPPORT_WEBHOOK_SECRET)", "signature does not match the body",
                "/console/rejected?source=support&amp;kind=signature");   // Slack shows &amp; as &

        // More refusals in the same burst: still the one alert, poll after poll (three run here, one after the other, on top
        // of the timer's, each the route the timer runs).
        for (int i = 0; i < 5; i++) {
            postWithRotatedSecret();
        }
        Polls.runNow(camel, "direct:signature-failure-alert", 3);
        assertThat(burstAlerts()).hasSize(1);
        assertThat(scrape().value("herald_webhook_rejected_total", "reason", "signature", "source", "support") - before).isEqualTo(25);

        // The console lists them per source and kind, for a viewer too.
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/console/rejected?source=support"))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("viewer:viewer-demo".getBytes(StandardCharsets.UTF_8)))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        Matcher counts = Pattern.compile("data-source=\"support\" data-kind=\"signature\">.*?class=\"last-day\">(\\d+)<", Pattern.DOTALL)
                .matcher(page.body());
        assertThat(counts.find()).as("a support/signature row in the counts").isTrue();
        assertThat(Integer.parseInt(counts.group(1))).isEqualTo(25);
        assertThat(page.body()).contains("signature does not match the body (wrong secret, or the body was altered)");

        // Hovering around the threshold (found by the alerts audit): older refusals leave the window, the count falls below 20,
        // the sender goes on and it rises again. The same burst, not a new alert at each crossing.
        jdbc.update("UPDATE inbound_rejection SET received_at = received_at - interval '6 minutes' WHERE id IN"
                + " (SELECT id FROM inbound_rejection WHERE http_status = 401 AND source = 'support' ORDER BY id LIMIT 10)");
        Polls.runNow(camel, "direct:signature-failure-alert", 1);
        for (int i = 0; i < 5; i++) {
            postWithRotatedSecret();
        }
        Polls.runNow(camel, "direct:signature-failure-alert", 2);
        assertThat(burstAlerts()).hasSize(1);
        // Over once the window holds no refusal at all.
        jdbc.update("UPDATE inbound_rejection SET received_at = received_at - interval '6 minutes' WHERE http_status = 401 AND source = 'support'"
                + " AND received_at > now() - interval '6 minutes'");
        Polls.runNow(camel, "direct:signature-failure-alert", 1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM rejection_burst WHERE source = 'support'", Integer.class)).isZero();
    }

    private void postWithRotatedSecret() throws Exception {
        String body = Samples.supportEvent("ticket.status_changed.json", newTicketId());
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        assertThat(postSupport(body, now, Signatures.zendesk("the-new-rotated-secret", now, body.getBytes(StandardCharsets.UTF_8)))
                .statusCode()).isEqualTo(401);
    }

    private static List<String> burstAlerts() {
        return OpsAlerts.accepted(infra.providers(), "The support webhook refused", "for their signature");
    }

    private List<String> dashboardExpressions() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        List<String> expressions = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                expressions.add(target.path("expr").asText());
            }
        }
        assertThat(expressions).as("panel queries in " + DASHBOARD).hasSizeGreaterThan(5).doesNotContain("");
        return expressions;
    }

    /** Alert name -> PromQL expression. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> alertRules() throws Exception {
        Map<String, Object> file = new Yaml().load(Files.readString(RULES));
        Map<String, String> rules = new java.util.LinkedHashMap<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                rules.put((String) rule.get("alert"), (String) rule.get("expr"));
            }
        }
        return rules;
    }

    /** Herald's metric names in a PromQL expression (string literals, i.e. label values, left out). */
    static Set<String> metricNames(String expr) {
        Set<String> names = new TreeSet<>();
        Matcher identifier = IDENTIFIER.matcher(expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\""));
        while (identifier.find()) {
            if (identifier.group().startsWith("herald_")) {
                names.add(identifier.group());
            }
        }
        return names;
    }

    private Set<String> exported() throws Exception {
        Set<String> names = new TreeSet<>();
        for (String line : scrapeText().split("\n")) {
            Matcher name = IDENTIFIER.matcher(line);
            if (!line.startsWith("#") && name.lookingAt()) {
                names.add(name.group());
            }
        }
        return names;
    }

    private Prometheus scrape() throws Exception {
        return new Prometheus(scrapeText());
    }

    private String scrapeText() throws Exception {
        HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/prometheus"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(scrape.statusCode()).isEqualTo(200);
        return scrape.body();
    }
}
