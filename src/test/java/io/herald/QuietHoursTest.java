package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.herald.testsupport.OwnHeraldClient.OPERATOR;
import static io.herald.testsupport.OwnHeraldClient.VIEWER;
import static io.herald.testsupport.OwnHeraldClient.entry;
import static io.herald.testsupport.OwnHeraldClient.error;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.openqa.selenium.support.ui.ExpectedConditions.visibilityOfElementLocated;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.ledger.DeliveryLedger;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.schedule.ScheduledSends;
import io.herald.testsupport.Browser;
import io.herald.testsupport.MovableClock;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.PolledClock;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TestFiles;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;
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
 * Quiet hours, cancelled-by and the waiting notifications' console and API (issue 14 points 4 and 7), end to end: real
 * Stripe-style webhooks through the billing mapping, intake and dispatch, the shipped catalog (billing: quiet hours
 * 21:00-08:00, high priority held too; billing.payment_failed cancelled by billing.invoice_paid on the invoice), and
 * db-scheduler firing on a clock the test moves. What customers and operators observe: the mail at 08:00 in the
 * customer's zone and not a minute before (also on the nights the clocks change), at once for a customer whose evening it
 * is not; a held payment-failed notice never sent once the invoice is paid, with the reason in its timeline; the list,
 * cancel and send-now in the API and the console, with comments, audited, and refused to viewers.
 *
 * <p>Its own Herald (OwnHerald: database, topics, consumer group) with a {@link MovableClock}: the moved clock fires
 * only this Herald's scheduled sends. The tests run in the order of their dates and never set the clock back (seen here:
 * after the clock went back ten months, a due timer did not fire within 30 s).
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
@Import(QuietHoursTest.Time.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)   // in the order of their dates: the clock only moves forward
class QuietHoursTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final MovableClock clock = new MovableClock(Instant.parse("2026-12-02T12:00:00Z"));
    private static final PolledClock timerPolls = new PolledClock(clock);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    ScheduledSends scheduledSends;
    @Autowired
    Scheduler scheduler;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @TestConfiguration
    static class Time {
        @Bean
        @Primary
        Clock movableClock() {
            return timerPolls;
        }
    }

    @DynamicPropertySource
    static void shippedCatalogOnItsOwnHerald(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "quiet-hours-test");
        registry.add("herald.catalog", () -> shippedWithApprovedRefunds().toString());
        registry.add("herald.scheduling.poll-interval", () -> "PT0.2S");
        registry.add("herald.scheduling.default-time-zone", () -> "Europe/London");
    }

    @Test
    @Order(1)
    void at2230InBerlinANoticeWaitsUntil0800ThereWhileNewYorkAndAnUnknownZoneAreJudgedInTheirOwnTime() throws Exception {
        clock.set(Instant.parse("2026-12-02T21:30:00Z"));   // 22:30 in Berlin, 16:30 in New York, 21:30 in London
        String berlin = customer("berlin", "Europe/Berlin");
        String newYork = customer("newyork", "America/New_York");
        String unknown = customer("mars", "Mars/Olympus_Mons");
        String berlinKey = invoicePaid(berlin, "in_qhb" + run);
        String newYorkKey = invoicePaid(newYork, "in_qhn" + run);
        String unknownKey = invoicePaid(unknown, "in_qhu" + run);

        // New York's afternoon: sent at once, never scheduled.
        awaitMailFor(newYorkKey);
        assertThat(herald.scheduled(newYorkKey)).isEmpty();

        // Berlin's evening: SCHEDULED until 08:00 Berlin time (07:00 UTC), with the reason, and its durable timer.
        Instant eight = Instant.parse("2026-12-03T07:00:00Z");
        Map<String, Object> waiting = herald.awaitScheduled(berlinKey);
        assertThat(waiting).containsEntry("state", "SCHEDULED").containsEntry("reason", "quiet hours 21:00-08:00 in Europe/Berlin for"
                + " billing notifications: held until 08:00 local time on 2026-12-03 (2026-12-03 07:00 UTC)");
        assertThat(instant(waiting.get("fire_at"))).isEqualTo(eight);
        assertThat(herald.timerAt(berlinKey)).isEqualTo(eight);
        assertThat(herald.delivery(berlinKey, "email")).containsEntry("state", "SCHEDULED");
        assertThat((String) herald.delivery(berlinKey, "email").get("reason")).startsWith("scheduled for 2026-12-03 07:00 UTC: quiet hours 21:00-08:00");
        // Herald chose the delay: the send window (PT24H) counts from 08:00.
        assertThat(instant(jdbc.queryForObject("SELECT window_deadline FROM notification WHERE idempotency_key = ?", Timestamp.class, berlinKey)))
                .isEqualTo(eight.plus(Duration.ofHours(24)));
        // Its zone unknown: judged in herald.scheduling.default-time-zone (Europe/London), where 21:30 is quiet too.
        Map<String, Object> unknownWait = herald.awaitScheduled(unknownKey);
        assertThat(instant(unknownWait.get("fire_at"))).isEqualTo(Instant.parse("2026-12-03T08:00:00Z"));
        assertThat((String) unknownWait.get("reason")).startsWith("quiet hours 21:00-08:00 in Europe/London (the customer's time zone"
                + " 'Mars/Olympus_Mons' is not a time zone: herald.scheduling.default-time-zone)");

        // The list shows it with its time.
        JsonNode listed = only(list(OPERATOR, "customer=" + berlin));
        assertThat(listed.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(listed.get("fireAt").asText()).isEqualTo("2026-12-03T07:00:00Z");
        assertThat(listed.get("channels").toString()).isEqualTo("[\"email\"]");

        // A minute before 08:00 it still waits; at 08:00 it goes out.
        clock.set(eight.minus(Duration.ofMinutes(1)));
        stillWaiting(berlinKey);
        clock.set(eight);
        MimeMessage mail = awaitMailFor(berlinKey);
        assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(berlin + "@example.com");
        assertThat(herald.scheduled(berlinKey)).containsEntry("state", "FIRED");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(berlinKey, "email").get("state")));
        assertThat(herald.attempts(berlinKey, "email")).extracting(a -> a.get("outcome")).containsSubsequence("SCHEDULED", "FIRED", "SENT");
        assertThat(herald.delivery(berlinKey, "email").get("window_missed_at")).isNull();
        assertThat(herald.mailsFor(unknownKey)).isEmpty();   // London's 08:00 is an hour later
        clock.set(Instant.parse("2026-12-03T08:00:00Z"));
        awaitMailFor(unknownKey);
        assertThat(herald.mailsFor(berlinKey)).hasSize(1);
    }

    @Test
    @Order(5)
    void onTheNightsTheClocksChangeTheNoticeStillGoesOutAtEightOnTheWall() throws Exception {
        String berlin = customer("dst", "Europe/Berlin");
        // Berlin springs forward on Sunday 28 March 2027: 08:00 CEST is 06:00 UTC (on an ordinary winter day, 07:00 UTC).
        clock.set(Instant.parse("2027-03-27T21:30:00Z"));   // 22:30 CET
        String spring = invoicePaid(berlin, "in_qhs" + run);
        Instant springEight = Instant.parse("2027-03-28T06:00:00Z");
        assertThat(instant(herald.awaitScheduled(spring).get("fire_at"))).isEqualTo(springEight);
        clock.set(springEight.minus(Duration.ofMinutes(1)));
        stillWaiting(spring);
        clock.set(springEight);
        awaitMailFor(spring);

        // It falls back on Sunday 31 October 2027: 08:00 CET is 07:00 UTC, after a night an hour longer.
        clock.set(Instant.parse("2027-10-30T20:30:00Z"));   // 22:30 CEST
        String autumn = invoicePaid(berlin, "in_qha" + run);
        Instant autumnEight = Instant.parse("2027-10-31T07:00:00Z");
        assertThat(instant(herald.awaitScheduled(autumn).get("fire_at"))).isEqualTo(autumnEight);
        assertThat((String) herald.scheduled(autumn).get("reason")).endsWith("held until 08:00 local time on 2027-10-31 (2027-10-31 07:00 UTC)");
        clock.set(autumnEight.minus(Duration.ofMinutes(1)));
        stillWaiting(autumn);
        clock.set(autumnEight);
        awaitMailFor(autumn);
    }

    @Test
    @Order(2)
    void aHeldPaymentFailedNoticeIsCancelledWhenTheInvoiceIsPaidAndNeverSent() throws Exception {
        clock.set(Instant.parse("2026-12-09T22:00:00Z"));   // 23:00 in Berlin
        String customer = customer("payer", "Europe/Berlin");
        String invoice = "in_qhp" + run;
        String failed = paymentFailed(customer, invoice);

        // High priority, but billing holds it too (high-priority: hold): email and SMS wait; the ops webhook (the team) does not.
        Map<String, Object> waiting = herald.awaitScheduled(failed);
        assertThat(waiting).containsEntry("state", "SCHEDULED").containsEntry("match_key", "invoice:" + invoice);
        assertThat((String) waiting.get("reason")).contains("high priority included (high-priority: hold)");
        assertThat(herald.delivery(failed, "email")).containsEntry("state", "SCHEDULED");
        assertThat(herald.delivery(failed, "sms")).containsEntry("state", "SCHEDULED");
        String ops = await().atMost(Duration.ofSeconds(30)).until(() -> (String) herald.delivery(failed, "ops_webhook").get("state"), s -> s != null);
        assertThat(ops).isNotEqualTo("SCHEDULED");

        // Ten minutes later the invoice is paid: the held notice is cancelled with the reason; the receipt waits for 08:00.
        clock.advance(Duration.ofMinutes(10));
        String paid = invoicePaid(customer, invoice);
        await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.scheduled(failed).get("state")));
        String reason = "superseded: billing.invoice_paid for invoice " + invoice + " (occurred 2026-12-09 22:10 UTC, billing event evt_qh";
        assertThat((String) herald.delivery(failed, "email").get("reason")).startsWith(reason)
                .endsWith("makes the waiting billing.payment_failed pointless: cancelled, not sent (config/catalog.yaml:"
                        + " notifications.billing.payment_failed.cancelled-by)");
        assertThat(herald.delivery(failed, "email")).containsEntry("state", "CANCELLED");
        assertThat(herald.delivery(failed, "sms")).containsEntry("state", "CANCELLED");
        assertThat(herald.scheduled(failed)).containsEntry("decided_by", "Herald");
        assertThat(herald.awaitScheduled(paid)).containsEntry("state", "SCHEDULED");
        assertThat(list(OPERATOR, "customer=" + customer).findValues("notificationId").stream().map(JsonNode::asLong).toList())
                .containsExactly(herald.notificationId(paid));

        // The timeline says it: scheduled, then cancelled by Herald because of the payment.
        JsonNode timeline = herald.timeline(herald.notificationId(failed));
        assertThat(entry(timeline, "Scheduled for 2026-12-10 07:00 UTC").get("detail").asText()).contains("quiet hours 21:00-08:00 in Europe/Berlin");
        assertThat(entry(timeline, "CANCELLED").get("detail").asText()).startsWith(reason);
        assertThat(entry(timeline, "Herald: CANCEL").get("actor").asText()).isEqualTo("Herald");

        // 08:00: the receipt goes out, the payment-failed notice never does.
        clock.set(Instant.parse("2026-12-10T07:00:00Z"));
        awaitMailFor(paid);
        assertThat(herald.mailsFor(failed)).isEmpty();
        assertThat(herald.scheduled(failed)).containsEntry("state", "CANCELLED");
        assertThat(herald.delivery(failed, "email")).containsEntry("state", "CANCELLED");
    }

    @Test
    @Order(3)
    void theApiListsByTypeCustomerAndTimeAndOperatorsCancelOrSendNowWithACommentAuditedViewersOnlyRead() throws Exception {
        clock.set(Instant.parse("2026-12-23T21:30:00Z"));   // 22:30 in Berlin, 21:30 in London
        String berlin = customer("apiberlin", "Europe/Berlin");
        String london = customer("apilondon", "Europe/London");
        String paid = invoicePaid(berlin, "in_qhapi" + run);
        String refund = chargeRefunded(berlin, "ch_qhapi" + run);
        String londonPaid = invoicePaid(london, "in_qhapl" + run);
        herald.awaitScheduled(paid);
        herald.awaitScheduled(refund);
        herald.awaitScheduled(londonPaid);
        long paidId = herald.notificationId(paid);
        long refundId = herald.notificationId(refund);
        long londonId = herald.notificationId(londonPaid);

        assertThat(ids(list(OPERATOR, "customer=" + berlin))).containsExactlyInAnyOrder(paidId, refundId);
        assertThat(ids(list(OPERATOR, "customer=" + berlin + "&type=billing.charge_refunded"))).containsExactly(refundId);
        // Berlin's wait ends at 07:00 UTC, London's at 08:00 UTC.
        assertThat(ids(list(OPERATOR, "from=2026-12-24T07:30:00Z&to=2026-12-24T08:30:00Z&customer=" + london))).containsExactly(londonId);
        assertThat(ids(list(OPERATOR, "from=2026-12-24T07:30:00Z&customer=" + berlin))).isEmpty();
        assertThat(ids(list(OPERATOR, "to=2026-12-24T07:30:00Z&customer=" + berlin))).containsExactlyInAnyOrder(paidId, refundId);
        // A viewer reads the list and may not act.
        assertThat(ids(list(VIEWER, "customer=" + berlin))).containsExactlyInAnyOrder(paidId, refundId);
        assertThat(herald.as(VIEWER, "POST", "/api/scheduled/" + paidId + "/cancel", "{\"comment\": \"no\"}").statusCode()).isEqualTo(403);
        assertThat(herald.as(VIEWER, "POST", "/api/scheduled/" + paidId + "/send-now", "{\"comment\": \"now\"}").statusCode()).isEqualTo(403);
        assertThat(herald.scheduled(paid)).containsEntry("state", "SCHEDULED");

        // No comment: refused, nothing decided.
        HttpResponse<String> noComment = herald.as(OPERATOR, "POST", "/api/scheduled/" + paidId + "/cancel", "{\"comment\": \" \"}");
        assertThat(noComment.statusCode()).isEqualTo(400);
        assertThat(error(noComment)).isEqualTo("say why: a cancellation needs a comment for the record");

        // Cancel: CANCELLED, never sent, audited with the comment, in the timeline.
        HttpResponse<String> cancelled = herald.as(OPERATOR, "POST", "/api/scheduled/" + paidId + "/cancel",
                "{\"comment\": \"duplicate invoice, billing voids it\"}");
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(JSON.readTree(cancelled.body()).get("message").asText()).isEqualTo("notification " + paidId + " cancelled: not sent");
        assertThat(herald.delivery(paid, "email")).containsEntry("state", "CANCELLED")
                .containsEntry("reason", "cancelled by operator: duplicate invoice, billing voids it; not sent");
        assertThat(jdbc.queryForMap("SELECT actor, action, comment FROM operator_action WHERE target = 'scheduled_send' AND target_id = ?", paidId))
                .containsEntry("actor", "operator").containsEntry("action", "CANCEL").containsEntry("comment", "duplicate invoice, billing voids it");
        assertThat(herald.as(OPERATOR, "GET", "/api/notifications/" + paidId, null).body()).contains("Operator: CANCEL", "duplicate invoice, billing voids it");
        HttpResponse<String> again = herald.as(OPERATOR, "POST", "/api/scheduled/" + paidId + "/send-now", "{\"comment\": \"changed my mind\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(error(again)).startsWith("notification " + paidId + " is already CANCELLED (by operator at ");
        assertThat(herald.as(OPERATOR, "POST", "/api/scheduled/99999999/cancel", "{\"comment\": \"x\"}").statusCode()).isEqualTo(404);

        // Send now: the mail goes out before 08:00, audited.
        HttpResponse<String> sent = herald.as(OPERATOR, "POST", "/api/scheduled/" + refundId + "/send-now", "{\"comment\": \"customer asked on the phone\"}");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        assertThat(JSON.readTree(sent.body()).get("message").asText()).isEqualTo("notification " + refundId + " sent now: 1 delivery queued (email)");
        awaitMailFor(refund);
        assertThat(herald.scheduled(refund)).containsEntry("state", "SENT_NOW").containsEntry("decided_by", "operator");
        assertThat(jdbc.queryForMap("SELECT action, comment FROM operator_action WHERE target = 'scheduled_send' AND target_id = ?", refundId))
                .containsEntry("action", "SEND_NOW").containsEntry("comment", "customer asked on the phone");
        assertThat(ids(list(OPERATOR, "customer=" + berlin))).isEmpty();
        assertThat(herald.mailsFor(paid)).isEmpty();

        // A HELD one (a late message whose type's policy is hold: no time of its own) is listed first and dismissed.
        String heldKey = "billing:invoice.paid:in_qhheld" + run;
        long held = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.invoice_paid', ?, 'ROUTED', '{}'::jsonb) RETURNING id""", Long.class,
                heldKey, "evt_qhheld" + run, london);
        scheduledSends.schedule(List.of(new ScheduledSends.Schedule(held, null, "late: held for an operator to send or dismiss", null,
                List.of(new DeliveryLedger.Queued(held, "email", london)))));
        JsonNode londonList = list(OPERATOR, "customer=" + london);
        assertThat(ids(londonList)).containsExactly(held, londonId);
        assertThat(londonList.get(0).get("state").asText()).isEqualTo("HELD");
        assertThat(londonList.get(0).get("fireAt").isNull()).isTrue();
        assertThat(herald.as(OPERATOR, "GET", "/console/scheduled?customer=" + london, null).body())
                .contains("when an operator decides", "/console/scheduled/" + held + "/cancel", ">Dismiss<");
        HttpResponse<String> dismissed = herald.as(OPERATOR, "POST", "/api/scheduled/" + held + "/cancel", "{\"comment\": \"customer already called\"}");
        assertThat(dismissed.statusCode()).as(dismissed.body()).isEqualTo(200);
        assertThat(JSON.readTree(dismissed.body()).get("state").asText()).isEqualTo("DISMISSED");
        assertThat(herald.delivery(heldKey, "email")).containsEntry("state", "DISMISSED")
                .containsEntry("reason", "dismissed by operator: customer already called; not sent");
        assertThat(jdbc.queryForObject("SELECT action FROM operator_action WHERE target = 'scheduled_send' AND target_id = ?", String.class, held))
                .isEqualTo("DISMISS");
    }

    @Test
    @Order(4)
    void theConsolePageListsAScheduledNoticeAndAnOperatorCancelsItThere() throws Exception {
        clock.set(Instant.parse("2026-12-30T21:30:00Z"));
        String customer = customer("console", "Europe/Berlin");
        String key = invoicePaid(customer, "in_qhc" + run);
        herald.awaitScheduled(key);
        long id = herald.notificationId(key);

        // A viewer sees it, without the forms.
        HttpResponse<String> viewerPage = herald.as(VIEWER, "GET", "/console/scheduled?customer=" + customer, null);
        assertThat(viewerPage.statusCode()).isEqualTo(200);
        assertThat(viewerPage.body()).contains("#" + id + " billing.invoice_paid", "2026-12-31 07:00").doesNotContain("/console/scheduled/" + id + "/cancel");

        WebDriver browser = Browser.start();
        try {
            Browser.logIn(browser, "http://localhost:" + port, OPERATOR);
            new WebDriverWait(browser, Duration.ofSeconds(10)).until(visibilityOfElementLocated(By.linkText("Scheduled"))).click();
            new WebDriverWait(browser, Duration.ofSeconds(10)).until(visibilityOfElementLocated(By.name("customer"))).sendKeys(customer);
            browser.findElement(By.id("search")).click();
            // The click returns before the searched page has loaded: wait for its one row.
            new WebDriverWait(browser, Duration.ofSeconds(10)).until(b -> b.getCurrentUrl().contains("customer=")
                    && b.findElements(By.cssSelector("#scheduled tr[data-id]")).size() == 1);
            List<WebElement> rows = browser.findElements(By.cssSelector("#scheduled tr[data-id]"));
            assertThat(rows).hasSize(1);
            WebElement row = rows.get(0);
            assertThat(row.getAttribute("data-id")).isEqualTo(String.valueOf(id));
            assertThat(row.findElement(By.className("state")).getText()).isEqualTo("SCHEDULED");
            assertThat(row.findElement(By.className("fire-at")).getText()).isEqualTo("2026-12-31 07:00");
            assertThat(row.findElement(By.className("reason")).getText()).startsWith("quiet hours 21:00-08:00 in Europe/Berlin");
            row.findElement(By.cssSelector("form.cancel input[name=comment]")).sendKeys("customer closed the account");
            row.findElement(By.cssSelector("form.cancel button")).click();
            assertThat(new WebDriverWait(browser, Duration.ofSeconds(10)).until(visibilityOfElementLocated(By.id("message"))).getText())
                    .isEqualTo("notification " + id + " cancelled: not sent");
            assertThat(browser.findElements(By.cssSelector("#scheduled tr[data-id='" + id + "']"))).isEmpty();
        } finally {
            browser.quit();
        }
        assertThat(herald.scheduled(key)).containsEntry("state", "CANCELLED").containsEntry("decided_by", "operator")
                .containsEntry("comment", "customer closed the account");
        assertThat(herald.delivery(key, "email")).containsEntry("state", "CANCELLED");
    }

    @Test
    @Order(6)
    void aParkedSmsWhoseRetryComesDueInsideQuietHoursWaitsOnTheScheduledPageAndGoesOutOnceWhenSentNowWhileTheOpsWebhookIsPostedAtOnce() throws Exception {
        clock.set(Instant.parse("2027-11-16T19:55:00Z"));   // 20:55 in Berlin: before the quiet hours, sent at once
        String customer = herald.insertCustomer("cus_qh_parked_" + run, "Test parked", "+15550104242", null, "Europe/Berlin");
        String key = "billing:invoice.payment_failed:in_qhpk" + run + ":attempt-2";
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .withHeader("Idempotency-Key", equalTo(key + ":sms")).willReturn(WireMock.aResponse().withStatus(503)));
        int calls;
        try {
            assertThat(paymentFailed(customer, "in_qhpk" + run)).isEqualTo(key);
            awaitMailFor(key);   // the email went out before 21:00; the SMS provider is down
            await().atMost(Duration.ofSeconds(30)).until(() -> "PARKED".equals(herald.delivery(key, "sms").get("state")));
            calls = smsCalls(key);
        } finally {
            infra.providers().removeStub(refused);
        }
        // The team's webhook post of a notice, parked by an outage of the webhook (the ops webhook of a type posted each time).
        String opsKey = parkedOpsPost(key);

        // 21:30 in Berlin, the providers are back and both parked deliveries come due: the customer's SMS waits for 08:00
        // on the Scheduled page (sent now or cancelled there, like a notice held at dispatch), the team's post goes now.
        clock.set(Instant.parse("2027-11-16T20:30:00Z"));
        comeDue(key, "sms");
        Instant eight = Instant.parse("2027-11-17T07:00:00Z");
        String waits = "sms waits for quiet hours 21:00-08:00 in Europe/Berlin for billing notifications, high priority included"
                + " (high-priority: hold): its retry came due at 21:30 local time, inside them; not sent until 08:00 local time on"
                + " 2027-11-17 (2027-11-17 07:00 UTC)";
        await().atMost(Duration.ofSeconds(30)).until(() -> waits.equals(herald.delivery(key, "sms").get("reason")));
        Map<String, Object> sms = herald.delivery(key, "sms");
        assertThat(sms).containsEntry("state", "SCHEDULED").containsEntry("parked_count", 1);   // not a park: never offered to the provider
        assertThat(herald.scheduled(key)).containsEntry("state", "SCHEDULED").containsEntry("reason", waits)
                .containsEntry("match_key", "invoice:in_qhpk" + run);
        assertThat(instant(herald.scheduled(key).get("fire_at"))).isEqualTo(eight);
        assertThat(herald.timerAt(key)).isEqualTo(eight);
        JsonNode listed = only(list(OPERATOR, "customer=" + customer));
        assertThat(listed.get("notificationId").asLong()).isEqualTo(herald.notificationId(key));
        assertThat(listed.get("channels").toString()).isEqualTo("[\"sms\"]");
        assertThat(herald.attempts(key, "sms")).extracting(a -> a.get("outcome")).containsSubsequence("PARKED", "QUIET_HOURS");
        // Herald chose the wait: the notice's send window (PT1H) counts from 08:00, so its late policy (drop) does not take it.
        assertThat(instant(jdbc.queryForObject("SELECT window_deadline FROM notification WHERE idempotency_key = ?", Timestamp.class, key)))
                .isEqualTo(Instant.parse("2027-11-17T08:00:00Z"));
        awaitOpsPost(opsKey);
        assertThat(herald.delivery(opsKey, "ops_webhook")).containsEntry("state", "SENT");
        assertThat(smsCalls(key)).isEqualTo(calls);

        // At 07:59 it still waits.
        clock.set(eight.minus(Duration.ofMinutes(1)));
        timerPolls.awaitPollsOnTheTimeSet(scheduler, 3);
        assertThat(herald.delivery(key, "sms")).containsEntry("state", "SCHEDULED");
        assertThat(smsCalls(key)).isEqualTo(calls);

        // Still at 07:59 the customer calls about the failed payment: an operator sends the SMS now from the Scheduled page.
        HttpResponse<String> sentNow = herald.as(OPERATOR, "POST", "/api/scheduled/" + herald.notificationId(key) + "/send-now",
                "{\"comment\": \"the customer is on the phone\"}");
        assertThat(sentNow.statusCode()).as(sentNow.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "sms").get("state")));
        assertThat(herald.scheduled(key)).containsEntry("state", "SENT_NOW").containsEntry("decided_by", "operator");
        assertThat(herald.attempts(key, "sms")).extracting(a -> a.get("outcome")).containsSubsequence("PARKED", "QUIET_HOURS", "RELEASED", "SENT");

        // 08:00: its timer finds it sent; nothing more goes out.
        clock.set(eight);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> smsCalls(key) == calls + 1);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    @Test
    @Order(7)
    void aScheduledSendFiringInsideTheQuietHoursOfTheCustomersNewZoneIsScheduledAgainForTheirEndThereAndSentOnceThen() throws Exception {
        clock.set(Instant.parse("2027-11-23T21:30:00Z"));   // 22:30 in Berlin: held until 08:00 Berlin time (07:00 UTC)
        String customer = herald.insertCustomer("cus_qh_mover_" + run, "Test mover", "+15550104747", null, "Europe/Berlin");
        String key = paymentFailed(customer, "in_qhmv" + run);   // email and SMS (billing holds high priority too)
        assertThat(instant(herald.awaitScheduled(key).get("fire_at"))).isEqualTo(Instant.parse("2027-11-24T07:00:00Z"));
        long id = herald.notificationId(key);
        // Overnight the customer moves to New York: the directory has their new zone.
        jdbc.update("UPDATE customer SET time_zone = 'America/New_York' WHERE customer_id = ?", customer);

        // 08:00 in Berlin is 02:00 in New York: the timer fires, and both channels wait until 08:00 there, scheduled again
        // with a timer of their own (the one that fired is still running while they are claimed).
        clock.set(Instant.parse("2027-11-24T07:00:00Z"));
        Instant eightInNewYork = Instant.parse("2027-11-24T13:00:00Z");
        await().atMost(Duration.ofSeconds(30)).until(() -> ((String) herald.scheduled(key).get("reason")).contains("America/New_York"));
        assertThat(herald.delivery(key, "email")).containsEntry("state", "SCHEDULED");
        assertThat(herald.delivery(key, "sms")).containsEntry("state", "SCHEDULED");
        String waits = " waits for quiet hours 21:00-08:00 in America/New_York for billing notifications, high priority included"
                + " (high-priority: hold): its scheduled time came at 02:00 local time, inside them; not sent until 08:00 local time on"
                + " 2027-11-24 (2027-11-24 13:00 UTC)";
        Map<String, Object> again = herald.scheduled(key);
        assertThat((String) again.get("reason")).endsWith(waits);
        assertThat(instant(again.get("fire_at"))).isEqualTo(eightInNewYork);
        assertThat(again).containsEntry("timer", 1);
        assertThat(herald.timerAt(key)).isEqualTo(eightInNewYork);
        // The channel judged first waits for the quiet hours; the other, released by the same firing, waits with it.
        List<String> reasons = List.of((String) herald.delivery(key, "email").get("reason"), (String) herald.delivery(key, "sms").get("reason"));
        assertThat(reasons).anySatisfy(reason -> assertThat(reason).isEqualTo(again.get("reason")));
        assertThat(reasons).anySatisfy(reason -> assertThat(reason).matches("(email|sms) waits with its notification, scheduled for "
                + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(java.time.ZoneOffset.UTC).format(eightInNewYork)
                + ": (email|sms)" + java.util.regex.Pattern.quote(waits)));
        assertThat(ids(list(OPERATOR, "customer=" + customer))).containsExactly(id);
        assertThat(instant(jdbc.queryForObject("SELECT window_deadline FROM notification WHERE idempotency_key = ?", Timestamp.class, key)))
                .isEqualTo(Instant.parse("2027-11-24T14:00:00Z"));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(key).isEmpty() && smsCalls(key) == 0);

        // At 07:59 in New York it still waits; at 08:00 its second timer fires and both go out, once, judged again (outside
        // the quiet hours now).
        clock.set(eightInNewYork.minus(Duration.ofMinutes(1)));
        timerPolls.awaitPollsOnTheTimeSet(scheduler, 3);
        assertThat(herald.scheduled(key)).containsEntry("state", "SCHEDULED");
        assertThat(herald.mailsFor(key)).isEmpty();
        assertThat(smsCalls(key)).isZero();
        clock.set(eightInNewYork);
        awaitMailFor(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "email").get("state"))
                && "SENT".equals(herald.delivery(key, "sms").get("state")));
        assertThat(herald.scheduled(key)).containsEntry("state", "FIRED").containsEntry("timer", 1);
        assertThat(herald.attempts(key, "email")).extracting(a -> a.get("outcome"))
                .containsSubsequence("SCHEDULED", "FIRED", "QUIET_HOURS", "FIRED", "SENT");
        assertThat(herald.delivery(key, "email").get("window_missed_at")).isNull();
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(key).size() == 1 && smsCalls(key) == 1);
    }

    // --- helpers ---

    private static final String SMS_PATH = "/2010-04-01/Accounts/[^/]+/Messages.json";
    private static final String OPS_PATH = "/services/T0LOCAL/B0LOCAL/local-demo-ops";

    /** A payment-failed SMS parked overnight (outage, then quiet hours) is cancelled when the invoice is paid, never sent at 08:00. */
    @Test
    @Order(8)
    void aParkedPaymentFailedSmsWaitingForTheMorningIsCancelledWhenTheInvoiceIsPaid() throws Exception {
        clock.set(Instant.parse("2027-12-07T19:55:00Z"));   // 20:55 in Berlin: before the quiet hours, sent at once
        String customer = herald.insertCustomer("cus_qh_paidpark_" + run, "Test paidpark", "+15550104343", null, "Europe/Berlin");
        String invoice = "in_qhpp" + run;
        String key = "billing:invoice.payment_failed:" + invoice + ":attempt-2";
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .withHeader("Idempotency-Key", equalTo(key + ":sms")).willReturn(WireMock.aResponse().withStatus(503)));
        int calls;
        try {
            assertThat(paymentFailed(customer, invoice)).isEqualTo(key);
            await().atMost(Duration.ofSeconds(30)).until(() -> "PARKED".equals(herald.delivery(key, "sms").get("state")));
            calls = smsCalls(key);
        } finally {
            infra.providers().removeStub(refused);
        }
        // 21:30: its retry waits for 08:00.
        clock.set(Instant.parse("2027-12-07T20:30:00Z"));
        comeDue(key, "sms");
        await().atMost(Duration.ofSeconds(30)).until(() -> ((String) herald.delivery(key, "sms").get("reason")).startsWith("sms waits for quiet hours"));
        assertThat(herald.delivery(key, "sms")).containsEntry("state", "SCHEDULED");

        // 23:10: the invoice is paid. The waiting SMS is cancelled with the reason, never sent.
        clock.set(Instant.parse("2027-12-07T22:10:00Z"));
        invoicePaid(customer, invoice);
        await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(key, "sms").get("state")));
        assertThat((String) herald.delivery(key, "sms").get("reason")).startsWith("superseded: billing.invoice_paid for invoice " + invoice)
                .endsWith("makes the waiting billing.payment_failed pointless: cancelled, not sent (config/catalog.yaml:"
                        + " notifications.billing.payment_failed.cancelled-by)");
        assertThat(herald.attempts(key, "sms")).extracting(a -> a.get("outcome")).endsWith("CANCELLED");
        assertThat(herald.scheduled(key)).containsEntry("state", "CANCELLED").containsEntry("decided_by", "Herald");
        // 08:00: nothing goes out for it.
        clock.set(Instant.parse("2027-12-08T07:00:00Z"));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> smsCalls(key) == calls);
        assertThat(herald.delivery(key, "sms")).containsEntry("state", "CANCELLED");
    }

    @Test
    @Order(9)
    void aRefundApprovedAt2240InBerlinWaitsForTheEndOfTheQuietHoursAndIsMailedOnceAt0800() throws Exception {
        clock.set(Instant.parse("2027-12-14T21:40:00Z"));   // 22:40 in Berlin
        String customer = customer("approved", "Europe/Berlin");
        String key = chargeRefunded(customer, "ch_qhap" + run, 125000);   // 1,250.00 GBP: held for an approver at dispatch
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(key, "email").get("state")));
        long id = herald.notificationId(key);

        // The approver decides at 22:40: what is sent, not that the customer gets it in the night. It waits for 08:00 on the
        // Scheduled page, like a notice held for quiet hours at dispatch.
        HttpResponse<String> approved = herald.as(OwnHeraldClient.APPROVER, "POST", "/api/approvals/" + id + "/approve",
                "{\"comment\": \"refund agreed with the customer\"}");
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        Instant eight = Instant.parse("2027-12-15T07:00:00Z");
        assertThat(OwnHeraldClient.json(approved).get("message").asText()).isEqualTo("notification " + id + " approved: 0 deliveries queued;"
                + " email scheduled for 08:00 local time on 2027-12-15 in Europe/Berlin (2027-12-15 07:00 UTC), the end of the customer's"
                + " quiet hours (the Scheduled page sends it now or cancels it)");
        Map<String, Object> waiting = herald.awaitScheduled(key);
        assertThat(waiting).containsEntry("state", "SCHEDULED").containsEntry("reason", "quiet hours 21:00-08:00 in Europe/Berlin for"
                + " billing notifications: held until 08:00 local time on 2027-12-15 (2027-12-15 07:00 UTC)");
        assertThat(instant(waiting.get("fire_at"))).isEqualTo(eight);
        assertThat(herald.delivery(key, "email")).containsEntry("state", "SCHEDULED");
        assertThat(ids(list(OPERATOR, "customer=" + customer))).containsExactly(id);
        assertThat(herald.attempts(key, "email")).extracting(a -> a.get("outcome")).containsExactly("AWAITING_APPROVAL", "SCHEDULED");

        // Another refund approved that night: an operator sends it now from the Scheduled page, and it goes out now.
        String urgent = chargeRefunded(customer, "ch_qhau" + run, 150000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(urgent, "email").get("state")));
        long urgentId = herald.notificationId(urgent);
        assertThat(herald.as(OwnHeraldClient.APPROVER, "POST", "/api/approvals/" + urgentId + "/approve",
                "{\"comment\": \"agreed\"}").statusCode()).isEqualTo(200);
        assertThat(herald.awaitScheduled(urgent)).containsEntry("state", "SCHEDULED");
        HttpResponse<String> sentNow = herald.as(OPERATOR, "POST", "/api/scheduled/" + urgentId + "/send-now",
                "{\"comment\": \"the customer is waiting on the phone\"}");
        assertThat(sentNow.statusCode()).as(sentNow.body()).isEqualTo(200);
        awaitMailFor(urgent);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(urgent, "email").get("state")));

        // A minute before 08:00 it still waits; at 08:00 in Berlin it is mailed, once.
        clock.set(eight.minus(Duration.ofMinutes(1)));
        stillWaiting(key);
        clock.set(eight);
        MimeMessage mail = awaitMailFor(key);
        assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(customer + "@example.com");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "email").get("state")));
        assertThat(herald.attempts(key, "email")).extracting(a -> a.get("outcome")).containsSubsequence("SCHEDULED", "FIRED", "SENT");
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(key).size() == 1);
    }

    @Test
    @Order(10)
    void aPaymentFailureWhoseInvoiceWasPaidLaterButArrivedFirstIsNeverSentToTheCustomer() throws Exception {
        Instant eleven = Instant.parse("2027-12-21T10:00:00Z");   // 11:00 in Berlin: no quiet hours, sent at once if sent
        clock.set(eleven);
        String customer = herald.insertCustomer("cus_qh_outoforder_" + run, "Test outoforder", "+15550104545", null, "Europe/Berlin");
        // Stripe does not promise order: the invoice's payment at 10:59 arrives before the failure of 09:00 that it settles, a
        // webhook Stripe retried two hours late (late for its PT1H window too: cancelled, not dropped as late).
        String invoice = "in_qhoo" + run;
        String paid = invoicePaid(customer, invoice, eleven.minusSeconds(60));
        herald.awaitMailFor(paid);
        String failed = paymentFailed(customer, invoice, eleven.minus(Duration.ofHours(2)));
        String reason = "superseded: billing.invoice_paid for invoice " + invoice + " (occurred 2027-12-21 09:59 UTC, billing event evt_qh";
        String pointless = "), already received when this billing.payment_failed (occurred 2027-12-21 08:00 UTC) was dispatched, makes it"
                + " pointless: cancelled, not sent (config/catalog.yaml: notifications.billing.payment_failed.cancelled-by)";
        for (String channel : List.of("email", "sms")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(failed, channel).get("state")));
            assertThat((String) herald.delivery(failed, channel).get("reason")).startsWith(reason).endsWith(pointless);
            assertThat(herald.attempts(failed, channel)).extracting(a -> a.get("outcome")).containsExactly("CANCELLED");
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE notification_id = ? AND actor = 'Herald' AND action = 'CANCEL'",
                Integer.class, herald.notificationId(failed))).as("audited as Herald").isEqualTo(1);
        // A failure that occurred after the payment it names (received in that order too) is news: it is sent.
        String otherInvoice = "in_qhon" + run;
        herald.awaitMailFor(invoicePaid(customer, otherInvoice, eleven.minusSeconds(120)));
        String newer = paymentFailed(customer, otherInvoice, eleven.minusSeconds(60));
        herald.awaitMailFor(newer);
        await().atMost(Duration.ofSeconds(30)).until(() -> smsCalls(newer) == 1);
        // Nothing of the superseded one reached the customer.
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(failed).isEmpty() && smsCalls(failed) == 0);
    }

    /**
     * A renewal the bank wants the customer to confirm (3-D Secure): Stripe sends invoice.payment_failed and
     * invoice.payment_action_required for the same attempt, in no promised order. "Update your payment method" would send
     * the customer the wrong way: the request to confirm cancels the failure notice (catalog cancelled-by), whether the
     * failure waits for the morning or arrives after the request; never a failure that occurred after the request.
     */
    @Test
    @Order(13)
    void aPaymentTheBankWantsConfirmedIsAskedForAndTheFailureNoticeStopped() throws Exception {
        Instant night = Instant.parse("2028-01-11T22:30:00Z");   // 23:30 in Berlin: billing's quiet hours
        clock.set(night);
        String customer = herald.insertCustomer("cus_qh_sca_" + run, "Test sca", "+15550104747", null, "Europe/Berlin");
        String invoice = "in_qhsca" + run;
        String failed = paymentFailed(customer, invoice, night);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SCHEDULED".equals(herald.delivery(failed, "email").get("state")));
        String confirm = actionRequired(customer, invoice, night);
        String pointless = ") makes the waiting billing.payment_failed pointless: cancelled, not sent (config/catalog.yaml:"
                + " notifications.billing.payment_failed.cancelled-by)";
        for (String channel : List.of("email", "sms")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(failed, channel).get("state")));
            assertThat((String) herald.delivery(failed, channel).get("reason"))
                    .startsWith("superseded: billing.payment_action_required for invoice " + invoice).endsWith(pointless);
        }
        // A request about an earlier attempt, delivered late, leaves a failure notice that occurred after it: that is news.
        String thirdInvoice = "in_qhscl" + run;
        String afterIt = paymentFailed(customer, thirdInvoice, night);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SCHEDULED".equals(herald.delivery(afterIt, "email").get("state")));
        String earlier = actionRequired(customer, thirdInvoice, night.minus(Duration.ofHours(2)));
        await().atMost(Duration.ofSeconds(30)).until(() -> "SCHEDULED".equals(herald.delivery(earlier, "email").get("state")));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> "SCHEDULED".equals(herald.delivery(afterIt, "email").get("state")));

        clock.set(Instant.parse("2028-01-12T07:00:30Z"));   // 08:00:30 in Berlin: the requests go out, and the failure that came after one
        assertThat(herald.awaitMailFor(confirm).getSubject()).startsWith("Please confirm your payment");
        herald.awaitMailFor(earlier);
        herald.awaitMailFor(afterIt);

        // In the daytime, the request received first: the failure of the same attempt is never sent.
        Instant eleven = Instant.parse("2028-01-12T10:00:00Z");
        clock.set(eleven);
        String otherInvoice = "in_qhsco" + run;
        herald.awaitMailFor(actionRequired(customer, otherInvoice, eleven));
        String later = paymentFailed(customer, otherInvoice, eleven);
        for (String channel : List.of("email", "sms")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(later, channel).get("state")));
            assertThat((String) herald.delivery(later, channel).get("reason"))
                    .startsWith("superseded: billing.payment_action_required for invoice " + otherInvoice);
        }
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                herald.mailsFor(failed).isEmpty() && smsCalls(failed) == 0 && herald.mailsFor(later).isEmpty() && smsCalls(later) == 0);
    }

    @Test
    @Order(11)
    void aPaymentFailureAwaitingItsApproverIsWithdrawnWhenTheInvoiceIsPaid() throws Exception {
        Instant eleven = Instant.parse("2027-12-28T10:00:00Z");   // 11:00 in Berlin: no quiet hours
        clock.set(eleven);
        String customer = herald.insertCustomer("cus_qh_dunning_" + run, "Test dunning", "+15550104646", null, "Europe/Berlin");
        String invoice = "in_qhdu" + run;
        String failed = paymentFailed(customer, invoice, eleven.minusSeconds(600), 600000);   // 6,000.00: held for an approver
        for (String channel : List.of("email", "sms", "ops_webhook")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(failed, channel).get("state")));
        }
        long id = herald.notificationId(failed);
        assertThat(ids(awaitingApproval())).contains(id);

        // The customer pays before anyone approved the notice: nothing is left to approve, and nothing goes out.
        herald.awaitMailFor(invoicePaid(customer, invoice, eleven.minusSeconds(60)));
        String reason = "superseded: billing.invoice_paid for invoice " + invoice + " (occurred 2027-12-28 09:59 UTC, billing event evt_qh";
        String pointless = ") makes the waiting billing.payment_failed pointless: cancelled, not sent (config/catalog.yaml:"
                + " notifications.billing.payment_failed.cancelled-by)";
        for (String channel : List.of("email", "sms", "ops_webhook")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(failed, channel).get("state")));
            assertThat((String) herald.delivery(failed, channel).get("reason")).startsWith(reason).endsWith(pointless);
            assertThat(herald.attempts(failed, channel)).extracting(a -> a.get("outcome")).containsExactly("AWAITING_APPROVAL", "CANCELLED");
        }
        Map<String, Object> approval = jdbc.queryForMap("SELECT state, decided_by, comment FROM approval WHERE notification_id = ?", id);
        assertThat(approval).containsEntry("state", "REJECTED").containsEntry("decided_by", "Herald");
        assertThat((String) approval.get("comment")).startsWith(reason);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE notification_id = ? AND actor = 'Herald' AND action = 'WITHDRAW'",
                Integer.class, id)).as("audited as Herald").isEqualTo(1);
        assertThat(ids(awaitingApproval())).doesNotContain(id);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(failed).isEmpty() && smsCalls(failed) == 0);
    }

    @Test
    @Order(12)
    void anOlderRefundTotalReceivedAfterANewerOneIsNeverSentAndANewerOneCancelsAnOlderOneWaitingForTheMorning() throws Exception {
        Instant eleven = Instant.parse("2028-01-04T10:00:00Z");   // 11:00 in Berlin: no quiet hours
        clock.set(eleven);
        String customer = customer("refunds", "Europe/Berlin");
        // charge.refunded tells the charge's running total. Stripe does not promise order: the second refund's event (129.99 in
        // total, 10:59) arrives before the first one's (50.00, 10:50). The customer must not be told 50.00 last.
        String charge = "ch_qhrf" + run;
        String newer = refund(customer, charge, 12999, eleven.minusSeconds(60));
        herald.awaitMailFor(newer);
        String older = refund(customer, charge, 5000, eleven.minusSeconds(600));
        await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.delivery(older, "email").get("state")));
        assertThat((String) herald.delivery(older, "email").get("reason"))
                .startsWith("superseded: a newer billing.charge_refunded for charge " + charge + " (occurred 2028-01-04 09:59 UTC, billing event evt_qh")
                .endsWith("), already received when this billing.charge_refunded (occurred 2028-01-04 09:50 UTC) was dispatched, makes it pointless:"
                        + " cancelled, not sent (config/catalog.yaml: notifications.billing.charge_refunded.cancelled-by)");
        assertThat(herald.attempts(older, "email")).extracting(a -> a.get("outcome")).containsExactly("CANCELLED");

        // In their order both are news: the customer hears of each total.
        String inOrder = "ch_qhri" + run;
        String first = refund(customer, inOrder, 5000, eleven.minusSeconds(600));
        herald.awaitMailFor(first);
        String second = refund(customer, inOrder, 12999, eleven.minusSeconds(60));
        herald.awaitMailFor(second);
        // A newer total an approver has yet to allow (this catalog holds refunds above 1000) may be rejected: an older one
        // received after it is still news and is sent.
        String held = "ch_qhra" + run;
        String awaiting = refund(customer, held, 125000, eleven.minusSeconds(60));
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(awaiting, "email").get("state")));
        herald.awaitMailFor(refund(customer, held, 5000, eleven.minusSeconds(600)));

        // 23:00 in Berlin: the first refund waits for the morning; the second one, newer, makes it pointless, and waits itself.
        Instant night = Instant.parse("2028-01-04T22:00:00Z");
        clock.set(night);
        String overnight = "ch_qhrn" + run;
        String waiting = refund(customer, overnight, 5000, night.minusSeconds(600));
        await().atMost(Duration.ofSeconds(30)).until(() -> "SCHEDULED".equals(herald.scheduled(waiting).get("state")));
        String latest = refund(customer, overnight, 12999, night.minusSeconds(300));
        await().atMost(Duration.ofSeconds(30)).until(() -> "CANCELLED".equals(herald.scheduled(waiting).get("state")));
        assertThat(herald.delivery(waiting, "email")).containsEntry("state", "CANCELLED");
        assertThat((String) herald.delivery(waiting, "email").get("reason")).isEqualTo("superseded: a newer billing.charge_refunded for charge "
                + overnight + " (occurred 2028-01-04 21:55 UTC, billing event " + jdbc.queryForObject(
                        "SELECT source_event_id FROM notification WHERE idempotency_key = ?", String.class, latest)
                + ") makes the waiting older one pointless: cancelled, not sent (config/catalog.yaml: notifications.billing.charge_refunded.cancelled-by)");
        assertThat(herald.scheduled(latest)).as("not cancelled by itself").containsEntry("state", "SCHEDULED");
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> herald.mailsFor(older).isEmpty()
                && herald.mailsFor(waiting).isEmpty() && herald.mailsFor(latest).isEmpty());
    }

    /**
     * The shipped catalog with billing.charge_refunded held for an approver above 1000 (as billing.refund_issued is there):
     * an approved notice meets the quiet hours of its category; and billing.payment_failed above 5000 (a large account's
     * dunning notice, its team post one each, as approval requires), which billing.invoice_paid still cancels while it
     * awaits its approver.
     */
    private static Path shippedWithApprovedRefunds() {
        try {
            String shipped = Files.readString(Path.of("config", "catalog.yaml"));
            String entry = "  billing.charge_refunded:\n    category: billing\n    priority: normal\n    channels: [email]\n    window: PT24H\n";
            if (!shipped.contains(entry)) {
                throw new IllegalStateException("config/catalog.yaml's billing.charge_refunded entry changed");
            }
            Path copy = TestFiles.file("test-catalog-quiet-approvals.yaml");
            Files.createDirectories(copy.getParent());
            String dunning = "    ops: digest\n    window: PT1H\n    cancelled-by: {types: [billing.invoice_paid, billing.payment_action_required], match: invoiceId}\n";
            if (!shipped.contains(dunning)) {
                throw new IllegalStateException("config/catalog.yaml's billing.payment_failed cancelled-by changed");
            }
            Files.writeString(copy, shipped.replace(entry, entry + "    approval: {field: amountRefunded, above: 1000}\n")
                    .replace(dunning, dunning.replace("ops: digest", "ops: each") + "    approval: {field: amountDue, above: 5000}\n"));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The calls the SMS provider sandbox received for this notification (refused ones included). */
    private int smsCalls(String key) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms"))).size();
    }

    private void awaitOpsPost(String key) {
        await().atMost(Duration.ofSeconds(30)).until(() -> infra.providers().findAll(postRequestedFor(urlPathMatching(OPS_PATH))
                .withHeader("Idempotency-Key", equalTo(key + ":ops_webhook"))).size() == 1);
    }

    /**
     * A parked delivery's next attempt has come: the ledger's due check runs on the database's clock, which does not move
     * with the test's, so the test moves the row's time to the database's now, as the hours passing would.
     */
    private void comeDue(String key, String channel) {
        assertThat(jdbc.update("""
                UPDATE delivery SET next_attempt_at = now() WHERE channel = ? AND state = 'PARKED'
                AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)""", channel, key)).isEqualTo(1);
    }

    /** A copy of this notification whose ops webhook post was parked by an outage of the team's webhook and is due now; its key. */
    private String parkedOpsPost(String from) {
        String key = from + ":ops-copy";
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                SELECT ?, source, source_event_id || '-ops', type, customer_id, 'ROUTED',
                       jsonb_set(herald_canonical(id, received_at, canonical), '{idempotencyKey}', to_jsonb(CAST(? AS TEXT)))
                FROM notification WHERE idempotency_key = ? RETURNING id""", Long.class, key, key, from);
        jdbc.update("INSERT INTO delivery (notification_id, channel, state, reason, parked_count, next_attempt_at, attempts)"
                + " VALUES (?, 'ops_webhook', 'PARKED', 'ops_webhook provider unavailable: provider answered HTTP 503; parked', 1, now(), 1)", id);
        return key;
    }


    /** A customer in the directory with an email address and a time zone: "cus_qh_<name>_<run>" at example.com. */
    private String customer(String name, String zone) {
        String id = "cus_qh_" + name + "_" + run;
        return herald.insertCustomer(id, "Test " + name, null, null, zone);
    }

    private String invoicePaid(String customer, String invoice) throws Exception {
        return invoicePaid(customer, invoice, clock.instant());
    }

    /** Stripe's invoice.paid for the customer's invoice, created (occurred) at {@code created}; its idempotency key. */
    private String invoicePaid(String customer, String invoice, Instant created) throws Exception {
        herald.postBilling(Samples.text("billing/invoice.paid.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", invoice)
                .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_qh" + UUID.randomUUID().toString().replace("-", ""))
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763722800", "\"created\": " + created.getEpochSecond()));
        return "billing:invoice.paid:" + invoice;
    }

    private String paymentFailed(String customer, String invoice) throws Exception {
        return paymentFailed(customer, invoice, clock.instant());
    }

    private String paymentFailed(String customer, String invoice, Instant created) throws Exception {
        return paymentFailed(customer, invoice, created, 4900);
    }

    /** Stripe's invoice.payment_failed (second attempt) for the customer's invoice of {@code pence}, created at {@code created}; its key. */
    private String paymentFailed(String customer, String invoice, Instant created, int pence) throws Exception {
        herald.postBilling(Samples.text("billing/invoice.payment_failed.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", invoice)
                .replace("\"amount_due\": 4900", "\"amount_due\": " + pence)
                .replace("evt_1QxR2mLkdIwHu7ixA1b2C3d4", "evt_qh" + UUID.randomUUID().toString().replace("-", ""))
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763719200", "\"created\": " + created.getEpochSecond())
                // Stripe's next attempt three days on: the shipped catalog drops a notice whose next attempt is past (valid-until).
                .replace("\"next_payment_attempt\": 1763978400", "\"next_payment_attempt\": " + clock.instant().plus(Duration.ofDays(3)).getEpochSecond()));
        return "billing:invoice.payment_failed:" + invoice + ":attempt-2";
    }

    /** Stripe's invoice.payment_action_required (the bank asks the customer to confirm) for the invoice, created at {@code created}; its key. */
    private String actionRequired(String customer, String invoice, Instant created) throws Exception {
        herald.postBilling(Samples.text("billing/invoice.payment_action_required.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", invoice)
                .replace("evt_1QxR3aLkdIwHu7ixP7q8R9s0", "evt_qh" + UUID.randomUUID().toString().replace("-", ""))
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763719200", "\"created\": " + created.getEpochSecond()));
        return "billing:invoice.payment_action_required:" + invoice + ":attempt-1";
    }

    private String chargeRefunded(String customer, String charge) throws Exception {
        return chargeRefunded(customer, charge, 12999);
    }

    /** A Stripe-style charge.refunded of {@code pence} (GBP) for the customer, posted signed; its idempotency key. */
    private String chargeRefunded(String customer, String charge, int pence) throws Exception {
        herald.postBilling(Samples.text("billing/charge.refunded.json").replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge).replace("12999", String.valueOf(pence))
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_qh" + UUID.randomUUID().toString().replace("-", ""))
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763730000", "\"created\": " + clock.instant().getEpochSecond()));
        return "billing:charge.refunded:" + charge + ":" + pence;
    }

    /** Stripe's charge.refunded for a charge of 129.99 GBP (or of the refund, if more) with {@code pence} refunded in total, created at {@code created}; its key. */
    private String refund(String customer, String charge, int pence, Instant created) throws Exception {
        int charged = Math.max(12999, pence);
        herald.postBilling(Samples.text("billing/charge.refunded.json").replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("\"amount_refunded\": 12999", "\"amount_refunded\": " + pence).replace("\"amount\": 12999", "\"amount\": " + charged)
                .replace("\"refunded\": true", "\"refunded\": " + (pence == charged))
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_qh" + UUID.randomUUID().toString().replace("-", ""))
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763730000", "\"created\": " + created.getEpochSecond()));
        return "billing:charge.refunded:" + charge + ":" + pence;
    }

    /** Three of the timer's polls on the time just set, and what they fired done, leave it waiting and unsent. */
    private void stillWaiting(String key) {
        timerPolls.awaitPollsOnTheTimeSet(scheduler, 3);
        assertThat(herald.scheduled(key)).containsEntry("state", "SCHEDULED");
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    /** GET /api/approvals as an approver: what awaits a decision. */
    private JsonNode awaitingApproval() throws Exception {
        HttpResponse<String> listed = herald.as(OwnHeraldClient.APPROVER, "GET", "/api/approvals", null);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        return JSON.readTree(listed.body());
    }

    private JsonNode list(String account, String query) throws Exception {
        HttpResponse<String> listed = herald.as(account, "GET", "/api/scheduled?" + query, null);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        return JSON.readTree(listed.body());
    }

    private static List<Long> ids(JsonNode list) {
        List<Long> ids = new ArrayList<>();
        list.forEach(item -> ids.add(item.get("notificationId").asLong()));
        return ids;
    }

    private static JsonNode only(JsonNode list) {
        assertThat(list.size()).as(list.toString()).isEqualTo(1);
        return list.get(0);
    }

    private MimeMessage awaitMailFor(String key) {
        try {
            return herald.awaitMailFor(key);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no mail for " + key + " at " + clock.instant() + ": its wait " + herald.scheduled(key) + ", its email "
                    + herald.delivery(key, "email") + ", its timer " + jdbc.queryForList("SELECT * FROM scheduled_tasks WHERE task_instance = ?",
                    String.valueOf(herald.notificationId(key))), e);
        }
    }

    private static Instant instant(Object value) {
        return ((Timestamp) value).toInstant();
    }
}
