package io.herald.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import io.herald.testsupport.HttpSink;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * "A parked backlog drains at the provider's rate", not a test ({@code mvn -Pbenchmark test
 * -Dbenchmark.scenarios=ParkedDrainBenchmark}): {@code -Dbenchmark.events=2000} agent replies (email, SMS
 * and push each) posted while the SMS provider answers 503, so every SMS is parked; then the provider is
 * back and the backlog comes due at once (the park delay over). Printed: how long the 2,000 SMS took,
 * their rate against the configured SMS rate ({@code -Dbenchmark.sms-rate=50}), the busiest second at
 * the provider (counted by the light sink at each request's first byte), and that each SMS reached the
 * provider exactly once with a 200.
 */
@TestPropertySource(properties = {
        "herald.mail.rate-per-second=5000", "herald.push.rate-per-second=5000",
        "herald.delivery.park-delays=PT1H", "herald.mail.messages-per-connection=1000000"})
class ParkedDrainBenchmark extends BenchmarkHerald {

    private static final int SMS_RATE = Integer.getInteger("benchmark.sms-rate", 50);

    @DynamicPropertySource
    static void threeChannelsAndTheSmsRate(DynamicPropertyRegistry registry) {
        registry.add("herald.catalog", BenchmarkCatalog::agentRepliedOnAllThreeChannels);
        registry.add("herald.sms.rate-per-second", () -> String.valueOf(SMS_RATE));
    }

    @Test
    void twoThousandParkedSmsDrainAtTheConfiguredRate() {
        int events = intSetting("benchmark.events", 2000);
        int customers = intSetting("benchmark.customers", 1000);
        seedCustomers(customers);
        String tag = nextRunTag();
        String keys = "support:agent_replied:" + tag;
        System.out.printf("%n===== Herald benchmark: a parked SMS backlog drains at the SMS rate =====%n"
                + "%d agent replies (email + SMS + push) posted while the SMS provider answers 503; SMS rate %d/s (herald.sms.rate-per-second)%n",
                events, SMS_RATE);

        providers.mode(SMS_PATH, HttpSink.Mode.UNAVAILABLE);
        post(events, 0, i -> agentReply(tag, i, customers));
        // Parked SMS come round every few seconds while the breaker is open (turned away, parked again): most are PARKED at any moment.
        boolean parked = awaitState(keys, "PARKED", events * 95L / 100, Duration.ofMinutes(10));
        System.out.printf("SMS parked: %d of %d%s (the rest on their way round); email and push sent meanwhile: %d and %d%n", count(keys, "PARKED"), events,
                parked ? "" : " (NOT ALL)", sent(keys, "email"), sent(keys, "push"));

        providers.clear();
        providers.mode(SMS_PATH, HttpSink.Mode.OK);
        long due = System.currentTimeMillis();
        jdbc.update("""
                UPDATE delivery d SET next_attempt_at = now() FROM notification n
                WHERE n.id = d.notification_id AND n.idempotency_key LIKE ? AND d.channel = 'sms' AND d.state = 'PARKED'""", keys + "%");
        boolean drained = awaitSent(keys, "sms", events, Duration.ofSeconds(events / SMS_RATE * 3L + 60));

        List<HttpSink.Request> calls = providers.requests(SMS_PATH).stream()
                .filter(r -> r.idempotencyKey() != null && r.idempotencyKey().startsWith(keys)).toList();
        long last = calls.stream().mapToLong(HttpSink.Request::receivedAtMillis).max().orElse(due);
        long first = calls.stream().mapToLong(HttpSink.Request::receivedAtMillis).min().orElse(due);
        double seconds = (last - first) / 1000.0;
        int busiest = providers.maxInAnyWindow(Duration.ofSeconds(1), r -> r.idempotencyKey() != null && r.idempotencyKey().startsWith(keys));
        Map<Long, Long> perSecond = calls.stream().collect(Collectors.groupingBy(r -> (r.receivedAtMillis() - first) / 1000, TreeMap::new,
                Collectors.counting()));
        System.out.printf("%s: %d SMS sent in %.1f s after the backlog came due (first request %d ms after), %.1f/s at a rate of %d/s"
                        + " (%.0f%%); busiest sliding second %d; per second: %s%n", drained ? "drained" : "NOT DRAINED", sent(keys, "sms"),
                (last - due) / 1000.0, first - due, calls.size() / Math.max(0.001, seconds), SMS_RATE,
                100 * calls.size() / Math.max(0.001, seconds) / SMS_RATE, busiest, perSecond.values());
        System.out.printf("machine at the end: %s%n", machine());

        assertThat(drained).as("every parked SMS sent").isTrue();
        assertThat(calls).as("one accepted request per SMS").hasSize(events).allSatisfy(r -> assertThat(r.status()).isEqualTo(200));
        assertThat(calls.stream().map(HttpSink.Request::idempotencyKey).distinct()).hasSize(events);
        assertThat(busiest).as("SMS in the busiest second at the provider").isLessThanOrEqualTo(SMS_RATE);
    }

    private long count(String keyPrefix, String state) {
        return jdbc.queryForObject("""
                SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key LIKE ? AND d.channel = 'sms' AND d.state = ?""", Long.class, keyPrefix + "%", state);
    }

    private boolean awaitState(String keyPrefix, String state, long expected, Duration atMost) {
        long until = System.currentTimeMillis() + atMost.toMillis();
        while (System.currentTimeMillis() < until) {
            if (count(keyPrefix, state) >= expected) {
                return true;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(500).toNanos());   // polling the ledger, as awaitSent does
        }
        return false;
    }
}
