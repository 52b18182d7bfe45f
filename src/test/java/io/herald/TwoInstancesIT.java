package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.EventStream;
import io.herald.testsupport.HttpSink;
import io.herald.testsupport.PackagedHerald;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two Herald processes (the packaged jar) on the same Kafka and PostgreSQL share a stream of
 * 2,000 events through their consumer group: every event is delivered exactly once per channel,
 * none twice, none lost, and both instances took part; and together they keep to a channel's rate.
 */
class TwoInstancesIT {

    private static final int EVENTS = 800;
    private static EmbeddedInfrastructure infra;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();

    @BeforeAll
    static void packagedHerald() throws Exception {
        infra = EmbeddedInfrastructure.start();
        PackagedHerald.appHome();
    }

    @AfterEach
    void stopHerald() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void twoInstancesShareTheWorkWithNoDuplicateAndNoLoss() throws Exception {
        EventStream stream = new EventStream(infra, "pair", 40);
        stream.createTopics();
        int portA = PackagedHerald.freePort();
        int portB = PackagedHerald.freePort();
        start(stream.environment(portA), portA, "a");
        start(stream.environment(portB), portB, "b");
        stream.seedCustomers();
        stream.publish(EVENTS);

        await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            Map<String, Integer> states = stream.deliveryStates();
            return states.getOrDefault("sms:SENT", 0) == EVENTS && states.getOrDefault("ops_webhook:SENT", 0) == EVENTS
                    && states.getOrDefault("email:SENT", 0) == EVENTS;
        });
        Map<String, Integer> sms = stream.providerRequestsByKey("/Messages.json");
        Map<String, Integer> ops = stream.providerRequestsByKey("/services/");
        Map<String, Integer> mails = stream.mailsByKey();
        for (int i = 0; i < EVENTS; i++) {
            String key = stream.key(i);
            assertThat(sms.get(key + ":sms")).as("SMS requests for event %d", i).isEqualTo(1);
            assertThat(ops.get(key + ":ops_webhook")).as("ops posts for event %d", i).isEqualTo(1);
            assertThat(mails.get(key + ":email")).as("mails for event %d", i).isEqualTo(1);
        }
        assertThat(stream.deliveryStates()).containsOnlyKeys("sms:SENT", "ops_webhook:SENT", "email:SENT");
        // Both instances were given partitions of the notifications topic by the consumer group.
        for (Path log : logs) {
            assertThat(Files.readString(log)).containsPattern("groupId=pair\\.dispatch\\].*(Adding newly assigned partitions|Notifying assignor about the new Assignment).*pair\\.notifications-");
        }
    }

    /**
     * Issue 17 point 3: the SMS rate limit holds for both instances together, counted where it matters, at
     * the provider: a light HTTP sink of its own (not the WireMock sandbox the other channels keep busy) that
     * notes when each request arrives; each instance calls it with its own marker (?instance=a|b).
     */
    @Test
    void twoInstancesTogetherNeverExceedTheSmsRate() throws Exception {
        int rate = 20;
        int events = 300;
        EventStream stream = new EventStream(infra, "paced", 60);
        stream.createTopics();
        try (HttpSink sms = HttpSink.start()) {
            for (String name : List.of("a", "b")) {
                int port = PackagedHerald.freePort();
                Map<String, String> env = stream.environment(port);
                env.put("HERALD_SMS_RATE_PER_SECOND", String.valueOf(rate));
                env.put("HERALD_SMS_URL", sms.url("/2010-04-01/Accounts/ACit/Messages.json") + "?instance=" + name);
                start(env, port, name);
            }
            stream.seedCustomers();
            stream.publish(events);

            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> stream.deliveryStates().getOrDefault("sms:SENT", 0) == events);
            List<HttpSink.Request> calls = sms.requests().stream()
                    .filter(r -> String.valueOf(r.idempotencyKey()).contains("in_testpaced")).toList();
            assertThat(calls).hasSize(events);
            assertThat(calls.stream().map(HttpSink.Request::idempotencyKey).distinct()).hasSize(events);
            int busiest = sms.maxInAnyWindow(Duration.ofSeconds(1), r -> String.valueOf(r.idempotencyKey()).contains("in_testpaced"));
            long first = calls.stream().mapToLong(HttpSink.Request::receivedAtMillis).min().orElseThrow();
            long last = calls.stream().mapToLong(HttpSink.Request::receivedAtMillis).max().orElseThrow();
            double seconds = (last - first) / 1000.0;
            long byA = calls.stream().filter(r -> r.path().contains("instance=a")).count();
            System.out.printf("two instances, SMS rate %d/s: %d SMS in %.1f s (%.1f/s), busiest sliding second %d, instance a %d, b %d;"
                    + " the notifications were admitted over %.1f s%n", rate, events, seconds, events / seconds, busiest, byA, events - byA,
                    stream.admittedSpanSeconds());
            // Permits are granted at most `rate` per 1.05 s for both instances together (ProviderRateLimitsTest), and each is
            // checked again in the HTTP client just before its request is written: one granted more than 40 ms earlier is
            // dropped and a fresh one taken (PermitAtTheWire), so a starved sender thread cannot send on an old permit. At the
            // sink, with two Herald processes, Kafka (in this JVM, beside the sink) and PostgreSQL on 2 cores: 20, 20, 20, 21 and
            // 23 in the busiest sliding second at rate 20 (up to 25 before the check at the wire). The sink notes a request when
            // its connection thread wakes, which on this busy JVM can be well after the bytes arrived, so the count at the sink
            // is bounded at 1.5 x rate here: below what per-instance limits would allow (2 x rate).
            assertThat(busiest).as("SMS in the busiest sliding second at the provider, both instances together").isLessThanOrEqualTo(rate * 3 / 2);
            assertThat(events / seconds).isLessThanOrEqualTo(rate);
            // Both instances sent, and together they used the rate (per-JVM limits would have allowed twice as much).
            assertThat(byA).isBetween(events / 10L, events - events / 10L);
            // The limiter lets the rate through, it does not starve the senders: 11-15/s on a quiet-ish machine, 7-9/s under a load
            // average of 20-43 (then intake itself took 16-32 s to admit the 300 events).
            assertThat(events / seconds).isGreaterThan(rate * 0.25);
        }
    }

    private void start(Map<String, String> env, int port, String name) throws Exception {
        Path log = Files.createTempFile("herald-pair-" + name + "-", ".log");
        logs.add(log);
        processes.add(PackagedHerald.startHealthy(env, port, log));
    }
}
