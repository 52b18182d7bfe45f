package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.OpsEachCatalog;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.ParkedSms;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * PostgreSQL stopped, longer than herald.delivery.sending-timeout, while SMS are at the provider: their senders wait to write
 * SENT. Once the database is back the stale sweep must leave them to their senders (they are alive, not cut off by a crash),
 * so each SMS is SENT once, never settled UNCERTAIN with its real outcome kept only as a LATE attempt.
 *
 * <p>Its own Herald (OwnHerald): a sending timeout of 12 s, a sweep every 500 ms and senders that pause up to 4 s between
 * their tries of a write, so without the sweep's wait after an outage it reaches the rows first. Also: an instance frozen in
 * the middle of a transaction holds its locks for at most herald.infrastructure.db-idle-in-transaction-timeout-s (8 s here).
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class StaleSweepAfterOutageTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    /** An SMS account of its own, answering after 4 s: the shared test Herald in the same JVM never sends here. */
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACstalesweep/Messages.json";
    private static final int SMS = 4;
    /** herald.infrastructure.db-idle-in-transaction-timeout-s of this Herald. */
    private static final int FROZEN_FOR_AT_MOST_S = 8;   // above its alert post (5 s) and Kafka sends (6 s)

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    DataSource dataSource;

    @DynamicPropertySource
    static void ownHeraldWithAQuickSweep(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "stale-sweep-test");
        registry.add("herald.catalog", () -> OpsEachCatalog.file().toString());
        registry.add("herald.sms.url", () -> infra.providers().baseUrl() + SMS_PATH);
        registry.add("herald.delivery.sending-timeout", () -> "PT12S");
        registry.add("herald.delivery.stale-poll-ms", () -> "500");
        registry.add("herald.delivery.max-retries", () -> "0");
        registry.add("herald.delivery.timeouts.connect-ms", () -> "1000");
        registry.add("herald.delivery.timeouts.response-ms", () -> "7000");
        // Every channel's tries must fit inside the short sending timeout (ProviderTimeouts checks it at startup).
        registry.add("herald.push.max-retries", () -> "0");
        registry.add("herald.mail.connect-timeout-ms", () -> "1000");
        registry.add("herald.mail.read-timeout-ms", () -> "3000");
        registry.add("herald.mail.write-timeout-ms", () -> "3000");
        registry.add("herald.alerts.connect-timeout-ms", () -> "1000");
        registry.add("herald.alerts.response-timeout-ms", () -> "4000");
        registry.add("herald.infrastructure.max-retry-delay-ms", () -> "4000");
        registry.add("herald.infrastructure.db-connect-timeout-ms", () -> "1000");
        registry.add("herald.infrastructure.db-idle-in-transaction-timeout-s", () -> String.valueOf(FROZEN_FOR_AT_MOST_S));
    }

    /**
     * An instance that froze (or lost its network) in the middle of a transaction, here a connection of Herald's own pool that
     * locked parked SMS and then sent nothing more, holds its locks only until PostgreSQL ends its session
     * (herald.infrastructure.db-idle-in-transaction-timeout-s); the SMS then go out, each once. Without the limit the session
     * stays until the server's TCP keepalive notices, about two hours, and the parked poller, which skips locked rows, never
     * sends them meanwhile.
     */
    @Test
    void parkedSmsLockedByAFrozenInstancesTransactionGoOutOnceItsSessionIsEnded() throws Exception {
        String run = "frozen" + System.nanoTime() % 1_000_000_000;
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Fay Frozen', ?, '+447700900778')",
                customer, customer + "@example.net");
        StubMapping quick = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"sid\": \"SM{{randomValue length=32 type='HEXADECIMAL'}}\", \"status\": \"queued\"}")
                        .withTransformers("response-template")));
        int before = requests();
        try (Connection frozen = dataSource.getConnection()) {
            assertThat(jdbc.queryForObject("SHOW idle_in_transaction_session_timeout", String.class)).isEqualTo(FROZEN_FOR_AT_MOST_S + "s");
            List<String> keys = ParkedSms.insert(jdbc, run, customer, SMS, 0, "now() + interval '1 hour'");
            frozen.setAutoCommit(false);
            int pid;
            try (Statement lock = frozen.createStatement()) {
                ResultSet session = lock.executeQuery("SELECT pg_backend_pid()");
                session.next();
                pid = session.getInt(1);
                lock.executeQuery("SELECT d.id FROM delivery d JOIN notification n ON n.id = d.notification_id"
                        + " WHERE n.idempotency_key LIKE 'billing:invoice.payment_failed:in_" + run + "_%' FOR UPDATE");
            }
            // Due now, written by another connection...
            Instant started = Instant.now();
            jdbc.update("UPDATE delivery d SET next_attempt_at = now() FROM notification n WHERE n.id = d.notification_id"
                    + " AND n.idempotency_key = ANY (?) AND d.state = 'PARKED'", (Object) keys.toArray(String[]::new));
            // ... which had to wait for the frozen one's locks: it returns only once PostgreSQL ended that session.
            Instant released = Instant.now();
            // Its locks go with the session's end; the backend leaves pg_stat_activity a moment later (once seen still there).
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE pid = ?",
                    Integer.class, pid) == 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> requests() - before == SMS);
            List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.state, d.sent_at FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?)", (Object) keys.toArray(String[]::new));
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND d.state = 'SENT'", Integer.class,
                    (Object) keys.toArray(String[]::new)) == SMS);
            assertThat(rows).hasSize(SMS);
            assertThat(requests() - before).as("one SMS per delivery at the provider").isEqualTo(SMS);
            assertThat(Duration.between(started, released)).as("the frozen session held the rows, then was ended")
                    .isGreaterThan(Duration.ofSeconds(1)).isLessThan(Duration.ofSeconds(FROZEN_FOR_AT_MOST_S * 3L));
            // What the frozen instance finds if it wakes up: its session is gone, its transaction rolled back.
            assertThatThrownBy(() -> frozen.createStatement().execute("SELECT 1")).hasMessageContaining("idle-in-transaction timeout");
        } finally {
            infra.providers().removeStub(quick);
        }
    }

    @Test
    void smsAtTheProviderDuringALongDatabaseOutageAreSentOnceAndRecordedSent() {
        String run = "stale" + System.nanoTime() % 1_000_000_000;
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Sal Stale', ?, '+447700900777')",
                customer, customer + "@example.net");
        StubMapping slow = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json").withFixedDelay(4000)
                        .withBody("{\"sid\": \"SM{{randomValue length=32 type='HEXADECIMAL'}}\", \"status\": \"queued\"}")
                        .withTransformers("response-template")));
        // This class's other test sends to the same SMS account: count this test's requests only.
        int before = requests();
        try {
            List<String> keys = ParkedSms.insert(jdbc, run, customer, SMS, 0, "now()");
            await().atMost(Duration.ofSeconds(30)).until(() -> requests() - before == SMS);
            infra.stopPostgres();
            try {
                // Longer than the sending timeout: every SENDING row is older than it when the database comes back. (A wait of
                // 16 s, not a budget: it ends at 16 s; the margin only keeps a busy machine's late wake-up from failing it.)
                await().pollDelay(Duration.ofSeconds(16)).atMost(Duration.ofSeconds(60)).until(() -> true);
            } finally {
                infra.startPostgres();
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> jdbc.queryForObject(
                    "SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?)"
                            + " AND d.state <> 'SENDING'", Integer.class, (Object) keys.toArray(String[]::new)) == SMS);
            List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.state, d.reason, d.provider_message_id,"
                    + " (SELECT count(*) FROM delivery_attempt a WHERE a.delivery_id = d.id AND a.outcome = 'LATE') AS late"
                    + " FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?)",
                    (Object) keys.toArray(String[]::new));
            assertThat(rows).hasSize(SMS).allSatisfy(row -> {
                assertThat(row.get("state")).as("state (reason: %s)", row.get("reason")).isEqualTo("SENT");
                assertThat(row.get("provider_message_id").toString()).startsWith("SM");
                assertThat(((Number) row.get("late")).intValue()).isZero();
            });
            assertThat(requests() - before).as("one SMS per delivery at the provider").isEqualTo(SMS);
        } finally {
            infra.providers().removeStub(slow);
        }
    }

    private int requests() {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))).size();
    }
}
