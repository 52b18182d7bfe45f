package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import io.herald.testsupport.HeraldIntegrationTest;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * /actuator/health answers fast whatever Camel's checks cost (they run in the background, the endpoint
 * gives their last result), and a webhook whose route is not running answers 503 with Retry-After and a
 * reason, never 404. Health's details (its components) are the admin's alone.
 */
class HealthAndStartTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    @Test
    void healthAnswersWellUnderASecond() throws Exception {
        // UP once Camel has started (its checks' first background run may predate that by a few seconds).
        await().atMost(Duration.ofSeconds(30)).until(() -> http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/actuator/health")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        for (String path : new String[] {"/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness"}) {
            for (int i = 0; i < 5; i++) {
                long start = System.nanoTime();
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
                        HttpResponse.BodyHandlers.ofString());
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                if (path.endsWith("liveness")) {
                    assertThat(health.statusCode()).as(path + " " + health.body()).isEqualTo(200);
                    assertThat(health.body()).as(path).contains("\"status\":\"UP\"");
                } else {
                    // Readiness follows Camel's consumer checks: a Kafka consumer that an earlier test class restarted (or
                    // that is rejoining its group) makes it OUT_OF_SERVICE for a few seconds, truly. Here only the answer's
                    // speed and shape are the point; UP was awaited above.
                    assertThat(health.statusCode()).as(path + " " + health.body()).isIn(200, 503);
                    assertThat(health.body()).as(path).containsPattern("\"status\":\"(UP|OUT_OF_SERVICE)\"");
                }
                // The image's healthcheck allows 5 s; before, an idle Herald took 4-6.5 s here.
                assertThat(took).as(path + " took " + took.toMillis() + " ms").isLessThan(Duration.ofMillis(1500));
            }
        }
        // Camel's own checks are still reported (from their last background run), with the details for the admin.
        HttpResponse<String> details = apiAs(ADMIN, "GET", "/actuator/health", null);
        assertThat(details.body()).contains("\"camelHealth\"", "\"db\"");
    }

    @Test
    void healthDetailsAreShownToTheAdminOnly() throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> apiAs(null, "GET", "/actuator/health", null).statusCode() == 200);
        // Anonymous (the probes), a viewer and an operator see the status alone: no components, no database or Kafka details.
        for (String account : new String[] {null, VIEWER, OPERATOR}) {
            HttpResponse<String> health = apiAs(account, "GET", "/actuator/health", null);
            // UP was awaited above; a Kafka consumer rejoining after an earlier test class may make it OUT_OF_SERVICE for a moment.
            assertThat(health.statusCode()).as(account).isIn(200, 503);
            assertThat(health.body()).as(account).containsPattern("\"status\":\"(UP|OUT_OF_SERVICE)\"")
                    .doesNotContain("\"components\"", "\"details\"", "\"db\"", "\"kafka\"", "\"camelHealth\"");
        }
        HttpResponse<String> admin = apiAs(ADMIN, "GET", "/actuator/health", null);
        assertThat(admin.body()).contains("\"components\"", "\"db\"", "\"kafka\"", "\"camelHealth\"");
    }

    @Test
    void aWebhookWhoseRouteIsNotRunningAnswers503WithRetryAfterNot404() throws Exception {
        long rejectionsBefore = jdbc.queryForObject("SELECT count(*) FROM inbound_rejection", Long.class);
        camel.getRouteController().stopRoute("support-webhook");
        try {
            HttpResponse<String> answer = postSupport("{\"type\": \"ticket.created\"}", "1", "unsigned");
            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Retry-After")).hasValue("10");
            assertThat(answer.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("application/json"));
            assertThat(answer.body()).contains("\"status\":\"retry\"", "support webhook is not running just now", "nothing was accepted",
                    "please retry later");
            // Herald's own state, not the request's fault: nothing is recorded (the database may not even be up yet).
            assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection", Long.class)).isEqualTo(rejectionsBefore);
            // The other webhook, running, answers as usual (here: an unsigned request is refused 401).
            assertThat(post("/webhooks/billing", "application/json", "{}".getBytes(), java.util.Map.of()).statusCode()).isEqualTo(401);
        } finally {
            camel.getRouteController().startRoute("support-webhook");
        }
        // Running again: the same request is answered by the route (an unsigned request is refused 401, and recorded).
        await().atMost(Duration.ofSeconds(10)).until(() -> postSupport("{\"type\": \"ticket.created\"}", "1", "unsigned").statusCode() == 401);
    }

    /** The receipt webhooks' paths have a slash inside (sms/status); their routes are named sms-status-webhook and so on. */
    @Test
    void aStoppedReceiptWebhookAnswers503WithRetryAfterWithOrWithoutATrailingSlash() throws Exception {
        long rejectionsBefore = jdbc.queryForObject("SELECT count(*) FROM inbound_rejection", Long.class);
        byte[] form = "MessageSid=SM1&MessageStatus=delivered".getBytes();
        camel.getRouteController().stopRoute("sms-status-webhook");
        try {
            for (String path : new String[] {"/webhooks/sms/status", "/webhooks/sms/status/"}) {
                HttpResponse<String> answer = post(path, "application/x-www-form-urlencoded", form, java.util.Map.of());
                assertThat(answer.statusCode()).as(path + " " + answer.body()).isEqualTo(503);
                assertThat(answer.headers().firstValue("Retry-After")).hasValue("10");
                assertThat(answer.body()).contains("\"status\":\"retry\"", "sms-status webhook is not running just now", "please retry later");
            }
            assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection", Long.class)).isEqualTo(rejectionsBefore);
        } finally {
            camel.getRouteController().startRoute("sms-status-webhook");
        }
        // Running again: an unsigned callback is refused 401 by the route.
        await().atMost(Duration.ofSeconds(10)).until(() -> post("/webhooks/sms/status", "application/x-www-form-urlencoded", form,
                java.util.Map.of()).statusCode() == 401);
    }
}
