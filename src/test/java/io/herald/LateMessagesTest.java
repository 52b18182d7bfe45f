package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.herald.testsupport.OwnHeraldClient.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.ledger.DeliveryLedger;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.schedule.ScheduledSends;
import io.herald.testsupport.IsoWeeks;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Prometheus;
import io.herald.testsupport.TestFiles;
import io.herald.testsupport.Samples;
import io.herald.testsupport.WithoutQuietHours;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The late-message policy (issue 14 point 5), end to end on the embedded stack with the shipped catalog
 * (billing.payment_failed: late: drop, valid-until: nextPaymentAttempt) plus billing.charge_refunded held for an operator
 * when late (late: hold). Time is not moved: the events say when they happened (Stripe's created, next_payment_attempt),
 * as a backlog after an outage would. What people observe: no mail and no SMS for a dropped message, its deliveries
 * EXPIRED with the reason in words, the metric, the weekly review and one alert for the group; a held one waits for an
 * operator who sends it (the mail arrives, audited) or dismisses it (nothing sent); a type without a policy is still sent
 * late and flagged.
 *
 * <p>Its own Herald (own database, topics, consumer group): the shared test context sends the 2025-dated samples late, as
 * the tests there expect (LateSentCatalog).
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@AutoConfigureObservability(tracing = false)   // metrics are exported (/actuator/prometheus), as in a real run
@DirtiesContext
class LateMessagesTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
    private static final AtomicInteger PHONES = new AtomicInteger((int) (System.currentTimeMillis() % 50_000));

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    ScheduledSends scheduledSends;
    @Autowired
    CamelContext camel;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @DynamicPropertySource
    static void shippedPolicyAndAHoldType(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "late-messages-test");
        registry.add("herald.catalog", () -> catalogWithHeldRefunds().toString());
        // A parked delivery waits for its next attempt (the local profile re-drives within seconds): the window closes first.
        registry.add("herald.delivery.park-delays", () -> "PT10M");
    }

    /**
     * The shipped catalog without quiet hours, with billing.charge_refunded (window PT24H) and billing.refund_issued (email and
     * SMS, window P3D, here without its approval, and cancelled by a charge_refunded of its order) held for an operator when late.
     */
    private static Path catalogWithHeldRefunds() {
        try {
            // Without the billing quiet hours (21:00-08:00): run at night, every mail of this test would wait for 08:00.
            String shipped = WithoutQuietHours.of(Files.readString(Path.of("config", "catalog.yaml")));
            String entry = "  billing.charge_refunded:\n    category: billing\n    priority: normal\n    channels: [email]\n    window: PT24H\n";
            assertThat(shipped).contains(entry).contains("late: drop");
            Path copy = TestFiles.file("test-catalog-late-hold.yaml");
            Files.createDirectories(copy.getParent());
            // A type that requires approval cannot hold late messages (releasing one would skip the approver): refunds without it here.
            String refund = "  billing.refund_issued:\n    category: billing\n    priority: normal\n    channels: [email, sms]\n    window: P3D\n";
            String approval = "    approval: {field: amountRefunded, above: {GBP: 1000, EUR: 1000, USD: 1000}}   # another currency: held\n";
            assertThat(shipped).contains(refund + approval);
            Files.writeString(copy, shipped.replace(entry, entry + "    late: hold\n").replace(refund + approval, refund + "    late: hold\n"
                    + "    cancelled-by: {types: [billing.charge_refunded], match: orderId}\n"));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aLatePaymentFailedIsNotSentButExpiredWithItsReasonCountedInTheReviewAndAlertedOnceForTheGroup() throws Exception {
        // A quiet ops channel: what other tests of this class dropped is alerted already, and no group counts as announced.
        String group = "billing.payment_failed by Email not sent - too late to be worth sending (config/catalog.yaml late: drop)";
        quietAlerts();
        int alertsBefore = OpsAlerts.accepted(infra.providers(), group).size();
        String customer = customer("late");
        double droppedEmailsBefore = metrics().value("herald_late_messages_total", "channel", "email", "policy", "drop",
                "type", "billing.payment_failed");
        // This week and the next: past midnight from Sunday to Monday, what is dropped below is counted in the next one.
        List<String> weeks = IsoWeeks.thisAndNext();
        List<JsonNode> weekBefore = weekly(weeks);
        // Two payment failures Stripe sent two hours ago (a backlog after an outage); their window is one hour. The next
        // payment attempt is still ahead: only the window makes them late.
        Instant occurred = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
        Instant nextAttempt = Instant.now().plus(Duration.ofDays(3));
        String first = paymentFailed(customer, occurred, nextAttempt);
        String second = paymentFailed(customer, occurred, nextAttempt);

        for (String key : List.of(first, second)) {
            for (String channel : List.of("email", "sms", "ops_webhook")) {
                Map<String, Object> ended = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(key, channel),
                        row -> "EXPIRED".equals(row.get("state")));
                assertThat((String) ended.get("reason")).as(channel).startsWith("not sent: billing.payment_failed is only worth sending"
                        + " within 1 hour of the event (window PT1H, late: drop); the event happened at " + WHEN.format(occurred)
                        + ", it was still waiting at ");
                assertThat(ended.get("late_at")).isNotNull();
                assertThat(ended.get("sent_at")).isNull();
                assertThat(herald.attempts(key, channel)).extracting(a -> a.get("outcome")).containsExactly("EXPIRED");
            }
        }
        // Nothing reached the customer or the provider.
        assertThat(herald.mailsFor(first)).isEmpty();
        assertThat(herald.mailsFor(second)).isEmpty();
        assertThat(smsRequests(first)).isEmpty();
        assertThat(smsRequests(second)).isEmpty();

        // Counted, and shown in the weekly review apart from failures (nothing failed: the catalog says not to send it late).
        assertThat(metrics().value("herald_late_messages_total", "channel", "email", "policy", "drop", "type", "billing.payment_failed")
                - droppedEmailsBefore).isEqualTo(2.0);
        List<JsonNode> weeksAfter = weekly(weeks);
        assertThat(count(weeksAfter, "lateDroppedByType", "billing.payment_failed / email")
                - count(weekBefore, "lateDroppedByType", "billing.payment_failed / email")).isEqualTo(2);
        assertThat(count(weeksAfter, "lateDroppedByType", "billing.payment_failed / sms")
                - count(weekBefore, "lateDroppedByType", "billing.payment_failed / sms")).isEqualTo(2);
        assertThat(total(weeksAfter, "lateDropped") - total(weekBefore, "lateDropped")).isEqualTo(6);
        assertThat(total(weeksAfter, "failures")).isEqualTo(total(weekBefore, "failures"));
        // The CSV of the week the first email was dropped in says what that week's review says.
        JsonNode weekAfter = weekly(List.of(IsoWeeks.of(((java.sql.Timestamp) herald.delivery(first, "email").get("late_at")).toInstant()))).get(0);
        HttpResponse<String> csv = herald.as(OPERATOR, "GET", "/api/reports/weekly.csv?week=" + weekAfter.get("week").asText(), null);
        assertThat(csv.body()).contains("late messages not sent (late: drop),total," + weekAfter.get("lateDropped").asLong(),
                "late messages not sent by type / channel,billing.payment_failed / email," + count(weekAfter, "lateDroppedByType",
                        "billing.payment_failed / email"));

        // One alert for the group (type by channel), worded for this case, not for an approval that expired.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key IN (?, ?) AND d.alerted_at IS NULL", Integer.class, first, second) == 0);
        List<String> alerts = OpsAlerts.accepted(infra.providers(), group);
        assertThat(alerts).hasSize(alertsBefore + 1);
        assertThat(alerts.get(alerts.size() - 1)).contains("Example: not sent: billing.payment_failed is only worth sending within 1 hour")
                .doesNotContain("nobody approved");
    }

    @Test
    void aPaymentFailedWhoseNextAttemptHasPassedIsNotSentAsIfItWereStillToComeWhileAFreshOneIs() throws Exception {
        String customer = customer("stale");
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        // Within its window, but the "we will try again on ..." it announces is already past (a replayed or delayed event).
        Instant passed = now.minus(Duration.ofMinutes(10));
        String stale = paymentFailed(customer, now, passed);
        String fresh = paymentFailed(customer, now, now.plus(Duration.ofDays(3)));

        Map<String, Object> email = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(stale, "email"),
                row -> "EXPIRED".equals(row.get("state")));
        assertThat((String) email.get("reason")).startsWith("not sent: billing.payment_failed names a time that has passed"
                + " (data.nextPaymentAttempt " + WHEN.format(passed) + "; valid-until, late: drop), so it would read as if that time"
                + " were still to come; it was still waiting at ");
        assertThat(await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(stale, "sms"), row -> row.get("state") != null).get("state"))
                .isEqualTo("EXPIRED");
        // The fresh one goes out; the stale one never did.
        assertThat(herald.awaitMailFor(fresh)).isNotNull();
        await().atMost(Duration.ofSeconds(30)).until(() -> !smsRequests(fresh).isEmpty());
        assertThat(herald.mailsFor(stale)).isEmpty();
        assertThat(smsRequests(stale)).isEmpty();
    }

    @Test
    void anSmsParkedByAnOutageThatBecomesLateIsEndedByTheSweepNotRetriedLater() throws Exception {
        String phone = "+4477009" + String.format("%05d", PHONES.incrementAndGet() % 100_000);
        String customer = customer("parked", phone);
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        try {
            // On time when it comes (its window closes 25 s from now); the SMS provider is down for this number.
            Instant occurred = Instant.now().minus(Duration.ofHours(1)).plus(Duration.ofSeconds(25)).truncatedTo(ChronoUnit.SECONDS);
            String key = paymentFailed(customer, occurred, Instant.now().plus(Duration.ofDays(3)));
            herald.awaitMailFor(key);   // the email went out in time
            await().atMost(Duration.ofSeconds(20)).until(() -> herald.delivery(key, "sms"), row -> "PARKED".equals(row.get("state")));
            // Its next attempt is ten minutes away; the window (stored at intake: the event's time plus one hour) closes before
            // that. Rather than wait out the rest of it, its end is brought to now, as ApprovalTest lets a day pass: the sweep
            // ends it, it is not retried.
            assertThat(jdbc.queryForObject("SELECT window_deadline FROM notification WHERE idempotency_key = ?", java.sql.Timestamp.class, key)
                    .toInstant()).isEqualTo(occurred.plus(Duration.ofHours(1)));
            jdbc.update("UPDATE notification SET window_deadline = now() WHERE idempotency_key = ?", key);
            Map<String, Object> ended = await().atMost(Duration.ofSeconds(60)).until(() -> herald.delivery(key, "sms"),
                    row -> "EXPIRED".equals(row.get("state")));
            assertThat((String) ended.get("reason")).startsWith("not sent: billing.payment_failed is only worth sending within 1 hour");
            assertThat(ended.get("next_attempt_at")).isNull();
            List<Object> outcomes = herald.attempts(key, "sms").stream().map(a -> a.get("outcome")).toList();
            assertThat(outcomes.get(outcomes.size() - 1)).isEqualTo("EXPIRED");
            assertThat(outcomes).contains("PARKED");
            assertThat(herald.delivery(key, "email").get("state")).isEqualTo("SENT");
        } finally {
            infra.providers().removeStub(down);
        }
    }

    @Test
    void aScheduledSendThatFiresTooLateIsStoppedByTheSendersCheckJustBeforeSending() throws Exception {
        String customer = customer("fired");
        // The sweep is stopped, so only the sender's own check before sending can stop it.
        camel.getRouteController().stopRoute("send-windows");
        try {
            // A payment failure 2 hours old, already in the ledger (as intake leaves it), waiting SCHEDULED for a time that
            // comes in a second (quiet hours, a restart): when it fires it is too late, and its email is not sent.
            String key = "billing:invoice.payment_failed:in_fired" + run + ":attempt-1";
            Instant occurred = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.SECONDS);
            String canonical = Files.readString(Path.of("src/test/resources/golden/billing/invoice.payment_failed.canonical.json"))
                    .replace("billing:invoice.payment_failed:in_1QxR1zLkdIwHu7ixQ9w8E7r6:attempt-2", key)
                    .replace("cus_RkT4aB7cD9eF1g", customer)
                    .replace("2025-11-21T10:00:00Z", occurred.toString())
                    .replace("2025-11-24T10:00:00Z", Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.SECONDS).toString());
            assertThat(canonical).contains(occurred.toString());
            long id = jdbc.queryForObject("""
                    INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                              window_deadline)
                    VALUES (?, 'billing', ?, 'billing.payment_failed', ?, 'ROUTED', ?::jsonb, ?, ?) RETURNING id""", Long.class,
                    key, "evt_fired" + run, customer, canonical, java.sql.Timestamp.from(occurred),
                    java.sql.Timestamp.from(occurred.plus(Duration.ofHours(1))));
            scheduledSends.schedule(List.of(new ScheduledSends.Schedule(id, Instant.now().plusSeconds(1), "quiet hours (test)", null,
                    List.of(new DeliveryLedger.Queued(id, "email", customer)))));

            Map<String, Object> ended = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(key, "email"),
                    row -> "EXPIRED".equals(row.get("state")));
            assertThat((String) ended.get("reason")).startsWith("not sent: billing.payment_failed is only worth sending within 1 hour"
                    + " of the event (window PT1H, late: drop); the event happened at " + WHEN.format(occurred));
            assertThat(herald.attempts(key, "email")).extracting(a -> a.get("outcome")).containsExactly("SCHEDULED", "FIRED", "EXPIRED");
            assertThat(herald.mailsFor(key)).isEmpty();
        } finally {
            camel.getRouteController().startRoute("send-windows");
        }
    }

    @Test
    void aLateMessageOfAHoldTypeWaitsForAnOperatorWhoSendsOneAndDismissesAnother() throws Exception {
        String customer = customer("held");
        List<String> weeks = IsoWeeks.thisAndNext();   // the weeks the holds below can be counted in (past midnight on Sunday: the next)
        double heldBefore = metrics().value("herald_late_messages_total", "channel", "email", "policy", "hold", "type", "billing.charge_refunded");
        Instant occurred = Instant.now().minus(Duration.ofDays(2)).truncatedTo(ChronoUnit.SECONDS);
        String toSend = refund(customer, occurred);
        String toDismiss = refund(customer, occurred);
        for (String key : List.of(toSend, toDismiss)) {
            Map<String, Object> held = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(key, "email"),
                    row -> "HELD".equals(row.get("state")) && row.get("late_at") != null);
            assertThat((String) held.get("reason")).isEqualTo(scheduledSends.find(notificationId(key)).orElseThrow().reason())
                    .startsWith("held for an operator: billing.charge_refunded is only worth sending within 1 day of the event"
                            + " (window PT24H, late: hold); the event happened at " + WHEN.format(occurred))
                    .endsWith("; send it or dismiss it");
            assertThat(scheduledSends.find(notificationId(key)).orElseThrow().state()).isEqualTo("HELD");
        }
        assertThat(herald.mailsFor(toSend)).isEmpty();
        assertThat(metrics().value("herald_late_messages_total", "channel", "email", "policy", "hold", "type", "billing.charge_refunded")
                - heldBefore).isEqualTo(2.0);
        // The operators are told, once for the group.
        String group = "billing.charge_refunded by Email held for an operator - too late to send by itself (config/catalog.yaml late: hold)";
        await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.accepted(infra.providers(), group).isEmpty());

        // Sent by an operator: the mail arrives, the step is audited with the comment, and the late check lets it through.
        long sent = notificationId(toSend);
        assertThat(scheduledSends.sendNow(sent, "operator", "customer asked for the refund notice")).containsExactly("email");
        assertThat(herald.awaitMailFor(toSend).getSubject()).isNotBlank();
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(toSend, "email").get("state")));
        assertThat(herald.attempts(toSend, "email")).extracting(a -> a.get("outcome")).containsExactly("HELD", "RELEASED", "SENT");
        assertThat(audit(sent)).containsEntry("action", "SEND_NOW").containsEntry("actor", "operator")
                .containsEntry("comment", "customer asked for the refund notice");

        // Dismissed by an operator: DISMISSED, nothing sent, audited.
        long dismissed = notificationId(toDismiss);
        assertThat(scheduledSends.cancel(dismissed, "operator", "refunded a week ago, the customer knows")).isEqualTo("DISMISSED");
        assertThat(herald.delivery(toDismiss, "email").get("state")).isEqualTo("DISMISSED");
        assertThat(audit(dismissed)).containsEntry("action", "DISMISS").containsEntry("comment", "refunded a week ago, the customer knows");
        assertThat(herald.mailsFor(toDismiss)).isEmpty();
        assertThat(count(weekly(weeks), "lateHeldByType", "billing.charge_refunded / email")).isGreaterThanOrEqualTo(2);
    }

    /**
     * A notification waits SCHEDULED for a time (quiet hours that began after its claim) while its other channel, parked by an
     * SMS outage, was not moved with it (another instance held that row then), and then it becomes late. Its type holds late
     * messages: the whole notification waits HELD for an operator. The parked SMS was dropped ("cannot be held"), and the email
     * was left to its timer.
     */
    @Test
    void aLateDeliveryOfAHoldTypeWhoseNotificationWaitsScheduledHoldsTheWholeNotificationForAnOperator() throws Exception {
        String phone = "+4477011" + String.format("%05d", PHONES.incrementAndGet() % 100_000);
        String customer = customer("waiting", phone);
        String key = "billing:refund:wait" + run;
        long id = heldRefund(customer, key, "ORD-W" + run);

        // Sent by an operator: both channels go out, each once.
        assertThat(scheduledSends.sendNow(id, "operator", "the customer is waiting for it")).containsExactlyInAnyOrder("email", "sms");
        assertThat(herald.awaitMailFor(key).getSubject()).contains("refund");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "sms").get("state"))
                && "SENT".equals(herald.delivery(key, "email").get("state")));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                .hasSize(1);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * A late message held for an operator was alerted as held; the operator sends it, and the provider refuses it: that failure
     * is alerted too (found by an audit of the alerts: the release kept the held row's alerted mark, so the failure that
     * followed was never posted).
     */
    @Test
    void aHeldMessageAnOperatorSendsThatThenFailsIsAlerted() throws Exception {
        quietAlerts();
        String phone = "+4477012" + String.format("%05d", PHONES.incrementAndGet() % 100_000);
        String customer = customer("refused", phone);
        String key = "billing:refund:refused" + run;
        long id = heldRefund(customer, key, "ORD-R" + run);
        await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(key, "sms").get("alerted_at") != null);   // told: held

        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .withRequestBody(containing(phone.substring(1))).willReturn(aResponse().withStatus(400)
                        .withHeader("Content-Type", "application/json").withBody("{\"code\": 21408, \"message\": \"Permission to send"
                                + " an SMS has not been enabled for the region indicated by the 'To' number (case " + run + ").\"}")));
        try {
            assertThat(scheduledSends.sendNow(id, "operator", "the customer is waiting for it")).containsExactlyInAnyOrder("email", "sms");
            await().atMost(Duration.ofSeconds(30)).until(() -> "FAILED".equals(herald.delivery(key, "sms").get("state")));
            // Expected: alerted like any new failure within a poll or two (2 s locally).
            await().atMost(Duration.ofSeconds(20)).until(() -> !OpsAlerts.accepted(infra.providers(), "SMS not sent", "case " + run).isEmpty());
        } finally {
            infra.providers().removeStub(refused);
        }
    }

    /**
     * A late refund notice held for an operator after the hold above (test catalog: billing.refund_issued is cancelled by a
     * billing.charge_refunded of the same order) is still cancelled by that event: the held row keeps what a newer event
     * cancels it by, and cancelling takes held rows as it takes scheduled ones.
     */
    @Test
    void aLateMessageHeldForAnOperatorIsCancelledByTheEventThatMakesItPointless() throws Exception {
        String customer = customer("superseded");
        String key = "billing:refund:superseded" + run;
        String order = "ORD-S" + run;
        long id = heldRefund(customer, key, order);

        String refunded = refund(customer, Instant.now().truncatedTo(ChronoUnit.SECONDS), order);
        herald.awaitMailFor(refunded);
        await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(scheduledSends.find(id).orElseThrow().state()));
        for (String channel : List.of("email", "sms")) {
            assertThat(herald.delivery(key, channel)).containsEntry("state", "CANCELLED").hasEntrySatisfying("reason", reason ->
                    assertThat((String) reason).startsWith("superseded: billing.charge_refunded for order " + order)
                            .contains("makes the waiting billing.refund_issued pointless: cancelled, not sent"));
        }
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    /**
     * A refund notice (billing.refund_issued, email and SMS, for this order) whose email waits SCHEDULED for a time (quiet hours
     * that began after its claim) while its SMS, parked by an SMS outage, was not moved with it (another instance held that row
     * then); then its window closes (brought to now, as the parked-SMS test does) and the send-window sweep finds the parked
     * SMS: the whole notification waits HELD for an operator. Returns its id.
     */
    private long heldRefund(String customer, String key, String order) throws Exception {
        Instant occurred = Instant.now().minus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS);
        String canonical = Files.readString(Path.of("src/test/resources/golden/billing/charge.refunded.canonical.json"))
                .replace("billing:charge.refunded:ch_3QxU1aLkdIwHu7ix0p9O8i7U:12999", key)
                .replace("\"billing.charge_refunded\"", "\"billing.refund_issued\"")
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("ORD-100311", order)
                .replace("2025-11-21T13:00:00Z", occurred.toString());
        assertThat(canonical).contains(key, "billing.refund_issued", order, occurred.toString());
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at,
                                          window_deadline)
                VALUES (?, 'billing', ?, 'billing.refund_issued', ?, 'ROUTED', ?::jsonb, ?, ?) RETURNING id""", Long.class,
                key, "evt_" + key.replace(':', '_'), customer, canonical, java.sql.Timestamp.from(occurred),
                java.sql.Timestamp.from(occurred.plus(Duration.ofDays(3))));
        scheduledSends.schedule(List.of(new ScheduledSends.Schedule(id, Instant.now().plus(Duration.ofHours(8)), "quiet hours (test)", null,
                List.of(new DeliveryLedger.Queued(id, "email", customer)))));
        jdbc.update("""
                INSERT INTO delivery (notification_id, channel, state, customer_id, reason, parked_count, next_attempt_at, attempts)
                VALUES (?, 'sms', 'PARKED', ?, 'the SMS provider answered 503', 1, now() + interval '10 minutes', 1)""", id, customer);

        jdbc.update("UPDATE notification SET window_deadline = now() WHERE id = ?", id);
        Map<String, Object> sms = await().atMost(Duration.ofSeconds(60)).until(() -> herald.delivery(key, "sms"),
                row -> !"PARKED".equals(row.get("state")));
        assertThat(sms).containsEntry("state", "HELD");
        String reason = (String) sms.get("reason");
        assertThat(reason).startsWith("held for an operator: billing.refund_issued is only worth sending within 3 days of the event"
                + " (window PT72H, late: hold)").endsWith("; send it or dismiss it");
        assertThat(herald.delivery(key, "email")).containsEntry("state", "HELD").containsEntry("reason", reason)
                .hasEntrySatisfying("late_at", at -> assertThat(at).isNotNull());
        assertThat(herald.attempts(key, "email")).extracting(a -> a.get("outcome")).containsExactly("SCHEDULED", "HELD");
        ScheduledSends.Waiting waiting = scheduledSends.find(id).orElseThrow();
        assertThat(waiting.state()).isEqualTo("HELD");
        assertThat(waiting.reason()).isEqualTo(reason);
        return id;
    }

    /**
     * A notice that announces a date which has passed by the time it is sent ("your trial ends on", "renews on") is not sent:
     * a trial notice whose trial ended and a renewal notice whose renewal happened, both stamped now (a replayed or delayed
     * event), end EXPIRED naming the field, while a trial notice for a trial still running goes out.
     */
    @Test
    void aTrialOrRenewalNoticeWhoseDateHasPassedIsNotSent() throws Exception {
        String customer = customer("trial");
        long now = Instant.now().getEpochSecond();
        String ended = billingEvent("customer.subscription.trial_will_end.json", customer, "evt_trialover" + run, now,
                "\"trial_end\": 1763985600", "\"trial_end\": " + (now - 3600));
        String running = billingEvent("customer.subscription.trial_will_end.json", customer, "evt_trialon" + run, now,
                "\"trial_end\": 1763985600", "\"trial_end\": " + (now + 3 * 86400));
        String renewed = billingEvent("invoice.upcoming.json", customer, "evt_renewed" + run, now,
                "\"period_end\": 1764151200", "\"period_end\": " + (now - 3600));
        for (String[] notice : new String[][] {{ended, "trialEnd"}, {renewed, "renewsAt"}}) {
            Map<String, Object> email = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(notice[0], "email"),
                    row -> "EXPIRED".equals(row.get("state")));
            assertThat((String) email.get("reason")).as(notice[0]).contains("names a time that has passed (data." + notice[1] + " ")
                    .contains("valid-until, late: drop");
        }
        assertThat(herald.awaitMailFor(running)).isNotNull();
        assertThat(herald.mailsFor(ended)).isEmpty();
        assertThat(herald.mailsFor(renewed)).isEmpty();
    }

    /** A sample billing event for the customer, created at {@code created}, with one more text replaced; its notification's key. */
    private String billingEvent(String sample, String customer, String eventId, long created, String from, String to) throws Exception {
        String body = Samples.text("billing/" + sample);
        String sampleCustomer = JSON.readTree(body).at("/data/object/customer").asText();
        String subscription = JSON.readTree(body).at("/data/object/id").asText();
        body = body.replace(JSON.readTree(body).get("id").asText(), eventId).replaceFirst("\"created\": \\d+", "\"created\": " + created)
                .replace(sampleCustomer, customer).replace(from, to);
        if (subscription.startsWith("sub_")) {
            body = body.replace(subscription, subscription + eventId);   // a subscription of its own: the key is subscription and time
        }
        herald.postBilling(body);
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT idempotency_key FROM notification WHERE source_event_id = ?", String.class, eventId), keys -> !keys.isEmpty()).get(0);
    }

    @Test
    void aLateMessageOfATypeWithoutAPolicyIsStillSentAndFlagged() throws Exception {
        String customer = customer("sendlate");
        String event = "evt_paid" + run;
        String body = Samples.text("billing/invoice.paid.json")
                .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", event)
                .replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_paid" + run)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("\"created\": 1763722800", "\"created\": " + Instant.now().minus(Duration.ofDays(2)).getEpochSecond());
        herald.postBilling(body);
        String key = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT idempotency_key FROM notification WHERE source_event_id = ?", String.class, event), keys -> !keys.isEmpty()).get(0);
        herald.awaitMailFor(key);
        Map<String, Object> email = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(key, "email"),
                row -> "SENT".equals(row.get("state")) && row.get("window_missed_at") != null);
        assertThat(email.get("late_at")).isNull();
    }

    // --- helpers

    /** With the alert poll stopped, every failure so far counts as alerted and no group as announced (as OpsAlerts.quiet). */
    private void quietAlerts() throws Exception {
        camel.getRouteController().stopRoute("failure-alerts");
        try {
            jdbc.update("UPDATE delivery SET alerted_at = now() WHERE alerted_at IS NULL");
            jdbc.update("DELETE FROM alert_group");
        } finally {
            camel.getRouteController().startRoute("failure-alerts");
        }
    }

    private String customer(String name) {
        return customer(name, null);
    }

    private String customer(String name, String phone) {
        String id = "cus_" + name + run;
        String number = phone != null ? phone : "+4477008" + String.format("%05d", PHONES.incrementAndGet() % 100_000);
        return herald.insertCustomer(id, Character.toUpperCase(name.charAt(0)) + name.substring(1) + " Tester", number, null, null);
    }

    /** A Stripe-style invoice.payment_failed for the customer, created and next attempted at the given times; its key. */
    private String paymentFailed(String customer, Instant created, Instant nextAttempt) throws Exception {
        String unique = run + UUID.randomUUID().toString().substring(0, 6);
        herald.postBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("\"created\": 1763719200", "\"created\": " + created.getEpochSecond())
                .replace("\"next_payment_attempt\": 1763978400", "\"next_payment_attempt\": " + nextAttempt.getEpochSecond()));
        return Samples.paymentFailedKey(unique);
    }

    /** A Stripe-style charge.refunded for the customer that happened at {@code created}; its key. */
    private String refund(String customer, Instant created) throws Exception {
        return refund(customer, created, "ORD-100311");
    }

    private String refund(String customer, Instant created, String order) throws Exception {
        String charge = "ch_late" + run + UUID.randomUUID().toString().substring(0, 6);
        herald.postBilling(Samples.text("billing/charge.refunded.json").replace("ORD-100311", order)
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_late" + UUID.randomUUID().toString().replace("-", ""))
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("\"created\": 1763730000", "\"created\": " + created.getEpochSecond()));
        return "billing:charge.refunded:" + charge + ":12999";
    }

    private long notificationId(String key) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT id FROM notification WHERE idempotency_key = ?",
                Long.class, key), ids -> !ids.isEmpty()).get(0);
    }

    private Map<String, Object> audit(long notificationId) {
        return jdbc.queryForMap("SELECT actor, action, comment FROM operator_action WHERE target = 'scheduled_send' AND target_id = ?"
                + " ORDER BY id DESC LIMIT 1", notificationId);
    }

    private List<?> smsRequests(String key) {
        return infra.providers().getAllServeEvents().stream()
                .filter(e -> e.getRequest().getUrl().startsWith(SMS_PATH))
                .filter(e -> (key + ":sms").equals(e.getRequest().getHeader("Idempotency-Key")))
                .filter(e -> e.getResponse().getStatus() / 100 == 2).toList();
    }

    /** The weekly review of each of these weeks. */
    private List<JsonNode> weekly(List<String> weeks) throws Exception {
        List<JsonNode> reports = new java.util.ArrayList<>();
        for (String week : weeks) {
            HttpResponse<String> answer = herald.as(OPERATOR, "GET", "/api/reports/weekly?week=" + week, null);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            reports.add(JSON.readTree(answer.body()));
        }
        return reports;
    }

    private static long count(JsonNode report, String section, String key) {
        for (JsonNode c : report.get(section)) {
            if (key.equals(c.get("key").asText())) {
                return c.get("count").asLong();
            }
        }
        return 0;
    }

    /** The count of {@code key} in a section of the weekly reviews, added up over the weeks. */
    private static long count(List<JsonNode> reports, String section, String key) {
        return reports.stream().mapToLong(report -> count(report, section, key)).sum();
    }

    /** A total of the weekly reviews added up over the weeks. */
    private static long total(List<JsonNode> reports, String field) {
        return reports.stream().mapToLong(report -> report.get(field).asLong()).sum();
    }

    private Prometheus metrics() throws Exception {
        HttpResponse<String> scrape = herald.as(null, "GET", "/actuator/prometheus", null);
        assertThat(scrape.statusCode()).isEqualTo(200);
        return new Prometheus(scrape.body());
    }
}
