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
 * none twice, none lost, and both instances took part.
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

    private void start(Map<String, String> env, int port, String name) throws Exception {
        Path log = Files.createTempFile("herald-pair-" + name + "-", ".log");
        logs.add(log);
        processes.add(PackagedHerald.startHealthy(env, port, log));
    }
}
