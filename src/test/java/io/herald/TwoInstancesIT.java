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

    private static final int EVENTS = 2000;
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
     * Issue 17 point 3: the SMS rate limit holds for both instances together. Each instance calls the SMS
     * sandbox with its own marker (?instance=a|b), so the test sees who sent what; the sandbox logs the
     * arrival time of every request.
     */
    @Test
    void twoInstancesTogetherNeverExceedTheSmsRate() throws Exception {
        int rate = 20;
        int events = 300;
        EventStream stream = new EventStream(infra, "paced", 60);
        stream.createTopics();
        for (String name : List.of("a", "b")) {
            int port = PackagedHerald.freePort();
            Map<String, String> env = stream.environment(port);
            env.put("HERALD_SMS_RATE_PER_SECOND", String.valueOf(rate));
            env.put("HERALD_SMS_URL", env.get("HERALD_SMS_URL") + "?instance=" + name);
            start(env, port, name);
        }
        stream.seedCustomers();
        stream.publish(events);

        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .until(() -> stream.deliveryStates().getOrDefault("sms:SENT", 0) == events);
        List<com.github.tomakehurst.wiremock.verification.LoggedRequest> sms = infra.providers().getAllServeEvents().stream()
                .map(com.github.tomakehurst.wiremock.stubbing.ServeEvent::getRequest)
                .filter(r -> r.getUrl().contains("/Messages.json") && String.valueOf(r.getHeader("Idempotency-Key")).contains("in_testpaced"))
                .sorted(java.util.Comparator.comparing(r -> r.getLoggedDate().getTime())).toList();
        assertThat(sms).hasSize(events);
        long[] at = sms.stream().mapToLong(r -> r.getLoggedDate().getTime()).toArray();
        // The busiest second, sliding: never more than the rate (one more at most for a request logged just across the edge).
        int busiest = 0;
        for (int first = 0, last = 0; last < at.length; last++) {
            while (at[last] - at[first] >= 1000) {
                first++;
            }
            busiest = Math.max(busiest, last - first + 1);
        }
        double seconds = (at[at.length - 1] - at[0]) / 1000.0;
        long byA = sms.stream().filter(r -> r.getUrl().contains("instance=a")).count();
        System.out.printf("two instances, SMS rate %d/s: %d SMS in %.1f s (%.1f/s), busiest second %d, instance a %d, b %d%n",
                rate, events, seconds, events / seconds, busiest, byA, events - byA);
        assertThat(busiest).isLessThanOrEqualTo(rate + 1);
        assertThat(events / seconds).isLessThanOrEqualTo(rate);
        // Both instances sent, and together they used the rate (per-JVM limits would have allowed twice as much).
        assertThat(byA).isBetween(events / 10L, events - events / 10L);
        assertThat(events / seconds).isGreaterThan(rate * 0.6);
    }

    private void start(Map<String, String> env, int port, String name) throws Exception {
        Path log = Files.createTempFile("herald-pair-" + name + "-", ".log");
        logs.add(log);
        processes.add(PackagedHerald.startHealthy(env, port, log));
    }
}
