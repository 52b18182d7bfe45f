package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/**
 * A first local run: the README's sample scripts post events stamped with the current time, so what they
 * produce is sent within its send window (no window misses, no failure alert for a fresh install).
 */
class SampleScriptsTest extends HeraldIntegrationTest {

    @Test
    void theBillingScriptPostsAnEventThatHappenedNowAndIsSentWithinItsWindow() throws Exception {
        String unique = newTicketId();
        // The shipped sample with an invoice no other test used, so it is a new notification.
        Path sample = Files.createTempFile("invoice.payment_failed", ".json");
        Files.writeString(sample, Samples.paymentFailed(unique));
        Instant before = Instant.now().minusSeconds(2);
        assertThat(run("scripts/post-billing-webhook.sh", sample.toString())).contains("HTTP 202");

        String key = Samples.paymentFailedKey(unique);
        Map<String, Object> notification = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT occurred_at, window_deadline FROM notification WHERE idempotency_key = ?", key), rows -> rows.size() == 1).get(0);
        assertThat(((Timestamp) notification.get("occurred_at")).toInstant()).isBetween(before, Instant.now());
        assertThat(((Timestamp) notification.get("window_deadline")).toInstant()).isAfter(Instant.now());
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
        assertThat(delivery(key, "email").get("window_missed_at")).isNull();
    }

    @Test
    void theSupportScriptPostsTheShippedSampleAsAnEventThatHappenedNow() throws Exception {
        Instant before = Instant.now().minusSeconds(2);
        String output = run("scripts/post-sample-webhook.sh");
        assertThat(output).contains("HTTP 202");
        List<Map<String, Object>> fresh = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT occurred_at, window_deadline FROM notification WHERE source = 'support' AND occurred_at >= ?",
                Timestamp.from(before)), rows -> !rows.isEmpty());
        assertThat(((Timestamp) fresh.get(0).get("window_deadline")).toInstant()).isAfter(Instant.now());
    }

    /**
     * A type with no sample (a typo, or a type the CRM has but the samples do not) stops the CRM script before it inserts
     * anything, naming the samples there are. It used to print "sed: can't read …" and then insert a row with no payload,
     * reported as "crm_outbox row 4 (order.exploded)", which Herald quarantined as "has no payload".
     */
    @Test
    void theCrmScriptRefusesATypeWithNoSampleAndInsertsNothing() throws Exception {
        java.util.concurrent.atomic.AtomicInteger inserts = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer crm = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("localhost", 0), 0);
        crm.createContext("/", exchange -> {
            inserts.incrementAndGet();
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        crm.start();
        try {
            ProcessBuilder builder = new ProcessBuilder("bash", "scripts/insert-crm-outbox-row.sh", "order.confirmd").redirectErrorStream(true);
            builder.environment().put("LOCAL_CRM_URL", "http://localhost:" + crm.getAddress().getPort());
            Process process = builder.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor()).as(output).isNotZero();
            assertThat(output).contains("no sample payload for order.confirmd")
                    .contains("appointment.scheduled, contact.updated, order.confirmed")
                    .doesNotContain("crm_outbox row");
            assertThat(inserts.get()).isZero();
        } finally {
            crm.stop(0);
        }
    }

    private String run(String script, String... arguments) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("bash", script));
        if (arguments.length == 0) {
            command.add(Path.of("src/test/resources/samples/support/ticket.status_changed.json").toString());
        } else {
            command.addAll(List.of(arguments));
        }
        command.add("http://localhost:" + port);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(output).isZero();
        return output;
    }
}
