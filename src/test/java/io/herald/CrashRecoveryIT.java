package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.EventStream;
import io.herald.testsupport.PackagedHerald;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Crash safety, with Herald as a separate process (the packaged jar, the image's start command, shipped
 * settings): kill -9 in the middle of a stream of 2,000 events, start again, and count at the providers
 * per channel. Herald never sends anything twice by itself: each event's SMS and ops post reached the
 * provider at most once, and exactly once unless its delivery is UNCERTAIN (cut off by the kill; their
 * providers do not honour an Idempotency-Key, herald.&lt;channel&gt;.resend-cut-off-calls false), each email at
 * most once with every missing one UNCERTAIN, and every event ends in a final state on every channel.
 */
class CrashRecoveryIT {

    private static final int EVENTS = 800;
    private static final List<String> FINAL = List.of("email", "sms", "ops_webhook");
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
    void killedMidStreamAndRestartedNothingIsSentTwiceAndEveryEventEndsInAFinalState() throws Exception {
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

        start(env, port, "second");
        await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            Map<String, Integer> states = stream.deliveryStates();
            return FINAL.stream().mapToInt(channel -> states.getOrDefault(channel + ":SENT", 0)
                    + states.getOrDefault(channel + ":UNCERTAIN", 0)).sum() == FINAL.size() * EVENTS;
        });

        Map<String, String> state = statesByKeyAndChannel(stream);
        Map<String, Map<String, Integer>> atProvider = Map.of("sms", stream.providerRequestsByKey("/Messages.json"),
                "ops_webhook", stream.providerRequestsByKey("/services/"), "email", stream.mailsByKey());
        Map<String, int[]> tally = new TreeMap<>();
        for (int i = 0; i < EVENTS; i++) {
            String key = stream.key(i);
            for (String channel : FINAL) {
                String ended = state.get(key + ":" + channel);
                int received = atProvider.get(channel).getOrDefault(key + ":" + channel, 0);
                assertThat(ended).as("%s of event %d", channel, i).isIn("SENT", "UNCERTAIN");
                assertThat(received).as("%s requests for event %d", channel, i).isLessThanOrEqualTo(1);
                if ("SENT".equals(ended)) {
                    assertThat(received).as("%s requests for event %d, SENT", channel, i).isEqualTo(1);
                }
                int[] counts = tally.computeIfAbsent(channel, c -> new int[4]);
                counts["SENT".equals(ended) ? 0 : 1]++;
                counts[2] += received;
                if ("UNCERTAIN".equals(ended) && received == 1) {
                    counts[3]++;
                }
            }
        }
        // The kill left work in flight, and nothing of it was sent twice.
        assertThat(atKill.getOrDefault("sms:SENT", 0)).isLessThan(EVENTS);
        StringBuilder report = new StringBuilder("crash test (" + EVENTS + " events, kill -9 at " + atKill + "):");
        tally.forEach((channel, counts) -> report.append(String.format(" %s: %d SENT, %d UNCERTAIN (%d of them reached the provider),"
                + " %d requests at the provider, none twice;", channel, counts[0], counts[1], counts[3], counts[2])));
        System.out.println(report);
    }

    /** Final state of each delivery of the stream, by "&lt;notification key&gt;:&lt;channel&gt;". */
    private static Map<String, String> statesByKeyAndChannel(EventStream stream) throws Exception {
        Map<String, String> states = new HashMap<>();
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement query = db.prepareStatement("SELECT n.idempotency_key || ':' || d.channel, d.state FROM delivery d"
                     + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key LIKE ?")) {
            query.setString(1, "billing:invoice.payment_failed:in_testcrash%");
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    states.put(rows.getString(1), rows.getString(2));
                }
            }
        }
        return states;
    }

    private Process start(Map<String, String> env, int port, String name) throws Exception {
        Process herald = PackagedHerald.startHealthy(env, port, Files.createTempFile("herald-crash-" + name + "-", ".log"));
        processes.add(herald);
        return herald;
    }
}
