package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.EventStream;
import io.herald.testsupport.HttpSink;
import io.herald.testsupport.OpsEachCatalog;
import io.herald.testsupport.PackagedHerald;
import io.herald.testsupport.Samples;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two Herald processes (the packaged jar, the image's start command, shipped settings) on the same Kafka and
 * PostgreSQL share a stream of events through their consumer group, and one of them is killed (kill -9: no shutdown
 * hook, no graceful stop) in the middle of it and started again. Counted at the providers per channel: Herald never
 * sends anything twice by itself: each event's SMS and ops post reached the provider at most once, and exactly once
 * unless its delivery is UNCERTAIN (cut off by the kill; their providers do not honour an Idempotency-Key,
 * herald.&lt;channel&gt;.resend-cut-off-calls false), each email at most once with every missing one UNCERTAIN, every event
 * ends in a final state on every channel, and both instances took part. And together, across the kill and the restart,
 * the two instances keep to the SMS rate, counted where it matters: when the provider received each request.
 */
class TwoInstancesIT {

    private static final int EVENTS = 800;
    private static final List<String> FINAL = List.of("email", "sms", "ops_webhook");
    private static final int TRIALS = 20;
    /** The trial notices' subscription ids start with this. */
    private static final String TRIAL = "sub_pairtrial";
    /** The SMS rate both instances share (issue 17 point 3): low enough that the pair runs into it. */
    private static final int SMS_RATE = 20;
    /** When the trial notices' quiet hours end, in their customers' time zone. */
    private static final LocalTime QUIET_END = LocalTime.of(12, 0);
    private static EmbeddedInfrastructure infra;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private HttpSink smsSink;

    @BeforeAll
    static void packagedHerald() throws Exception {
        infra = PackagedHerald.infrastructureAndAppHome();
    }

    @AfterEach
    void stopHerald() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (smsSink != null) {
            smsSink.close();
        }
    }

    @Test
    void twoInstancesShareAStreamAndAKillOfOneSendsNothingTwiceAndLosesNothing() throws Exception {
        EventStream stream = new EventStream(infra, "pair", 40);
        stream.createTopics();
        // SMS go to a light sink of their own that notes when each request's first byte arrived (WireMock, busy with the
        // other channels, queues requests for its worker threads and notes them in bunches); each instance marks its calls.
        HttpSink sms = HttpSink.start();
        smsSink = sms;
        int portA = PackagedHerald.freePort();
        int portB = PackagedHerald.freePort();
        Path catalog = quietTrials();
        // Both instances start at once (each JVM start took 47-56 s one after the other in the full run, most of it waiting on
        // a core), and the test goes on once both answer healthy: the same two processes, the same settings, as before.
        Process a = launch(environment(stream, portA, catalog, sms, "a"), "a");
        Process b = launch(environment(stream, portB, catalog, sms, "b"), "b");
        PackagedHerald.awaitHealthy(a, portA, logs.get(0));
        PackagedHerald.awaitHealthy(b, portB, logs.get(1));
        stream.seedCustomers();
        // Scheduled sends (issue 14): trial-ending notices held by quiet hours, judged in the customer's time zone, that end
        // 75 s from now, once both instances are up (starting them took 30 s on a quiet machine, over 4 minutes on one
        // running other builds), so they are scheduled before the kill and fired after it, by whichever instance's timer
        // picks them. The trial customers' zone is the offset, to the second, that makes that moment QUIET_END locally
        // (e.g. +06:29:17: a valid zone id, and no need to wait for the next whole minute).
        Instant quietEndsAt = Instant.now().plusSeconds(75).truncatedTo(ChronoUnit.SECONDS);
        ZoneOffset trialZone = zoneWhereItIs(QUIET_END, quietEndsAt);
        String quietEnds = QUIET_END + " at " + trialZone + " (" + LocalTime.ofInstant(quietEndsAt, ZoneOffset.UTC) + " UTC)";
        setTrialCustomersZone(trialZone);
        publishTrials();   // first, so they are dispatched, and held, soon after the start
        stream.publish(EVENTS);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                .until(() -> trialStates().getOrDefault("SCHEDULED", 0) == TRIALS);

        // Let the pair get well into the stream (or close to the end of the quiet hours on a slow machine), then kill -9 one
        // of them, and start it again.
        Instant killBy = quietEndsAt.minusSeconds(30);
        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(200))
                .until(() -> stream.deliveryStates().getOrDefault("sms:SENT", 0) >= EVENTS / 5 || Instant.now().isAfter(killBy));
        long killedAt = System.currentTimeMillis();
        a.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        Map<String, Integer> atKill = stream.deliveryStates();
        assertThat(trialStates()).as("the trial notices at the kill: still waiting for the end of the quiet hours at %s",
                quietEnds).containsOnlyKeys("SCHEDULED");
        start(environment(stream, portA, catalog, sms, "a"), portA, "a-again");

        await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            Map<String, Integer> states = stream.deliveryStates();
            return FINAL.stream().mapToInt(channel -> states.getOrDefault(channel + ":SENT", 0)
                    + states.getOrDefault(channel + ":UNCERTAIN", 0)).sum() == FINAL.size() * EVENTS;
        });
        Map<String, String> state = statesByKeyAndChannel(stream);
        List<HttpSink.Request> smsCalls = sms.requests().stream().filter(r -> String.valueOf(r.idempotencyKey()).contains("in_testpair")).toList();
        Map<String, Integer> smsByKey = new HashMap<>();
        smsCalls.forEach(call -> smsByKey.merge(call.idempotencyKey(), 1, Integer::sum));
        Map<String, Map<String, Integer>> atProvider = Map.of("sms", smsByKey,
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
        // Both instances were given partitions of the notifications topic by the consumer group before the kill.
        for (Path log : logs.subList(0, 2)) {
            assertThat(Files.readString(log)).containsPattern("groupId=pair\\.dispatch\\].*(Adding newly assigned partitions|Notifying assignor about the new Assignment).*pair\\.notifications-");
        }
        StringBuilder report = new StringBuilder("two instances, one killed (" + EVENTS + " events, kill -9 at " + atKill + "):");
        tally.forEach((channel, counts) -> report.append(String.format(" %s: %d SENT, %d UNCERTAIN (%d of them reached the provider),"
                + " %d requests at the provider, none twice;", channel, counts[0], counts[1], counts[3], counts[2])));
        System.out.println(report);

        // Issue 17 point 3: both instances together, across the kill and the restart, never sent more SMS in any second
        // than the rate they share (one Bucket4j bucket in PostgreSQL; any rate + 1 permits at least 1.1 s apart, each
        // checked again just before its request is written), counted when each request's first byte reached the provider.
        List<Long> smsArrivals = smsCalls.stream().map(HttpSink.Request::receivedAtMillis).sorted().toList();
        int busiest = 0;
        long busiestFrom = 0;
        for (int from = 0, to = 0; to < smsArrivals.size(); to++) {
            while (smsArrivals.get(to) - smsArrivals.get(from) >= 1000) {
                from++;
            }
            if (to - from + 1 > busiest) {
                busiest = to - from + 1;
                busiestFrom = smsArrivals.get(from);
            }
        }
        double smsSeconds = (smsArrivals.get(smsArrivals.size() - 1) - smsArrivals.get(0)) / 1000.0;
        long byA = smsCalls.stream().filter(r -> r.path().contains("instance=a")).count();
        System.out.printf("two instances, SMS rate %d/s: %d SMS at the provider in %.1f s (%.1f/s), busiest sliding second %d"
                + " (from %.1f s after the kill), instance a %d, b %d%n", SMS_RATE, smsArrivals.size(), smsSeconds,
                smsArrivals.size() / smsSeconds, busiest, (busiestFrom - killedAt) / 1000.0, byA, smsArrivals.size() - byA);
        assertThat(busiest).as("SMS in the busiest sliding second at the provider, both instances together").isLessThanOrEqualTo(SMS_RATE);
        // Both instances sent while the cap held (instance a before the kill and after its restart: 61-111 of 800 seen, as b
        // holds the partitions while a is gone and both claim from the same ledger).
        assertThat(byA).as("SMS sent by instance a (before the kill and after the restart)").isGreaterThanOrEqualTo(EVENTS / 40);
        assertThat(smsArrivals.size() - byA).as("SMS sent by instance b").isGreaterThanOrEqualTo(EVENTS / 40);
        // The limiter lets the rate through, it does not starve the senders (a sixth of it even on a loaded machine).
        assertThat(smsArrivals.size() / smsSeconds).isGreaterThan(SMS_RATE / 6.0);

        // The scheduled sends outlived the kill: each fired once, on one instance, after the quiet hours, and was mailed once.
        await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofSeconds(2)).until(() -> trialStates().getOrDefault("SENT", 0) == TRIALS);
        Map<String, Integer> trialMails = new HashMap<>();
        for (MimeMessage mail : infra.mail().getReceivedMessages()) {
            String key = mail.getHeader("X-Herald-Idempotency-Key", null);
            if (key != null && key.contains(TRIAL)) {
                trialMails.merge(key, 1, Integer::sum);
                assertThat(mail.getSentDate().toInstant()).as("mailed after the quiet hours").isAfterOrEqualTo(quietEndsAt.minusSeconds(1));
            }
        }
        assertThat(trialMails).hasSize(TRIALS).allSatisfy((key, mails) -> assertThat(mails).as("mails for %s", key).isEqualTo(1));
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement query = db.prepareStatement("SELECT s.state, count(*) FROM scheduled_send s JOIN notification n"
                     + " ON n.id = s.notification_id WHERE n.idempotency_key LIKE ? GROUP BY 1")) {
            query.setString(1, "billing:trial_will_end:" + TRIAL + "%");
            try (ResultSet rows = query.executeQuery()) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1) + ":" + rows.getInt(2)).isEqualTo("FIRED:" + TRIALS);
                assertThat(rows.next()).as("one state for all").isFalse();
            }
        }
        System.out.printf("scheduled sends across the kill: %d trial notices held by quiet hours until %s, each fired and mailed once%n",
                TRIALS, quietEnds);
    }

    /** The stream's catalog (ops: each) with billing.trial_will_end in a category of its own whose quiet hours end at QUIET_END. */
    private static Path quietTrials() throws Exception {
        String catalog = Files.readString(OpsEachCatalog.file());
        String entry = "  billing.trial_will_end:\n    category: billing\n";
        assertThat(catalog).contains(entry).doesNotContain("\ncategories:");
        String quiet = "categories:\n  trials:\n    quiet-hours: \"" + QUIET_END.minusMinutes(30) + "-" + QUIET_END + "\"\n";
        Path file = Files.createTempFile("herald-pair-catalog-", ".yaml");
        Files.writeString(file, catalog.replace(entry, "  billing.trial_will_end:\n    category: trials\n")
                .replace("\nnotifications:\n", "\n" + quiet + "notifications:\n"));
        return file;
    }

    /** The fixed offset whose local time at {@code moment} is {@code local} (within the ±12 hours of the world's zones). */
    private static ZoneOffset zoneWhereItIs(LocalTime local, Instant moment) {
        int seconds = local.toSecondOfDay() - LocalTime.ofInstant(moment, ZoneOffset.UTC).toSecondOfDay();
        int day = 24 * 3600;
        seconds = Math.floorMod(seconds + day / 2, day) - day / 2;
        return ZoneOffset.ofTotalSeconds(seconds);
    }

    /** The trial notices' customers (the stream's first TRIALS) live in {@code zone}. */
    private static void setTrialCustomersZone(ZoneOffset zone) throws Exception {
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement update = db.prepareStatement("UPDATE customer SET time_zone = ? WHERE customer_id = ?")) {
            for (int i = 0; i < TRIALS; i++) {
                update.setString(1, zone.getId());
                update.setString(2, "cus_pair_" + i);
                update.addBatch();
            }
            assertThat(update.executeBatch()).as("trial customers in the directory").hasSize(TRIALS).containsOnly(1);
        }
    }

    /** The stream's settings for one instance, with the catalog of the quiet trial notices and the shared SMS rate. */
    private static Map<String, String> environment(EventStream stream, int port, Path catalog, HttpSink sms, String instance) {
        Map<String, String> env = stream.environment(port);
        env.put("HERALD_CATALOG", catalog.toString());
        env.put("HERALD_SMS_RATE_PER_SECOND", String.valueOf(SMS_RATE));
        // The margin sized for where this sink notes arrivals: in the test JVM beside the Kafka broker, on 2 cores shared with
        // two Herald processes and PostgreSQL, a request's first byte can be noted a hundred milliseconds or more late (the
        // JVM's pauses, threads waiting for a core). With the default 100 ms the sink counted 21 in one second at a rate of 20
        // (twice, 19 s before the kill in one run), where the bucket grants at most 19 in any second (ProviderRateLimitsTest).
        // With 250 ms it counted 21 once (2026-12-03, 16 s before the kill, while instance b was still starting and a's
        // permits were found 220 ms old at the wire). A bucket per instance would still show about twice the rate here.
        env.put("HERALD_DELIVERY_RATE_LIMIT_MARGIN_MS", "400");
        env.put("HERALD_SMS_URL", sms.url("/2010-04-01/Accounts/ACit/Messages.json") + "?instance=" + instance);
        return env;
    }


    /** Stripe-style trial-ending events for the stream's customers, one subscription each. */
    private static void publishTrials() throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < TRIALS; i++) {
                String customer = "cus_pair_" + i;
                producer.send(new ProducerRecord<>("pair.billing.events", customer, Samples.text("billing/customer.subscription.trial_will_end.json")
                        .replace("evt_1QxT1aLkdIwHu7ixK8j7H6g5", "evt_" + TRIAL + i).replace("sub_1Pq8s9LkdIwHu7ix", TRIAL + i)
                        .replace("cus_QwE5rT6yU7iO8p", customer)));
            }
            producer.flush();
        }
    }

    /** The trial notices' email deliveries by state. */
    private static Map<String, Integer> trialStates() throws Exception {
        Map<String, Integer> states = new HashMap<>();
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement query = db.prepareStatement("SELECT d.state, count(*) FROM delivery d JOIN notification n"
                     + " ON n.id = d.notification_id WHERE n.idempotency_key LIKE ? GROUP BY 1")) {
            query.setString(1, "billing:trial_will_end:" + TRIAL + "%");
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    states.put(rows.getString(1), rows.getInt(2));
                }
            }
        }
        return states;
    }

    /** Final state of each delivery of the stream, by "&lt;notification key&gt;:&lt;channel&gt;". */
    private static Map<String, String> statesByKeyAndChannel(EventStream stream) throws Exception {
        Map<String, String> states = new HashMap<>();
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement query = db.prepareStatement("SELECT n.idempotency_key || ':' || d.channel, d.state FROM delivery d"
                     + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key LIKE ?")) {
            query.setString(1, "billing:invoice.payment_failed:in_testpair%");
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    states.put(rows.getString(1), rows.getString(2));
                }
            }
        }
        return states;
    }

    private Process start(Map<String, String> env, int port, String name) throws Exception {
        Process herald = launch(env, name);
        PackagedHerald.awaitHealthy(herald, port, logs.get(logs.size() - 1));
        return herald;
    }

    /** Starts an instance without waiting for it (stopped after the test whatever happens). */
    private Process launch(Map<String, String> env, String name) throws Exception {
        Path log = Files.createTempFile("herald-pair-" + name + "-", ".log");
        logs.add(log);
        Process herald = PackagedHerald.start(env, log);
        processes.add(herald);
        return herald;
    }
}
