package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import ch.qos.logback.core.read.ListAppender;
import io.herald.ops.SkippedPolls;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Redeliveries;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * PostgreSQL stopped and started again under a stream of accepted webhooks: the webhooks keep
 * answering 202 (they only need Kafka), readiness says the database is down, the consumers wait
 * instead of skipping or quarantining, and once the database is back every event ends in exactly
 * one notification, none quarantined or dead-lettered for the outage, each message sent once. The
 * pollers say in one line each that they skip their runs and, once it is back, that they run again,
 * with no error and no stack trace from Camel or db-scheduler (the scheduled sends' timer) at every tick. Also: the ledger
 * locked (not down) while webhooks arrive and providers answer; PostgreSQL stopped in the middle of the CRM poller's turn,
 * of dispatch's batch and of a sender's claim.
 */
class DatabaseOutageTest extends HeraldIntegrationTest {

    private static final int PAID = 120;          // invoice.paid: one email each
    private static final int PAYMENT_FAILED = 10; // invoice.payment_failed: email, SMS and an ops post each
    private static final Logger ROOT = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";

    @Autowired
    CamelContext camel;

    @Test
    void theDatabaseStoppedUnderAStreamOfAcceptedEventsLosesNothingQuarantinesNothingAndSendsEachMessageOnce() throws Exception {
        String run = "dbout" + newTicketId();
        List<String> events = new ArrayList<>();
        List<String> eventIds = new ArrayList<>();
        List<String> paidKeys = new ArrayList<>();
        List<String> failedKeys = new ArrayList<>();
        long now = Instant.now().getEpochSecond();
        for (int i = 0; i < PAID + PAYMENT_FAILED; i++) {
            String unique = run + "_" + i;
            String event = i % 13 == 5 && failedKeys.size() < PAYMENT_FAILED
                    ? Samples.paymentFailed(unique)
                    : Samples.text("billing/invoice.paid.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique)
                            .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_test" + unique);
            if (event.contains("invoice.payment_failed")) {
                failedKeys.add(Samples.paymentFailedKey(unique));
            } else {
                paidKeys.add("billing:invoice.paid:in_test" + unique);
            }
            events.add(event.replaceFirst("\"created\": \\d+", "\"created\": " + now));
            eventIds.add("evt_test" + unique);
        }
        List<String> keys = new ArrayList<>(paidKeys);
        keys.addAll(failedKeys);
        assertThat(keys).hasSize(PAID + PAYMENT_FAILED);

        int first = events.size() / 4;
        for (String event : events.subList(0, first)) {
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> notificationsOf(keys) > 0);

        Redeliveries redeliveries = Redeliveries.of(camel, "billing-ingest");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        ROOT.addAppender(log);
        infra.stopPostgres();
        try {
            // While PostgreSQL is down the webhooks still accept (Kafka is all they need)...
            for (String event : events.subList(first, events.size())) {
                assertThat(postSignedBilling(event).statusCode()).as("webhook answer while the database is down").isEqualTo(202);
            }
            // ...readiness says the database is down, and the consumers hold the event they are on instead of moving past it:
            // one exchange of billing-ingest tried again and again (three redeliveries here, each try waiting out the
            // connection timeout) while billing-ingest never stops having one in flight and readiness never says ready.
            await().atMost(Duration.ofSeconds(30)).until(() -> readiness() == 503);
            await().atMost(Duration.ofSeconds(30)).until(() -> camel.getInflightRepository().size("billing-ingest") > 0);
            await().atMost(Duration.ofSeconds(45))
                    .failFast("readiness said ready, or billing-ingest let go of the event it was on, while the database was down",
                            () -> readiness() != 503 || camel.getInflightRepository().size("billing-ingest") == 0)
                    .until(redeliveries::mostOfOneExchange, tries -> tries >= 3);
        } finally {
            infra.startPostgres();
            redeliveries.close();
        }

        await().atMost(Duration.ofSeconds(60)).until(() -> readiness() == 200);
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).until(() ->
                sentDeliveriesOf(keys) == PAID + 3 * PAYMENT_FAILED);

        // The pollers said the outage in words, once each, and that they run again; no error with a stack trace per tick.
        try {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(messages(log, Level.INFO, SkippedPolls.class))
                    .anyMatch(line -> line.startsWith("crm-outbox-poll: running again after"))
                    .anyMatch(line -> line.startsWith("ticket-notes: running again after"))
                    .anyMatch(line -> line.startsWith("send-windows: running again after"))
                    .anyMatch(line -> line.startsWith("scheduled-sends-timer: running again after")));
        } finally {
            ROOT.detachAppender(log);
        }
        // (Once per outage and route is SkippedPollsTest's; another test's Herald left running in this JVM may say the same.)
        assertThat(messages(log, Level.WARN, SkippedPolls.class))
                .contains("crm-outbox-poll: this run is skipped, PostgreSQL cannot be reached; nothing is lost (its work"
                        + " waits for the next run), it tries again at every run and says here when it runs again")
                .anyMatch(line -> line.startsWith("ticket-notes: this run is skipped, PostgreSQL cannot be reached"))
                .anyMatch(line -> line.startsWith("send-windows: this run is skipped, PostgreSQL cannot be reached"))
                .anyMatch(line -> line.startsWith("scheduled-sends-timer: this run is skipped, PostgreSQL cannot be reached"));
        // The pollers' threads: Camel's timers, and db-scheduler's (the timer behind scheduled sends: db-scheduler-execute-due-1,
        // db-scheduler-housekeeper-1, ...).
        assertThat(log.list).as("Camel's error and timer logs on the pollers' threads, db-scheduler's on its own")
                .filteredOn(event -> event.getThreadName().contains("timer://") && event.getLoggerName().startsWith("org.apache.camel")
                        // (HikariCP's own WARN on a connection the shutdown closed comes on whichever thread held it)
                        || event.getThreadName().startsWith("db-scheduler") && !event.getLoggerName().startsWith("com.zaxxer.hikari"))
                .filteredOn(event -> event.getLevel() == Level.ERROR || event.getThrowableProxy() != null)
                .extracting(ILoggingEvent::getFormattedMessage).isEmpty();

        // Every event ends in exactly one notification, routed; nothing quarantined or dead-lettered for the outage.
        assertThat(notificationsOf(keys)).isEqualTo(PAID + PAYMENT_FAILED);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ? AND state <> 'ROUTED'",
                Integer.class, "%" + run + "%")).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)",
                Integer.class, (Object) eventIds.toArray(String[]::new))).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter WHERE payload LIKE ?", Integer.class, "%" + run + "%")).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key LIKE ? AND d.state <> 'SENT'", Integer.class, "%" + run + "%")).isZero();

        // Each message reached its customer once: one mail per notification, one SMS and one ops post per payment failure.
        for (String key : keys) {
            assertThat(mailsFor(key)).as("mails for %s", key).hasSize(1);
        }
        for (String key : failedKeys) {
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                    .withHeader("Idempotency-Key", equalTo(key + ":sms")))).as("SMS requests for %s", key).hasSize(1);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/services/.*"))
                    .withHeader("Idempotency-Key", equalTo(key + ":ops_webhook")))).as("ops posts for %s", key).hasSize(1);
        }
    }

    /**
     * PostgreSQL up but the ledger locked for 12 s by another session (a migration, an operator's long query, a vacuum full):
     * every statement on delivery waits. Webhooks keep answering 202 (they only need Kafka), SMS the provider answers while
     * it is locked are recorded once it is free, and every message reaches its customer once, none UNCERTAIN or FAILED.
     */
    @Test
    void aLedgerLockedFor12SecondsWhileWebhooksArriveAndProvidersAnswerSendsEachMessageOnce() throws Exception {
        String run = "dblock" + newTicketId();
        List<String> phones = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            phones.add("+447703" + i + (10000 + Integer.parseInt(newTicketId()) % 89999));
        }
        List<String> customers = new ArrayList<>();
        List<StubMapping> stubs = new ArrayList<>();
        for (String phone : phones) {
            String customer = "cus_" + run + "_" + customers.size();
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Lock Ed', ?, ?)",
                    customer, customer + "@example.net", phone);
            customers.add(customer);
            // The provider takes 2 s to answer: SMS in flight when the lock is taken answer while it is held.
            stubs.add(infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH))
                    .withRequestBody(containing(phone.substring(1))).atPriority(1)
                    .willReturn(aResponse().withStatus(201).withFixedDelay(2000)
                            .withHeader("Content-Type", "application/json")
                            .withBody("{\"sid\": \"SM" + run + "\", \"status\": \"queued\"}"))));
        }
        List<String> keys = new ArrayList<>();
        List<String> eventIds = new ArrayList<>();
        IntFunction<String> event = i -> {
            String unique = run + "_" + i;
            keys.add(Samples.paymentFailedKey(unique));
            eventIds.add("evt_test" + unique);
            return Samples.paymentFailedNow(unique).replace("cus_RkT4aB7cD9eF1g", customers.get(i % customers.size()));
        };
        try {
            for (int i = 0; i < 4; i++) {
                assertThat(postSignedBilling(event.apply(i)).statusCode()).isEqualTo(202);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> phones.stream().mapToInt(this::smsRequests).sum() >= 2);
            try (Connection lock = DriverManager.getConnection(infra.heraldSettings().get("herald.db.url"), "postgres", "postgres")) {
                lock.setAutoCommit(false);
                lock.createStatement().execute("LOCK TABLE delivery");
                Instant locked = Instant.now();
                for (int i = 4; i < 10; i++) {
                    Instant start = Instant.now();
                    assertThat(postSignedBilling(event.apply(i)).statusCode()).as("webhook answer while the ledger is locked").isEqualTo(202);
                    assertThat(Duration.between(start, Instant.now())).isLessThan(Duration.ofSeconds(5));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> Duration.between(locked, Instant.now()).toSeconds() >= 12);
                lock.commit();
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() -> sentDeliveriesOf(keys) == 3 * keys.size()
                    || jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                    + " WHERE n.idempotency_key = ANY (?) AND d.state IN ('FAILED', 'UNCERTAIN')", Integer.class,
                    (Object) keys.toArray(String[]::new)) > 0);
        } finally {
            stubs.forEach(infra.providers()::removeStub);
        }
        assertThat(jdbc.queryForList("SELECT n.idempotency_key, d.channel, d.state, d.reason FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND d.state <> 'SENT'", (Object) keys.toArray(String[]::new)))
                .as("deliveries not SENT").isEmpty();
        assertThat(sentDeliveriesOf(keys)).isEqualTo(3 * keys.size());
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND a.outcome <> 'SENT'", Integer.class,
                (Object) keys.toArray(String[]::new))).as("attempts other than SENT").isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)",
                Integer.class, (Object) eventIds.toArray(String[]::new))).isZero();
        for (String key : keys) {
            assertThat(mailsFor(key)).as("mails for %s", key).hasSize(1);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                    .withHeader("Idempotency-Key", equalTo(key + ":sms")))).as("SMS requests for %s", key).hasSize(1);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/services/.*"))
                    .withHeader("Idempotency-Key", equalTo(key + ":ops_webhook")))).as("ops posts for %s", key).hasSize(1);
        }
    }

    /**
     * PostgreSQL stops while the CRM poller has queued its rows on Kafka and is marking them processed (its transaction
     * not yet committed): the rows stay unprocessed and are queued again once it is back, so the CRM events reach Kafka
     * twice. Each order is confirmed to its customer once, every row ends processed, nothing quarantined.
     */
    @Test
    void theDatabaseStoppedWhileTheCrmPollerMarksRowsItHasQueuedConfirmsEachOrderOnce() throws Exception {
        String run = "crmcut" + newTicketId();
        List<String> keys = new ArrayList<>();
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            keys.add("crm:order.confirmed:ORD-" + run + "_" + i);
            payloads.add(Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + run + "_" + i));
        }
        List<Long> rows;
        try (AutoCloseable sleep = sleepOnce(run, "BEFORE UPDATE ON crm_outbox",
                "NEW.processed_at IS NOT NULL AND NEW.payload::text LIKE '%ORD-" + run + "_2%'")) {
            rows = jdbc.queryForList("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?),"
                    + " ('order', 'order.confirmed', ?), ('order', 'order.confirmed', ?) RETURNING id", Long.class,
                    payloads.get(0), payloads.get(1), payloads.get(2));
            // The poller has queued all three and waits in the mark of the last: the database stops now, until intake meets the
            // outage with the queued events, or for 10 s when intake had admitted them before the stop (on a loaded machine
            // it can, while the test was still looking for the sleeping statement): either way the rows stay unmarked.
            stopWhileSleeping(() -> camel.getInflightRepository().size("crm-ingest") > 0, Duration.ofSeconds(10));
        }
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() ->
                jdbc.queryForObject("SELECT count(*) FROM crm_outbox WHERE id = ANY (?) AND processed_at IS NOT NULL", Integer.class,
                        (Object) rows.toArray(Long[]::new)) == 3 && keys.stream().allMatch(key -> mailsFor(key).size() == 1));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND d.state IN ('PENDING', 'SENDING', 'PARKED')",
                Integer.class, (Object) keys.toArray(String[]::new)) == 0);
        assertThat(notificationsOf(keys)).isEqualTo(3);
        assertThat(jdbc.queryForList("SELECT n.idempotency_key, d.channel, d.state, d.reason FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND d.state NOT IN ('SENT', 'SKIPPED')",
                (Object) keys.toArray(String[]::new))).as("deliveries neither SENT nor SKIPPED").isEmpty();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)", Integer.class,
                (Object) rows.stream().map(id -> "crm-outbox-" + id).toArray(String[]::new))).isZero();
        for (String key : keys) {
            assertThat(mailsFor(key)).as("mails for %s", key).hasSize(1);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/v1/projects/.*"))
                    .withHeader("Idempotency-Key", com.github.tomakehurst.wiremock.client.WireMock.matching(
                            java.util.regex.Pattern.quote(key + ":push:") + "[0-9a-f]{16}")))).as("pushes for %s", key).hasSizeLessThanOrEqualTo(1);
        }
    }

    /**
     * PostgreSQL stops in the middle of dispatch's batch transaction (its deliveries being queued), and then in the middle of
     * a sender's claim (the rows being marked SENDING): each is tried again once it is back, and every message of the three
     * payment failures reaches its customer once (an email, an SMS and an ops post each), all SENT, none UNCERTAIN.
     */
    @Test
    void theDatabaseStoppedInTheMiddleOfDispatchAndThenOfASendersClaimSendsEachMessageOnce() throws Exception {
        for (String cut : List.of("dispatch", "claim")) {
            String run = "dbmid" + cut + newTicketId();
            String customer = "cus_" + run;
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Mid Way', ?, '+447700900123')",
                    customer, customer + "@example.net");
            List<String> keys = new ArrayList<>();
            String when = "dispatch".equals(cut)
                    ? "BEFORE INSERT ON delivery FOR EACH ROW WHEN (NEW.customer_id = '" + customer + "')"
                    : "BEFORE UPDATE ON delivery FOR EACH ROW WHEN (NEW.customer_id = '" + customer + "' AND NEW.state = 'SENDING'"
                    + " AND OLD.state <> 'SENDING')";
            try (AutoCloseable sleep = sleepOnce(run, when, null)) {
                for (int i = 0; i < 3; i++) {
                    String unique = run + "_" + i;
                    keys.add(Samples.paymentFailedKey(unique));
                    assertThat(postSignedBilling(Samples.paymentFailedNow(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode())
                            .isEqualTo(202);
                }
                stopWhileSleeping(() -> true);
            }
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(() -> jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                            + " WHERE n.idempotency_key = ANY (?) AND d.state IN ('PENDING', 'SENDING', 'PARKED')", Integer.class,
                            (Object) keys.toArray(String[]::new)) == 0 && sentDeliveriesOf(keys) > 0);
            assertThat(jdbc.queryForList("SELECT n.idempotency_key, d.channel, d.state, d.reason FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?) AND d.state <> 'SENT'", (Object) keys.toArray(String[]::new)))
                    .as("%s: deliveries not SENT", cut).isEmpty();
            assertThat(sentDeliveriesOf(keys)).as(cut).isEqualTo(9);
            for (String key : keys) {
                assertThat(mailsFor(key)).as("%s: mails for %s", cut, key).hasSize(1);
                assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                        .withHeader("Idempotency-Key", equalTo(key + ":sms")))).as("%s: SMS requests for %s", cut, key).hasSize(1);
                assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/services/.*"))
                        .withHeader("Idempotency-Key", equalTo(key + ":ops_webhook")))).as("%s: ops posts for %s", cut, key).hasSize(1);
            }
        }
    }

    /**
     * PostgreSQL turned read-only under a stream of events (a failover that left herald.db.url on a hot standby: every write
     * fails with "cannot execute INSERT in a read-only transaction"): an outage like a database that does not answer. The
     * billing webhooks keep answering 202, a receipt webhook answers 503, readiness says why, the ops webhook is told in words
     * what to do, nothing is quarantined or dead-lettered, and once writes are accepted again every event is mailed once.
     */
    @Test
    void theDatabaseTurnedReadOnlyIsAnOutageAlertedInWordsAndEveryEventIsMailedOnceOnceItTakesWritesAgain() throws Exception {
        String run = "dbro" + newTicketId();
        List<String> keys = new ArrayList<>();
        List<String> eventIds = new ArrayList<>();
        IntFunction<String> paid = i -> {
            String unique = run + "_" + i;
            keys.add("billing:invoice.paid:in_test" + unique);
            eventIds.add("evt_test" + unique);
            return Samples.text("billing/invoice.paid.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique)
                    .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_test" + unique)
                    .replaceFirst("\"created\": \\d+", "\"created\": " + Instant.now().getEpochSecond());
        };
        assertThat(postSignedBilling(paid.apply(0)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> sentDeliveriesOf(keys) == 1);
        int alertsBefore = OpsAlerts.accepted(infra.providers(), READ_ONLY).size();
        Redeliveries redeliveries = Redeliveries.of(camel, "billing-ingest");
        readOnly(true);
        try {
            for (int i = 1; i < 5; i++) {
                assertThat(postSignedBilling(paid.apply(i)).statusCode()).as("billing webhook while read-only").isEqualTo(202);
            }
            HttpResponse<String> receipt = postEmailEvents("[{\"email\": \"x" + run + "@ro.example.org\", \"smtp-id\": \"<ro-" + run
                    + "@herald>\", \"event\": \"delivered\", \"sg_event_id\": \"ro-" + run + "\"}]");
            assertThat(receipt.statusCode()).as(receipt.body()).isEqualTo(503);
            // It answers, but refuses writes: said so, not "could not reach its database".
            assertThat(receipt.body()).contains("Herald's database refuses writes just now (it is read-only); nothing was accepted,"
                    + " please retry later");
            await().atMost(Duration.ofSeconds(30)).until(() -> readiness() == 503);
            await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), READ_ONLY).size() > alertsBefore);
            await().atMost(Duration.ofSeconds(45)).until(redeliveries::mostOfOneExchange, tries -> tries >= 3);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)",
                    Integer.class, (Object) eventIds.toArray(String[]::new))).as("quarantined while read-only").isZero();
        } finally {
            readOnly(false);
            redeliveries.close();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> readiness() == 200);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> sentDeliveriesOf(keys) == 5);
        assertThat(notificationsOf(keys)).isEqualTo(5);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)",
                Integer.class, (Object) eventIds.toArray(String[]::new))).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter WHERE payload LIKE ?", Integer.class, "%" + run + "%")).isZero();
        for (String key : keys) {
            assertThat(mailsFor(key)).as("mails for %s", key).hasSize(1);
        }
        assertThat(OpsAlerts.accepted(infra.providers(), READ_ONLY).get(alertsBefore))
                .contains("PostgreSQL refuses writes since ", "it is read-only", "point herald.db.url at the primary");
    }

    private static final String READ_ONLY = "PostgreSQL refuses writes";

    /** Every new transaction of the cluster read-only (as on a hot standby), or writable again. */
    private void readOnly(boolean on) throws Exception {
        try (Connection admin = DriverManager.getConnection(infra.heraldSettings().get("herald.db.url"), "postgres", "postgres")) {
            admin.createStatement().execute("SET default_transaction_read_only = off");
            admin.createStatement().execute("ALTER SYSTEM SET default_transaction_read_only = " + (on ? "on" : "off"));
            admin.createStatement().execute("SELECT pg_reload_conf()");
        }
        // pg_reload_conf only asks the postmaster to read the setting again: a receipt posted right after it was still written
        // (200, not 503) on a loaded machine. A new connection takes the postmaster's settings, and the postmaster signals
        // every running connection when it has read them, each applying them before its next statement.
        String expected = on ? "on" : "off";
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (Connection fresh = DriverManager.getConnection(infra.heraldSettings().get("herald.db.url"), "postgres", "postgres");
                    var row = fresh.createStatement().executeQuery("SHOW default_transaction_read_only")) {
                return row.next() && expected.equals(row.getString(1));
            }
        });
    }

    /**
     * A trigger that makes the first row statement it fires for sleep 20 s inside its transaction (a sequence counts it:
     * nextval outlives the transaction and the restart), so the test can stop PostgreSQL right there. Closing it removes it
     * once the database answers again.
     */
    private AutoCloseable sleepOnce(String run, String trigger, String condition) {
        String name = ("sleep_" + run).toLowerCase().replaceAll("[^a-z0-9_]", "_");
        jdbc.execute("CREATE SEQUENCE " + name);
        jdbc.execute("CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + (condition == null ? "" : " IF NOT (" + condition + ") THEN RETURN NEW; END IF;")
                + " IF nextval('" + name + "') = 1 THEN PERFORM pg_sleep(20); END IF; RETURN NEW; END $$");
        jdbc.execute("CREATE TRIGGER " + name + " " + (trigger.contains("FOR EACH ROW") ? trigger : trigger + " FOR EACH ROW")
                + " EXECUTE FUNCTION " + name + "()");
        String table = trigger.replaceAll(".* ON (\\w+).*", "$1");
        return () -> await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            jdbc.execute("DROP TRIGGER IF EXISTS " + name + " ON " + table);
            jdbc.execute("DROP FUNCTION IF EXISTS " + name + "()");
            jdbc.execute("DROP SEQUENCE IF EXISTS " + name);
            return true;
        });
    }

    /** Once a statement sleeps in the trigger: PostgreSQL stops, and starts again once {@code meanwhile} holds (at most 20 s). */
    private void stopWhileSleeping(Callable<Boolean> meanwhile) throws Exception {
        stopWhileSleeping(meanwhile, null);
    }

    /** As above, starting again after {@code orAfter} of outage at the latest even if {@code meanwhile} never holds. */
    private void stopWhileSleeping(Callable<Boolean> meanwhile, Duration orAfter) throws Exception {
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'", Integer.class) > 0);
        infra.stopPostgres();
        long stopped = System.nanoTime();
        try {
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> meanwhile.call()
                    || orAfter != null && System.nanoTime() - stopped > orAfter.toNanos());
        } finally {
            infra.startPostgres();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> readiness() == 200);
    }

    private int smsRequests(String phone) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withRequestBody(containing(phone.substring(1)))).size();
    }

    private static List<String> messages(ListAppender<ILoggingEvent> log, Level level, Class<?> logger) {
        // Read under the appender's lock (AppenderBase.doAppend holds it while it adds): read while Herald's threads logged, the
        // list threw ConcurrentModificationException in a full run.
        List<ILoggingEvent> events;
        synchronized (log) {
            events = new java.util.ArrayList<>(log.list);
        }
        return events.stream().filter(event -> event.getLevel() == level && event.getLoggerName().equals(logger.getName()))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    private int notificationsOf(List<String> keys) {
        return jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ANY (?)", Integer.class,
                (Object) keys.toArray(String[]::new));
    }

    private int sentDeliveriesOf(List<String> keys) {
        return jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ANY (?) AND d.state = 'SENT'", Integer.class, (Object) keys.toArray(String[]::new));
    }

    private int readiness() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/health/readiness")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }
}
