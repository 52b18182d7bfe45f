package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;

/**
 * After an outage, parked SMS drain at the configured SMS rate (herald.sms.rate-per-second, 10 in the
 * local profile), each sent once; and a re-drive the open circuit breaker turns away keeps its park
 * slot, so a recovered provider gets the backlog instead of a wave of failures.
 */
class ParkedDrainTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final int SMS_RATE = 10;   // herald.sms.rate-per-second (config/application.yaml; local does not change it)

    @Test
    void aParkedBacklogDrainsAtTheSmsRateOnceTheProviderIsBack() {
        String run = "drain" + newTicketId();
        String customer = customer(run);
        List<String> keys = parkedSms(run, customer, 200, 1, "now() + interval '1 hour'");

        // The outage is over: the whole backlog is due at once.
        Instant due = Instant.now();
        jdbc.update("UPDATE delivery SET next_attempt_at = now() WHERE state = 'PARKED' AND channel = 'sms' AND notification_id IN"
                + " (SELECT id FROM notification WHERE customer_id = ?)", customer);

        // All 200 are sent, at the rate the SMS provider allows, in about 200 / 10 = 20 s.
        await().atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofSeconds(1)).until(() -> states(customer).getOrDefault("SENT", 0L) == 200L);
        Duration took = Duration.between(due, Instant.now());
        List<LoggedRequest> calls = requestsFor(keys);
        // Once each: one provider request per delivery, each with its own idempotency key.
        assertThat(calls).hasSize(200);
        assertThat(calls.stream().map(r -> r.getHeader("Idempotency-Key")).distinct()).hasSize(200);
        // Never more than the configured rate in any second at the provider (one more at most where a request
        // sent at the end of one throttle period is logged by the provider in the next second).
        Map<Long, Long> perSecond = calls.stream().collect(Collectors.groupingBy(r -> r.getLoggedDate().getTime() / 1000, TreeMap::new,
                Collectors.counting()));
        assertThat(perSecond.values()).allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(SMS_RATE + 1));
        assertThat(perSecond.values().stream().mapToLong(Long::longValue).average().orElseThrow()).isLessThanOrEqualTo(SMS_RATE);
        // And close to it: the poll keeps claiming batches while due rows remain (not one batch of 50 per poll).
        assertThat(took).isLessThan(Duration.ofSeconds(200 / SMS_RATE + 15));
        assertThat(perSecond.values().stream().filter(count -> count >= SMS_RATE - 2).count()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void aReDriveTheOpenBreakerTurnsAwayKeepsItsParkSlot() {
        String run = "slot" + newTicketId();
        String customer = customer(run);
        // Twelve SMS on their last park slot (the local profile parks 3 times): one more counted failure fails them.
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"Service unavailable\"}")));
        List<String> keys;
        try {
            keys = parkedSms(run, customer, 12, 3, "now()");
            // Each is re-driven during the outage: the first ones reach the provider and fail for good (after their
            // last slot); once the breaker has opened the others are turned away without being offered.
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("""
                    SELECT count(DISTINCT d.id) FROM delivery d JOIN notification n ON n.id = d.notification_id
                    JOIN delivery_attempt a ON a.delivery_id = d.id WHERE n.customer_id = ?""", Long.class, customer) == 12L);
            assertThat(jdbc.queryForList("""
                    SELECT d.state, d.parked_count, d.reason FROM delivery d JOIN notification n ON n.id = d.notification_id
                    WHERE n.customer_id = ? AND d.state = 'PARKED'""", customer)).isNotEmpty().allSatisfy(row -> {
                        assertThat(row.get("parked_count")).isEqualTo(3);
                        assertThat(row.get("reason").toString()).startsWith("sms provider unavailable: ").contains("circuit breaker is open",
                                "not counted, it was not offered to the provider");
                    });
        } finally {
            infra.providers().removeStub(down);
        }
        // The provider is back: every SMS that was turned away is sent once the breaker lets calls through.
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                .until(() -> !states(customer).containsKey("PARKED") && !states(customer).containsKey("SENDING"));
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT n.idempotency_key, d.state FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.customer_id = ?""",
                customer);
        List<LoggedRequest> calls = requestsFor(keys);
        for (Map<String, Object> row : rows) {
            String key = row.get("idempotency_key") + ":sms";
            long offered = calls.stream().filter(r -> key.equals(r.getHeader("Idempotency-Key"))).count();
            if ("FAILED".equals(row.get("state"))) {
                // Only a delivery the provider was actually offered (and refused, 503) during the outage may fail.
                assertThat(offered).as(key).isPositive();
            } else {
                assertThat(row.get("state")).as(key).isEqualTo("SENT");
            }
        }
        assertThat(rows).filteredOn(row -> "SENT".equals(row.get("state"))).hasSizeGreaterThanOrEqualTo(6);
    }

    private String customer(String run) {
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Parker Park', ?, ?)",
                customer, customer + "@example.net", "+4477009" + (10000 + Integer.parseInt(run.replaceAll("\\D", "")) % 89999));
        return customer;
    }


    private Map<String, Long> states(String customer) {
        return jdbc.queryForList("SELECT d.state, count(*) AS n FROM delivery d JOIN notification n ON n.id = d.notification_id"
                        + " WHERE n.customer_id = ? GROUP BY d.state", customer).stream()
                .collect(Collectors.toMap(r -> (String) r.get("state"), r -> ((Number) r.get("n")).longValue()));
    }

    private List<LoggedRequest> requestsFor(List<String> keys) {
        java.util.Set<String> wanted = keys.stream().map(k -> k + ":sms").collect(Collectors.toSet());
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))).stream()
                .filter(r -> wanted.contains(r.getHeader("Idempotency-Key"))).toList();
    }
}
