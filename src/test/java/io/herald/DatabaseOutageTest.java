package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.herald.ops.SkippedPolls;
import io.herald.testsupport.HeraldIntegrationTest;
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
 * with no error and no stack trace from Camel at every tick.
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
                    .anyMatch(line -> line.startsWith("send-windows: running again after")));
        } finally {
            ROOT.detachAppender(log);
        }
        // (Once per outage and route is SkippedPollsTest's; another test's Herald left running in this JVM may say the same.)
        assertThat(messages(log, Level.WARN, SkippedPolls.class))
                .contains("crm-outbox-poll: this run is skipped, PostgreSQL cannot be reached; nothing is lost (its work"
                        + " waits for the next run), it tries again at every run and says here when it runs again")
                .anyMatch(line -> line.startsWith("ticket-notes: this run is skipped, PostgreSQL cannot be reached"))
                .anyMatch(line -> line.startsWith("send-windows: this run is skipped, PostgreSQL cannot be reached"));
        assertThat(log.list).as("Camel's error and timer logs on the pollers' threads")
                .filteredOn(event -> event.getThreadName().contains("timer://") && event.getLoggerName().startsWith("org.apache.camel"))
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

    private static List<String> messages(ListAppender<ILoggingEvent> log, Level level, Class<?> logger) {
        return log.list.stream().filter(event -> event.getLevel() == level && event.getLoggerName().equals(logger.getName()))
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
