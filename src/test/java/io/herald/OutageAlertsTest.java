package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.local.EmbeddedInfrastructure;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.AlertSettings;
import io.herald.config.TopicSettings;
import io.herald.ops.OpsKafkaAdmin;
import io.herald.ops.OutageAlerts;
import io.herald.ops.ProviderBreakers;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.OpsEachCatalog;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.ParkedSms;
import io.herald.testsupport.Polls;
import io.herald.testsupport.SkippingClock;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * An SMS provider outage is announced on the ops webhook once, with the parked deliveries it holds,
 * and once when the provider is back: not per failed delivery, not at every poll.
 *
 * <p>Its own Herald (OwnHerald: database, topics, consumer group) whose outage poll runs every 200 ms and whose database
 * calls give up after 1 s, so "not announced again" is checked after several polls that provably ran (Polls) in about a
 * second rather than after a fixed wait of a few 2 s polls. It posts to an ops webhook path of its own and sends SMS to
 * an account path of its own, whose outage the shared test Herald in the same JVM never sees (it once parked that
 * Herald's SMS too); the shared Herald does see the same PostgreSQL outage and announces it on the usual path.
 *
 * <p>An outage is over once it has not been seen for herald.alerts.outage-settle (here the shipped 2 minutes): the test
 * shows its end is not posted while the settle period runs, then skips it on its Herald's clock ({@link SkippingClock})
 * rather than waiting for it.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
@Import(OutageAlertsTest.Time.class)
class OutageAlertsTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    /** An SMS account of its own: the outage must not reach the shared test Herald's SMS (same provider sandbox, same JVM). */
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACoutage/Messages.json";
    private static final String OPS_PATH = "/services/T0OUTAGE/B0OUTAGE/outage-alerts-test";
    private static final String DOWN = "SMS provider failing since ";
    private static final String BACK = "SMS provider back since ";
    /** Polls that must have run, each after the last alert, before "nothing more was posted" is believed. */
    private static final int POLLS = 3;
    private static final Duration SETTLE = Duration.ofMinutes(2);
    private static final SkippingClock clock = new SkippingClock();

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    CamelContext camel;
    @Autowired
    ProviderBreakers breakers;
    @Autowired
    ObjectMapper json;
    @Autowired
    AlertSettings alertSettings;
    @Autowired
    OpsKafkaAdmin kafkaAdmin;
    @Autowired
    TopicSettings topics;
    @Autowired
    io.herald.ops.MissingTopics missingTopics;

    @TestConfiguration
    static class Time {
        @Bean
        @Primary
        SkippingClock skippingClock() {
            return clock;
        }
    }

    @DynamicPropertySource
    static void ownHeraldWithAQuickOutagePoll(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "outage-alerts-test");
        // The shared test Herald's catalog: the sample payment failures' 2025 dates are sent late, not stopped as late.
        registry.add("herald.catalog", () -> OpsEachCatalog.file().toString());
        registry.add("herald.alerts.poll-interval-ms", () -> "200");
        registry.add("herald.alerts.outage-settle", SETTLE::toString);
        registry.add("herald.infrastructure.db-connect-timeout-ms", () -> "1000");
        // Readiness (and what the database outage tests wait for) from a check every 500 ms rather than the shipped 5 s.
        registry.add("management.health.db-check-interval-ms", () -> "500");
        registry.add("herald.ops-webhook.url", () -> infra.providers().baseUrl() + OPS_PATH);
        registry.add("herald.sms.url", () -> infra.providers().baseUrl() + SMS_PATH);
    }

    /**
     * The team running the broker deletes one of Herald's topics (here the dead letters', which nothing reads, so nothing
     * creates it again). Kafka itself still answers, so nothing told an operator, while webhooks writing to such a topic
     * answered 503 and its events waited. Now the outage alert names the topic and the command that recreates it, and says
     * once it is there again.
     */
    @Test
    void aTopicDeletedOnTheBrokerIsAnnouncedByNameAndItsReturnOnce() throws Exception {
        String topic = topics.deadLetters();
        String missing = "Kafka topic " + topic + " missing since ";
        String back = "Kafka topic " + topic + " there again since ";
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            admin.deleteTopics(List.of(topic)).all().get();
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, missing).isEmpty());
                assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, missing).get(0)).containsPattern(missing.replace(".", "\\.")
                        + "\\d\\d:\\d\\d UTC \\(deleted on the broker, which does not create it again by itself\\): webhooks writing to it"
                        + " answer 503 \\(senders retry\\) and the events it carries wait\\. Recreate it: kafka-topics\\.sh --create --topic "
                        + topic.replace(".", "\\.") + " --partitions \\d+ --replication-factor 1 --config max\\.message\\.bytes=2097152");
                Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
                assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, missing)).as("not repeated while it lasts").hasSize(1);
            } finally {
                await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
                    return true;
                });
            }
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            clock.skip(SETTLE);
            await().atMost(Duration.ofSeconds(20)).until(() -> !OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back).isEmpty());
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back).get(0)).containsPattern(back.replace(".", "\\.")
                    + "\\d\\d:\\d\\d UTC: webhooks writing to it take events again and its waiting events are processed");
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back)).hasSize(1);
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, missing)).hasSize(1);
        }
    }

    /**
     * A topic this instance has never seen on the broker is not "deleted on the broker": Kafka unreachable at startup and
     * back before HeraldTopics' next try (every 15 s) creates the topics, or a Kafka login that may not describe a topic
     * (listTopics leaves out what it may not describe). Each used to be alerted as "missing since … (deleted on the
     * broker …)", and its return a poll later. Only a topic seen there and then gone is missing.
     */
    @Test
    void aTopicNeverSeenOnTheBrokerIsNotAnnouncedAsDeleted() throws Exception {
        String topic = "herald.outage-test.not-yet-created";
        io.herald.ops.MissingTopics check = new io.herald.ops.MissingTopics(kafkaAdmin, List.of(topic), 1, 1, 0);
        assertThat(check.missing()).as("never seen on the broker: not yet created (or not described), not deleted").isEmpty();
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            await().atMost(Duration.ofSeconds(20)).until(() -> check.missing().isEmpty());
            admin.deleteTopics(List.of(topic)).all().get();
            await().atMost(Duration.ofSeconds(20)).until(() -> check.missing().equals(List.of(topic)));
        }
    }

    @Test
    void aProviderOutageIsAnnouncedOnceAndItsEndOnce() {
        int downBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN).size();
        int backBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK).size();
        String run = "outage" + System.nanoTime() % 1_000_000_000;
        String customer = customerWithAPhone(run, "Otto Outage", "+4477007");
        StubMapping down = failing();
        try {
            ParkedSms.insert(jdbc, run, customer, 8, 0, "now()");
            // The breaker opens on the provider's 503s: one alert, naming the provider, the time and the parked deliveries.
            await().atMost(Duration.ofSeconds(40)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN).size() > downBefore);
            String alert = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN).get(downBefore);
            assertThat(alert).containsPattern("SMS provider failing since \\d\\d:\\d\\d UTC \\(circuit breaker open\\): \\d+ deliver(y|ies) parked");
            // Not repeated while the outage lasts.
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN)).hasSize(downBefore + 1);
        } finally {
            infra.providers().removeStub(down);
        }
        // The provider answers again: the parked SMS go out, the breaker closes, and its end is announced once, after the
        // settle period.
        backForTheSettlePeriod(backBefore);
        List<String> back = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK);
        assertThat(back.get(backBefore)).containsPattern("SMS provider back since \\d\\d:\\d\\d UTC: its breaker closed, and any deliveries it parked are sent as they come due");
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK)).hasSize(backBefore + 1);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN)).hasSize(downBefore + 1);
    }

    /**
     * A flapping provider: its breaker opens, closes once the provider answers again, and opens again a few seconds later
     * (within herald.alerts.outage-settle). One outage: one "failing" post, and one "back" post once it has
     * stayed back for the settle period. Before, each close and open posted its end and a new start.
     */
    @Test
    void aFlappingProviderIsOneOutageWithOneStartAndOneEnd() {
        int downBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN).size();
        int backBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK).size();
        String run = "flap" + System.nanoTime() % 1_000_000_000;
        String customer = customerWithAPhone(run, "Flora Flap", "+4477008");
        StubMapping down = failing();
        ParkedSms.insert(jdbc, run + "a", customer, 8, 0, "now()");
        await().atMost(Duration.ofSeconds(40)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN).size() > downBefore);
        // The provider answers again for a moment: the breaker closes ...
        infra.providers().removeStub(down);
        await().atMost(Duration.ofSeconds(60)).until(() -> "CLOSED".equals(breakers.states().get("sms")));
        // ... and it fails again: the breaker opens again before the settle period is over.
        down = failing();
        try {
            ParkedSms.insert(jdbc, run + "b", customer, 8, 0, "now()");
            await().atMost(Duration.ofSeconds(20)).until(() -> ProviderBreakers.isOpen(breakers.states().get("sms")));
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK)).as("'back' posts while it flaps").hasSize(backBefore);
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN)).as("'failing' posts while it flaps").hasSize(downBefore + 1);
        } finally {
            infra.providers().removeStub(down);
        }
        // Back for good: its end is posted once, after the settle period.
        backForTheSettlePeriod(backBefore);
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK)).hasSize(backBefore + 1);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, DOWN)).hasSize(downBefore + 1);
    }

    /**
     * A route left suspended (ops-gauges, as by Hawtio's Suspend) past herald.alerts.route-stopped-after is announced once,
     * and once it runs again its end is posted within a few polls: a route does not flap, someone resumed it. Since the
     * route-stopped alerts joined the shared outage records, that end waited herald.alerts.outage-settle (2 minutes
     * shipped and here) like a provider's, so the operator who had just clicked Resume heard nothing for two minutes.
     */
    @Test
    void aRouteLeftSuspendedIsAnnouncedAndItsEndPostedOnceItRunsWithoutWaitingForTheSettlePeriod() throws Exception {
        String stopped = "The dashboards' queue and backlog figures are not being updated";
        String running = "The dashboards' figures are being updated again";
        int stoppedBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, stopped).size();
        int runningBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, running).size();
        camel.getRouteController().suspendRoute("ops-gauges");
        try {
            Polls.awaitWhole(camel, "outage-alerts", 1, Duration.ofSeconds(20));   // a poll saw it suspended: its "since"
            clock.skip(alertSettings.routeStoppedAfter());
            await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, stopped).size() > stoppedBefore);
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, stopped).get(stoppedBefore))
                    .contains("Herald's route ops-gauges has been suspended since ", "select ops-gauges and click Resume.");
        } finally {
            camel.getRouteController().resumeRoute("ops-gauges");
        }
        // Resumed: its end comes within a few polls, the clock not skipped past the settle period.
        await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, running).size() > runningBefore);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, running).get(runningBefore))
                .containsPattern("The dashboards' figures are being updated again: Herald's route ops-gauges is running again since \\d\\d:\\d\\d UTC");
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, running)).hasSize(runningBefore + 1);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, stopped)).hasSize(stoppedBefore + 1);
    }

    /**
     * The SMS provider answers again: once its breaker has closed and a poll has seen it closed, its end is not posted
     * while the settle period runs; skipped on the clock, it is posted.
     */
    private void backForTheSettlePeriod(int backBefore) {
        await().atMost(Duration.ofSeconds(90)).until(() -> "CLOSED".equals(breakers.states().get("sms")));
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK)).as("'back' posts within the settle period").hasSize(backBefore);
        clock.skip(SETTLE);
        await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, BACK).size() > backBefore);
    }

    /** A customer of this run, with a phone number of its own under {@code prefix}. */
    private String customerWithAPhone(String run, String name, String prefix) {
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, ?, ?, ?)", customer, name,
                customer + "@example.net", prefix + (10000 + Integer.parseInt(run.replaceAll("\\D", "")) % 89999));
        return customer;
    }

    /** The test's SMS account answers 503 until the stub is removed. */
    private StubMapping failing() {
        return infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"Service unavailable\"}")));
    }

    /**
     * Two instances on one PostgreSQL see the same parked backlog: the ops webhook is told once that it started and once
     * that it is over, not once per instance (found by the multi-instance audit: each instance kept its outages in its own
     * memory and posted both). The second instance is this Herald's outage poll run a second time with a memory of its own
     * (what an instance keeps to itself), on the same database, breakers, Kafka and ops webhook, as the shipped route does.
     */
    @Test
    void twoInstancesAnnounceAParkedBacklogOnceAndItsEndOnce() throws Exception {
        String backlog = "sms deliveries parked (since ";
        String backlogOver = "sms parked deliveries below herald.alerts.parked-threshold again";
        // An outage an earlier test left going (its end waiting for the settle period) ends first.
        clock.skip(SETTLE);
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        OutageAlerts secondInstance = new OutageAlerts(jdbc, json, alertSettings, breakers, kafkaAdmin,
                new io.herald.ops.StoppedRoutes(camel, jdbc, alertSettings), missingTopics, clock);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("timer:outage-alerts-second?period={{herald.alerts.poll-interval-ms}}").routeId("outage-alerts-second")
                        .bean(secondInstance, "compose")
                        .filter(simple("${body} != null"))
                            .doTry()
                                .bean("providerAddress", "set(${exchange}, 'ops-webhook')")
                                .to("http://ops-webhook?connectTimeout={{herald.alerts.connect-timeout-ms}}"
                                        + "&responseTimeout={{herald.alerts.response-timeout-ms}}")
                                .removeHeader(Exchange.HTTP_URI)
                                .bean(secondInstance, "posted")
                            .doCatch(Exception.class)
                                .bean(secondInstance, "notPosted")
                            .end()
                        .end();
            }
        });
        String run = "twice" + System.nanoTime() % 1_000_000_000;
        String customer = "cus_" + run;
        try {
            int backlogBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog).size();
            int backlogOverBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlogOver).size();
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Tess Twice', ?, '+447700900778')",
                    customer, customer + "@example.net");
            ParkedSms.insert(jdbc, run, customer, 100, 1, "now() + interval '1 hour'");
            await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog).size() > backlogBefore);
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            Polls.awaitWhole(camel, "outage-alerts-second", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog)).as("the backlog's start, told by two instances").hasSize(backlogBefore + 1);
            // The backlog is dealt with: its end is posted once, after the settle period.
            dismissParked(customer);
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            Polls.awaitWhole(camel, "outage-alerts-second", POLLS, Duration.ofSeconds(20));
            clock.skip(SETTLE);
            await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlogOver).size() > backlogOverBefore);
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            Polls.awaitWhole(camel, "outage-alerts-second", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlogOver)).as("the backlog's end, told by two instances").hasSize(backlogOverBefore + 1);
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog)).hasSize(backlogBefore + 1);
        } finally {
            camel.getRouteController().stopRoute("outage-alerts-second");
            camel.removeRoute("outage-alerts-second");
            dismissParked(customer);
        }
    }

    private void dismissParked(String customer) {
        jdbc.update("UPDATE delivery SET state = 'DISMISSED', next_attempt_at = NULL WHERE state = 'PARKED' AND notification_id IN"
                + " (SELECT id FROM notification WHERE customer_id = ?)", customer);
    }

    @Autowired
    io.herald.ops.OutageAlerts outageAlerts;

    /**
     * PostgreSQL stopped: its outage is announced from memory once, with health answering at once meanwhile, and its end
     * once, after the settle period. The same outage (one PostgreSQL stopped three times, where three tests stopped it five
     * times between them; each drop's checks name it) also shows:
     * <ul>
     * <li>a flapping database (going again soon after it came back, within herald.alerts.outage-settle: a failover going back
     * and forth) is the same outage going on: one "unreachable" post and, once it has stayed back for the settle period, one
     * "back" post. Before, the second drop was announced as a new outage: two starts and one end;</li>
     * <li>the same across a restart (here: Herald's memory of the handed-over outage wiped before the third drop, as a restart
     * or an instance started since has it): the table knows the announced outage goes on. Before, the restarted instance
     * announced it again: two "unreachable" posts;</li>
     * <li>a parked backlog announced before the database went is not over because it cannot be counted while PostgreSQL is
     * down (found by the alerts audit: "below the threshold again" was posted, and the same backlog announced a second time
     * once PostgreSQL was back).</li>
     * </ul>
     */
    @Test
    void aDatabaseOutageIsAnnouncedFromMemoryOnceAndItsEndOnceWhileHealthAnswersAtOnceAlsoWhenItFlapsAndAcrossARestart() throws Exception {
        String down = "PostgreSQL unreachable since ";
        String back = "PostgreSQL back since ";
        int downBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down).size();
        int backBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back).size();
        // A parked backlog over herald.alerts.parked-threshold (100), announced before the database goes.
        String backlog = "sms deliveries parked (since ";
        String backlogOver = "sms parked deliveries below herald.alerts.parked-threshold again";
        int backlogBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog).size();
        int backlogOverBefore = OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlogOver).size();
        String run = "dbout" + System.nanoTime() % 1_000_000_000;
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Dora Down', ?, '+447700900777')",
                customer, customer + "@example.net");
        ParkedSms.insert(jdbc, run, customer, 100, 1, "now() + interval '1 hour'");
        await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog).size() > backlogBefore);
        List<String> drops = List.of("the first drop", "a second drop within the settle period (flapping)",
                "a third drop within the settle period, Herald restarted since the second");
        for (int drop = 1; drop <= drops.size(); drop++) {
            String after = drops.get(drop - 1);
            infra.stopPostgres();
            try {
                if (drop == 1) {
                    await().atMost(Duration.ofSeconds(40)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down).size() > downBefore);
                    assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down).get(downBefore))
                            .containsPattern("PostgreSQL unreachable since \\d\\d:\\d\\d UTC: webhooks keep accepting");
                }
                // Health answers from its last background check: readiness says the database is down, and at once,
                // not after a connection wait (the image's healthcheck allows 5 s).
                await().atMost(Duration.ofSeconds(40)).until(() -> health("/actuator/health/readiness").statusCode() == 503);
                if (drop == 1) {
                    for (String path : new String[] {"/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness"}) {
                        long start = System.nanoTime();
                        int status = health(path).statusCode();
                        assertThat(Duration.ofNanos(System.nanoTime() - start)).as(path).isLessThan(Duration.ofMillis(1500));
                        assertThat(status).as(path).isEqualTo(path.endsWith("liveness") ? 200 : 503);
                    }
                }
                Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(30));
                assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down)).as("'unreachable' posts while down, at %s", after)
                        .hasSize(downBefore + 1);
            } finally {
                infra.startPostgres();
            }
            // Reachable again (readiness reads the same background check the poll does): not posted within the settle period.
            await().atMost(Duration.ofSeconds(60)).until(() -> health("/actuator/health/readiness").statusCode() == 200);
            Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down)).as("'unreachable' posts, back after %s", after)
                    .hasSize(downBefore + 1);
            assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back)).as("'back' posts within the settle period, after %s", after)
                    .hasSize(backBefore);
            if (drop == 2) {
                synchronized (outageAlerts) {
                    org.springframework.test.util.ReflectionTestUtils.setField(outageAlerts, "handedOver", null);   // restarted
                }
                Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
            }
        }
        clock.skip(SETTLE);
        await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back).size() > backBefore);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back).get(backBefore))
                .containsPattern("PostgreSQL back since \\d\\d:\\d\\d UTC: events and deliveries are processed again");
        Polls.awaitWhole(camel, "outage-alerts", POLLS, Duration.ofSeconds(20));
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, back)).as("'back' posts after the settle period").hasSize(backBefore + 1);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, down)).as("'unreachable' posts in all").hasSize(downBefore + 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> health("/actuator/health/readiness").statusCode() == 200);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlogOver)).as("the backlog was never over").hasSize(backlogOverBefore);
        assertThat(OpsAlerts.acceptedAt(infra.providers(), OPS_PATH, backlog)).as("the backlog announced once").hasSize(backlogBefore + 1);
        jdbc.update("UPDATE delivery SET state = 'DISMISSED', next_attempt_at = NULL WHERE state = 'PARKED' AND notification_id IN"
                + " (SELECT id FROM notification WHERE customer_id = ?)", customer);
    }

    private HttpResponse<String> health(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
