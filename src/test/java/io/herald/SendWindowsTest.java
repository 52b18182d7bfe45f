package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Prometheus;
import io.herald.testsupport.Quiescence;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Each type's send window (config/catalog.yaml) runs from the event's occurrence: a delivery sent
 * after it, or still not sent when it passes, is flagged, counted and alerted.
 */
class SendWindowsTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";

    @Autowired
    CamelContext camel;

    @Test
    void aRefundMailSentTwoDaysAfterTheRefundMissedItsOneDayWindowAndIsFlaggedCountedAndAlerted() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        Quiescence.awaitNothingInFlight(camel, jdbc);
        double before = metrics().value("herald_window_missed_total", "channel", "email", "type", "billing.charge_refunded");
        String unique = newTicketId();
        Instant occurred = Instant.now().minus(Duration.ofDays(2)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        String event = Samples.text("billing/charge.refunded.json")
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", "ch_window" + unique)
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_window" + unique)
                .replace("\"created\": 1763730000", "\"created\": " + occurred.getEpochSecond());
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        String key = "billing:charge.refunded:ch_window" + unique + ":12999";

        Map<String, Object> email = await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, "email"),
                row -> "SENT".equals(row.get("state")) && row.get("window_missed_at") != null);
        assertThat(email.get("window_missed_at")).as("flagged as sent late, at the time it was sent").isEqualTo(email.get("sent_at"));
        assertThat(jdbc.queryForObject("SELECT window_deadline FROM notification WHERE idempotency_key = ?", java.sql.Timestamp.class, key)
                .toInstant()).as("occurrence + the type's window (PT24H)").isEqualTo(occurred.plus(Duration.ofHours(24)));
        assertThat(metrics().value("herald_window_missed_total", "channel", "email", "type", "billing.charge_refunded") - before)
                .isEqualTo(1.0);

        long notificationId = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        String alert = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), "billing.charge_refunded")
                .stream().filter(text -> text.matches("(?s).*/console/notifications/" + notificationId + "(\\D.*)?")).toList(),
                found -> !found.isEmpty()).get(0);
        assertThat(alert).contains("billing.charge_refunded by Email sent after its send window (1 day from the event): 1 delivery",
                "Console: http://localhost:8080/console/notifications/" + notificationId);
    }

    @Test
    void anSmsStillParkedWhenItsWindowPassesIsFlaggedOnceAndStaysFlaggedWhenItIsSentLate() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        Quiescence.awaitNothingInFlight(camel, jdbc);   // other tests' late payment-failed SMS would count too
        String phone = "+4477007" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String customer = "cus_window" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Win Dow', ?, ?)",
                customer, customer + "@example.net", phone);
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        double before = metrics().value("herald_window_missed_total", "channel", "sms", "type", "billing.payment_failed");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        try {
            // Payment failed 2 hours ago; its window is 1 hour, and the SMS provider is down for this number.
            long twoHoursAgo = Instant.now().minus(Duration.ofHours(2)).getEpochSecond();
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                    .replace("\"created\": 1763719200", "\"created\": " + twoHoursAgo)).statusCode()).isEqualTo(202);
            Map<String, Object> flagged = await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, "sms"),
                    row -> row.get("window_missed_at") != null);
            assertThat(flagged.get("sent_at")).as("flagged while not sent").isNull();
            assertThat(flagged.get("state")).isIn("PENDING", "SENDING", "PARKED");

            // This notification's alert (its link names it): another test's SMS that missed its window is alerted alike.
            long notificationId = ((Number) flagged.get("notification_id")).longValue();
            String alert = await().atMost(Duration.ofSeconds(30)).until(() -> alertsFor(notificationId).stream()
                    .filter(text -> text.contains("billing.payment_failed by SMS not sent within its send window (1 hour from the event)"))
                    .toList(), found -> !found.isEmpty()).get(0);
            assertThat(alert).contains("Example: sms still ");
            infra.providers().removeStub(down);
            retryParkedNow(key);

            // The provider is back: the SMS goes out late, and stays flagged once (same time, counted once).
            Map<String, Object> sent = await().atMost(Duration.ofSeconds(60)).until(() -> delivery(key, "sms"),
                    row -> "SENT".equals(row.get("state")));
            assertThat(sent.get("window_missed_at")).isEqualTo(flagged.get("window_missed_at"));
            assertThat(metrics().value("herald_window_missed_total", "channel", "sms", "type", "billing.payment_failed") - before)
                    .isEqualTo(1.0);
        } finally {
            infra.providers().removeStub(down);
        }
    }

    /**
     * An SMS still parked when its window passes is alerted for that; when the provider then refuses it for good, its
     * failure is alerted too. Before, the window alert marked the delivery alerted, and the failure that followed was never
     * posted: the operator's last word on it was "still PARKED", though it had failed.
     */
    @Test
    void anSmsAlertedForItsMissedWindowIsAlertedAgainWhenItThenFails() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        Quiescence.awaitNothingInFlight(camel, jdbc);
        String phone = "+4477008" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String customer = "cus_windowfail" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Win Fail', ?, ?)",
                customer, customer + "@example.net", phone);
        // A refusal worded for this test alone, so its kind of failure is new and announced at once (digits are blanked).
        String region = newTicketId().chars().mapToObj(c -> String.valueOf((char) ('a' + c - '0'))).reduce("", String::concat);
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        try {
            long twoHoursAgo = Instant.now().minus(Duration.ofHours(2)).getEpochSecond();
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                    .replace("\"created\": 1763719200", "\"created\": " + twoHoursAgo)).statusCode()).isEqualTo(202);
            long notificationId = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                    "SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key), ids -> ids.size() == 1).get(0);
            await().atMost(Duration.ofSeconds(30)).until(() -> alertsFor(notificationId),
                    found -> found.stream().anyMatch(text -> text.contains("not sent within its send window")));

            infra.providers().removeStub(down);
            down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                    .atPriority(1).willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                            .withBody("{\"code\": 21408, \"message\": \"Permission to send an SMS has not been enabled for the region "
                                    + region + "\"}")));
            retryParkedNow(key);
            await().atMost(Duration.ofSeconds(60)).until(() -> delivery(key, "sms"), row -> "FAILED".equals(row.get("state")));
            String failure = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), region),
                    found -> !found.isEmpty()).get(0);
            assertThat(failure).contains("SMS not sent - the provider rejected the message as invalid (not retried) (HTTP 400): 1 delivery",
                    "/console/notifications/" + notificationId);
        } finally {
            infra.providers().removeStub(down);
        }
    }

    /**
     * The SMS's next attempt comes now rather than at the end of its park delay (2, 4 then 8 s), as that time passing would:
     * the ledger's due check runs on the database's clock. An SMS not PARKED at this instant (being tried again) is left to
     * its own next attempt.
     */
    private void retryParkedNow(String key) {
        jdbc.update("UPDATE delivery SET next_attempt_at = now() WHERE channel = 'sms' AND state = 'PARKED'"
                + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);
    }

    private List<String> alertsFor(long notificationId) {
        return OpsAlerts.accepted(infra.providers(), "billing.payment_failed").stream()
                .filter(text -> text.matches("(?s).*/console/notifications/" + notificationId + "(\\D.*)?")).toList();
    }

    private Prometheus metrics() throws Exception {
        HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/prometheus"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(scrape.statusCode()).isEqualTo(200);
        return new Prometheus(scrape.body());
    }
}
