package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.PackagedHerald;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import io.herald.testsupport.StandaloneKafka;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker killed under a stream of webhooks, with Herald (the packaged jar) and Kafka as separate
 * processes: while Kafka is unreachable every webhook answers 503 within a bound and nothing of it is
 * recorded as accepted; once the broker is back on its port, the same Herald process (no restart)
 * takes webhooks again and every accepted event, and every one the sender retried, is delivered once.
 */
class BrokerOutageIT {

    private static final int BEFORE = 30;
    private static final int DURING = 5;
    private static final int AFTER = 30;
    private static EmbeddedInfrastructure infra;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private StandaloneKafka kafka;
    private Process herald;

    @BeforeAll
    static void packagedHerald() throws Exception {
        infra = PackagedHerald.infrastructureAndAppHome();
    }

    @AfterEach
    void stopAll() throws Exception {
        if (herald != null) {
            herald.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void whileTheBrokerIsDownWebhooksAnswer503AndAfterItIsBackEverythingFlowsWithoutARestart() throws Exception {
        kafka = StandaloneKafka.start();
        String run = "brk" + (System.currentTimeMillis() % 1_000_000);
        String customer = "cus_" + run;
        int port = PackagedHerald.freePort();
        Map<String, String> env = PackagedHerald.prodEnvironment(infra, port, run);
        env.put("HERALD_KAFKA_BROKERS", kafka.brokers());
        env.put("HERALD_TOPICS_REPLICATION_FACTOR", "1");   // Herald creates its topics on this one-broker cluster
        env.put("HERALD_CRM_ENABLED", "false");
        env.put("HERALD_MAIL_RATE_PER_SECOND", "5000");
        herald = PackagedHerald.startHealthy(env, port, Files.createTempFile("herald-broker-outage-", ".log"));
        long pid = herald.pid();
        seedCustomer(customer);   // the schema is Herald's (Flyway, at startup)

        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < BEFORE; i++) {
            assertThat(post(port, paid(run, customer, i)).statusCode()).isEqualTo(202);
            accepted.add(key(run, i));
        }

        kafka.kill();
        List<Integer> refused = new ArrayList<>();
        for (int i = BEFORE; i < BEFORE + DURING; i++) {
            Instant start = Instant.now();
            HttpResponse<String> answer = post(port, paid(run, customer, i));
            Duration took = Duration.between(start, Instant.now());
            assertThat(answer.statusCode()).as("webhook answer while the broker is down").isEqualTo(503);
            assertThat(took).as("time to answer while the broker is down").isLessThan(Duration.ofSeconds(10));
            refused.add(i);
        }

        kafka.startAgain();
        // The sender retries a 5xx (Stripe and Zendesk do): the first tries may still find the producer reconnecting.
        for (int i = BEFORE + DURING; i < BEFORE + DURING + AFTER; i++) {
            String event = paid(run, customer, i);
            await().atMost(Duration.ofSeconds(60)).until(() -> post(port, event).statusCode() == 202);
            accepted.add(key(run, i));
        }
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() -> sentEmails(run) == accepted.size());

        // What was answered 503 was never recorded as accepted...
        for (int i : refused) {
            assertThat(notificationExists(key(run, i))).as("notification for event %d answered 503", i).isFalse();
        }
        // ...and once the sender retries it, it is taken and delivered like the others.
        for (int i : refused) {
            String event = paid(run, customer, i);
            await().atMost(Duration.ofSeconds(60)).until(() -> post(port, event).statusCode() == 202);
            accepted.add(key(run, i));
        }
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> sentEmails(run) == accepted.size());

        Map<String, Integer> mails = mailsByKey(run);
        for (String key : accepted) {
            assertThat(mails.getOrDefault(key + ":email", 0)).as("mails for %s", key).isEqualTo(1);
        }
        assertThat(mails).hasSize(accepted.size());
        assertThat(herald.isAlive()).isTrue();
        assertThat(herald.pid()).as("the same Herald process, never restarted").isEqualTo(pid);
        assertThat(quarantinedOrDeadLettered(run)).isZero();
    }

    private static String paid(String run, String customer, int i) {
        return Samples.text("billing/invoice.paid.json")
                .replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_" + run + "_" + i)
                .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_" + run + "_" + i)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replaceFirst("\"created\": \\d+", "\"created\": " + Instant.now().getEpochSecond());
    }

    private static String key(String run, int i) {
        return "billing:invoice.paid:in_" + run + "_" + i;
    }

    private HttpResponse<String> post(int port, String event) throws Exception {
        byte[] body = event.getBytes(StandardCharsets.UTF_8);
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/billing"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), body, PackagedHerald.BILLING_SECRET))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void seedCustomer(String customer) throws Exception {
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement insert = db.prepareStatement("INSERT INTO customer (customer_id, display_name, email, phone)"
                     + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            insert.setString(1, customer);
            insert.setString(2, "Broker Outage");
            insert.setString(3, customer + "@example.net");
            insert.setString(4, "+447700900123");
            insert.executeUpdate();
        }
    }

    private static int sentEmails(String run) throws Exception {
        return count("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key LIKE ? AND d.channel = 'email' AND d.state = 'SENT'", "%in_" + run + "\\_%");
    }

    private static boolean notificationExists(String key) throws Exception {
        return count("SELECT count(*) FROM notification WHERE idempotency_key = ?", key) > 0;
    }

    private static int quarantinedOrDeadLettered(String run) throws Exception {
        return count("SELECT (SELECT count(*) FROM unrouted_event WHERE source_event_id LIKE ?)"
                + " + (SELECT count(*) FROM dead_letter WHERE payload LIKE '%' || ? || '%')", "evt_" + run + "\\_%", run);
    }

    private static int count(String sql, String... args) throws Exception {
        try (Connection db = PackagedHerald.connect(infra); PreparedStatement query = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                query.setString(i + 1, args[i]);
            }
            try (ResultSet rows = query.executeQuery()) {
                rows.next();
                return rows.getInt(1);
            }
        }
    }

    private static Map<String, Integer> mailsByKey(String run) throws Exception {
        Map<String, Integer> byKey = new HashMap<>();
        for (MimeMessage mail : infra.mail().getReceivedMessages()) {
            String key = mail.getHeader("X-Herald-Idempotency-Key", null);
            if (key != null && key.contains("in_" + run + "_")) {
                byKey.merge(key, 1, Integer::sum);
            }
        }
        return byKey;
    }
}
