package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.PackagedHerald;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The image's start command (docker/entrypoint.sh on the exploded layered jar, exactly as the
 * Dockerfile lays it out) run as a separate process with the prod profile, configured only by
 * environment variables that point at the embedded infrastructure.
 *
 * <p>The three starts run side by side (failsafe enables JUnit's parallel execution for classes that ask for it): each
 * test has its own Herald process, port, output file and instance of this class; the two refused starts stop before
 * Kafka and the mail server are used, so they meet nothing of the delivering one's. One after the other they took
 * 129 s of the failsafe run's critical path.
 */
@Execution(ExecutionMode.CONCURRENT)
class ProdStartIT {

    private static EmbeddedInfrastructure infra;

    private final HttpClient http = HttpClient.newHttpClient();
    private Process herald;
    private Path output;

    @BeforeAll
    static void explodeTheJarLikeTheDockerfile() throws Exception {
        infra = PackagedHerald.infrastructureAndAppHome();
        // The CRM exposes its outbox in a schema of its own in Herald's database (Flyway owns public).
        PackagedHerald.createCrmOutbox(infra);
    }

    @AfterEach
    void stopHerald() throws Exception {
        if (herald != null && herald.isAlive()) {
            herald.destroy();
            herald.waitFor(30, TimeUnit.SECONDS);
            herald.destroyForcibly();
        }
    }

    @Test
    void startsWithTheProdProfileFromEnvironmentAndDeliversASignedWebhook() throws Exception {
        int port = PackagedHerald.freePort();
        herald = start(prodEnvironment(port));
        String base = "http://localhost:" + port;
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> get(base + "/actuator/health", null).statusCode() == 200);

        // Hawtio, Jolokia and the actuator need the admin login outside the local profile.
        assertThat(get(base + "/actuator/hawtio/", null).statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/jolokia/search/org.apache.camel:type=routes,*", null).statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/hawtio/", "admin:wrong").statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/hawtio/", "admin:" + PackagedHerald.ADMIN_PASSWORD).statusCode()).isEqualTo(200);
        assertThat(get(base + "/actuator/jolokia/search/org.apache.camel:type=routes,*", "admin:" + PackagedHerald.ADMIN_PASSWORD).body())
                .contains("support-webhook", "deliver-email");

        // The real path through the packaged application, for a customer in the (unseeded) prod directory.
        try (Connection db = PackagedHerald.connect(infra)) {
            db.createStatement().execute("INSERT INTO customer (customer_id, display_name, email, locale) "
                    + "VALUES ('cus_RkT4aB7cD9eF1g', 'Jenny Rosen', 'jenny.rosen@example.org', 'en-GB') ON CONFLICT DO NOTHING");
        }
        infra.mail().purgeEmailFromAllMailboxes();
        String ticket = String.valueOf(900_000 + (System.nanoTime() % 90_000));
        String event = Samples.supportEvent("ticket.comment_added.json", ticket);
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create(base + "/webhooks/support"))
                .header("Content-Type", "application/json")
                .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk(PackagedHerald.SUPPORT_SECRET, timestamp, event.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(event)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> infra.mail().getReceivedMessages().length == 1);
        MimeMessage mail = infra.mail().getReceivedMessages()[0];
        assertThat(mail.getSubject()).isEqualTo("New reply on your request #" + ticket + ": Printer error E-42 after update");

        // The CRM outbox, polled from the CRM's schema.
        try (Connection db = PackagedHerald.connect(infra)) {
            db.createStatement().execute("INSERT INTO crm.crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', '"
                    + Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-IT" + ticket) + "')");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> infra.mail().getReceivedMessages().length == 2);
        assertThat(infra.mail().getReceivedMessages()[1].getSubject()).isEqualTo("Order ORD-IT" + ticket + " confirmed: €129.90");
        assertThat(Files.readString(output)).doesNotContain("jenny.rosen@example.org");

        // Metrics are for scrapers, which hold no login (the rest of the actuator stays closed). The second mail reaches the
        // mail server before Herald has recorded it SENT (and counted it): on a busy machine the scrape came in between.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> metrics = get(base + "/actuator/prometheus", null);
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("herald_events_in_total{source=\"support\"} 1.0", "herald_events_in_total{source=\"crm\"}",
                    "herald_deliveries_total{channel=\"email\",state=\"SENT\"} 2.0");
        });
        assertThat(get(base + "/actuator/metrics", null).statusCode()).isEqualTo(401);
    }

    @Test
    void aCrmOutboxTableThatCannotBeReadStopsStartupNamingTheSetting() throws Exception {
        Map<String, String> env = prodEnvironment(PackagedHerald.freePort());
        env.put("HERALD_CRM_OUTBOX_TABLE", "crm.no_such_outbox");
        herald = start(env);

        assertThat(herald.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(herald.exitValue()).isNotZero();
        assertThat(Files.readString(output))
                .contains("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): the CRM outbox table 'crm.no_such_outbox' cannot be read")
                .contains("HERALD_CRM_ENABLED=false");
    }

    @Test
    void aMissingRequiredSettingStopsStartupNamingIt() throws Exception {
        Map<String, String> env = prodEnvironment(PackagedHerald.freePort());
        env.remove("HERALD_SUPPORT_WEBHOOK_SECRET");
        env.remove("HERALD_DB_URL");
        env.put("HERALD_ADMIN_PASSWORD", "change-me");   // deploy/kubernetes/secret.yaml applied unedited
        herald = start(env);

        assertThat(herald.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(herald.exitValue()).isNotZero();
        assertThat(Files.readString(output))
                .contains("missing required settings")
                .contains("herald.db.url (environment variable HERALD_DB_URL)")
                .contains("herald.support.webhook-secret (environment variable HERALD_SUPPORT_WEBHOOK_SECRET)")
                .contains("herald.admin.password (environment variable HERALD_ADMIN_PASSWORD, still the placeholder 'change-me' of"
                        + " deploy/kubernetes/secret.yaml or configmap.yaml)");
    }

    private Process start(Map<String, String> env) throws IOException {
        output = Files.createTempFile("herald-prod-", ".log");
        return PackagedHerald.start(env, output);
    }

    private static Map<String, String> prodEnvironment(int port) {
        return PackagedHerald.prodEnvironment(infra, port, "herald-prod-it");
    }

    private HttpResponse<String> get(String url, String basicAuth) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
        if (basicAuth != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(basicAuth.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
