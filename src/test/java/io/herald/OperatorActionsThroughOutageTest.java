package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;

/**
 * An operator who acts while PostgreSQL is down (a bulk retry of the parked backlog, a single retry, a look at the failures)
 * is told in words that the database cannot be reached and to try again, not "Herald could not answer (500)"; and a bulk
 * retry that the outage cuts in the middle says how many it retried before, so the operator knows what was done. The
 * console's page says it on a page of its own.
 */
class OperatorActionsThroughOutageTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One outage for both: a bulk retry is cut by PostgreSQL stopping, and while it is down an operator acts on another
     * customer's parked SMS (a bulk retry, a single retry, a look at the failures, the console's page). Each check names
     * which of the two it is about.
     */
    @Test
    void anOperatorActingWhileTheDatabaseIsDownIsToldSoInWordsAndABulkRetryCutByTheOutageSaysWhatItRetriedBeforeIt() throws Exception {
        // The operator acting while it is down.
        String run = "opout" + newTicketId();
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Olga Outage', ?, '+447700900612')",
                customer, customer + "@example.net");
        List<String> keys = parkedSms(run, customer, 2, 1, "now() + interval '1 hour'");
        long parked = deliveryId(keys.get(0));
        // The bulk retry the outage cuts.
        String bulkRun = "bulkout" + newTicketId();
        String bulkCustomer = "cus_" + bulkRun;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Bea Bulk', ?, '+447700900613')",
                bulkCustomer, bulkCustomer + "@example.net");
        List<String> bulkKeys = parkedSms(bulkRun, bulkCustomer, 3, 1, "now() + interval '1 hour'");
        // The bulk retry takes the newest first: the oldest is retried last. Hold its row, so the retry waits there.
        long last = deliveryId(bulkKeys.get(0));
        Connection holder = jdbc.getDataSource().getConnection();
        CompletableFuture<HttpResponse<String>> bulk;
        try {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT id FROM delivery WHERE id = " + last + " FOR UPDATE");
            bulk = CompletableFuture.supplyAsync(() -> {
                try {
                    return apiJson("POST", "/api/deliveries/retry", "{\"customerId\": \"" + bulkCustomer + "\", \"confirm\": true}");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT o.id FROM delivery d%'", Integer.class) > 0);
            infra.stopPostgres();
        } finally {
            try {
                holder.close();
            } catch (Exception closedByTheOutage) {
                // the outage cut it
            }
        }
        HttpResponse<String> answer;
        try {
            answer = bulk.get(60, java.util.concurrent.TimeUnit.SECONDS);
            // Still down: the operator's actions on the other customer.
            for (HttpResponse<String> acted : List.of(
                    apiJson("POST", "/api/deliveries/retry", "{\"customerId\": \"" + customer + "\", \"confirm\": true, \"comment\": \"sms back\"}"),
                    apiJson("POST", "/api/deliveries/" + parked + "/retry", "{\"comment\": \"sms back\"}"),
                    api("GET", "/api/failures?customerId=" + customer))) {
                assertThat(acted.statusCode()).as(acted.uri() + " " + acted.body()).isEqualTo(503);
                assertThat(acted.headers().firstValue("Retry-After")).as(acted.uri().toString()).isPresent();
                assertThat(JSON.readTree(acted.body()).get("error").asText()).as(acted.uri().toString())
                        .startsWith("PostgreSQL cannot be reached just now, so Herald could not finish this request.")
                        .doesNotContain("Exception").doesNotContain("jdbc");
            }
            // The console's page says the same in its own page, not "Herald could not show this page (500)".
            HttpResponse<String> page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
                            + "/console?customerId=" + customer)).header("Accept", "text/html").header("Authorization", "Basic "
                            + java.util.Base64.getEncoder().encodeToString(OPERATOR.getBytes(java.nio.charset.StandardCharsets.UTF_8))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).as("the console's page: " + page.body()).isEqualTo(503);
            assertThat(page.body()).as("the console's page").contains("Not available just now", "PostgreSQL cannot be reached just now,"
                    + " so Herald could not finish this request.").doesNotContain("Herald could not show this page");
        } finally {
            infra.startPostgres();
            evictDeadConnections();
        }
        // The bulk retry the outage cut says what it retried before it.
        assertThat(answer.statusCode()).as("the cut bulk retry: " + answer.body()).isEqualTo(503);
        JsonNode body = JSON.readTree(answer.body());
        assertThat(answer.headers().firstValue("Retry-After")).as("the cut bulk retry's Retry-After").isPresent();
        assertThat(body.get("error").asText()).as("the cut bulk retry").startsWith("PostgreSQL cannot be reached just now: 2 matching"
                + " deliveries were retried before it went, the others are unchanged. Once it is back");
        assertThat(body.get("retried").asInt()).as("the cut bulk retry's count").isEqualTo(2);
        assertThat(body.get("deliveries").findValuesAsText("targetId")).as("the cut bulk retry's deliveries")
                .doesNotContain(String.valueOf(last)).hasSize(2);
        await().atMost(Duration.ofSeconds(60)).until(() -> api("GET", "/actuator/health/readiness").statusCode() == 200);
        assertThat(jdbc.queryForList("SELECT state FROM delivery WHERE id = ?", String.class, parked))
                .as("the delivery retried while the database was down").containsExactly("PARKED");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action a JOIN delivery d ON d.id = a.target_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE a.action = 'RETRY' AND n.customer_id = ?", Integer.class, customer))
                .as("retries while the database was down: nothing recorded as retried").isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action a JOIN delivery d ON d.id = a.target_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE a.action = 'RETRY' AND n.customer_id = ?", Integer.class, bulkCustomer))
                .as("the cut bulk retry: the two retried are audited").isEqualTo(2);
        for (String each : List.of(customer, bulkCustomer)) {   // not left waiting for later tests' quiescence
            jdbc.update("UPDATE delivery SET state = 'DISMISSED', next_attempt_at = NULL WHERE state IN ('PARKED', 'FAILED') AND notification_id IN"
                    + " (SELECT id FROM notification WHERE customer_id = ?)", each);
        }
    }

    private long deliveryId(String key) {
        return jdbc.queryForObject("SELECT d.id FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ? AND d.channel = 'sms'", Long.class, key);
    }

    /**
     * The pool's connections from before the restart are dead; one used less than half a second before the stop is handed out
     * again without a check and fails this test's next query ("terminating connection due to administrator command", seen once).
     * Herald's own calls retry that; the test's direct queries get fresh connections instead.
     */
    private void evictDeadConnections() throws java.sql.SQLException {
        jdbc.getDataSource().unwrap(com.zaxxer.hikari.HikariDataSource.class).getHikariPoolMXBean().softEvictConnections();
    }
}
