package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
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
 * Crash safety, with Herald as a separate process (the packaged jar, the image's start command):
 * kill -9 in the middle of a stream of 2,000 events, start again, and every event is delivered
 * exactly once per channel at the HTTP providers (by idempotency key) and at most once by email,
 * an email whose outcome is unknown being flagged UNCERTAIN instead of sent again.
 */
class CrashRecoveryIT {

    private static final int EVENTS = 2000;
    private static EmbeddedInfrastructure infra;
    private final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void packagedHerald() throws Exception {
        infra = EmbeddedInfrastructure.start();
        PackagedHerald.appHome();
    }

    @AfterEach
    void stopHerald() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void killedMidStreamAndRestartedEveryEventIsDeliveredOncePerChannel() throws Exception {
        EventStream stream = new EventStream(infra, "crash", 40);
        stream.createTopics();
        int port = PackagedHerald.freePort();
        Map<String, String> env = stream.environment(port);
        Process first = start(env, port, "first");
        stream.seedCustomers();
        stream.publish(EVENTS);

        // Let it get well into the stream, then kill -9 (no shutdown hook, no graceful stop).
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(200))
                .until(() -> stream.deliveryStates().getOrDefault("sms:SENT", 0) >= EVENTS / 5);
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Map<String, Integer> atKill = stream.deliveryStates();
        assertThat(atKill.getOrDefault("sms:SENT", 0)).isLessThan(EVENTS);

        start(env, port, "second");
        await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            Map<String, Integer> states = stream.deliveryStates();
            return states.getOrDefault("sms:SENT", 0) == EVENTS && states.getOrDefault("ops_webhook:SENT", 0) == EVENTS
                    && states.getOrDefault("email:SENT", 0) + states.getOrDefault("email:UNCERTAIN", 0) == EVENTS;
        });

        Map<String, Integer> sms = stream.providerRequestsByKey("/Messages.json");
        Map<String, Integer> ops = stream.providerRequestsByKey("/services/");
        Map<String, Integer> mails = stream.mailsByKey();
        int uncertain = stream.deliveryStates().getOrDefault("email:UNCERTAIN", 0);
        for (int i = 0; i < EVENTS; i++) {
            String key = stream.key(i);
            assertThat(sms).as("SMS for event %d", i).containsKey(key + ":sms");
            assertThat(ops).as("ops post for event %d", i).containsKey(key + ":ops_webhook");
            assertThat(mails.getOrDefault(key + ":email", 0)).as("mails for event %d", i).isLessThanOrEqualTo(1);
        }
        // Exactly once per channel at the providers, by idempotency key; repeats carry the same key.
        assertThat(sms).hasSize(EVENTS);
        assertThat(ops).hasSize(EVENTS);
        // Every email is either in the inbox exactly once or flagged for review.
        assertThat(mails.size() + uncertain).isGreaterThanOrEqualTo(EVENTS);
        System.out.printf("crash test: at kill %s; after restart: %d SMS keys (%d requests), %d ops keys (%d requests),"
                        + " %d mails, %d emails UNCERTAIN%n", atKill, sms.size(), sms.values().stream().mapToInt(Integer::intValue).sum(),
                ops.size(), ops.values().stream().mapToInt(Integer::intValue).sum(), mails.size(), uncertain);
    }

    private Process start(Map<String, String> env, int port, String name) throws Exception {
        Process herald = PackagedHerald.startHealthy(env, port, Files.createTempFile("herald-crash-" + name + "-", ".log"));
        processes.add(herald);
        return herald;
    }
}
