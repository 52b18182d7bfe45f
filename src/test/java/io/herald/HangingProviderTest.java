package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.ledger.DeliveryLedger;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Samples;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A provider that takes the request and never answers is given up after its timeout (the local
 * profile: 8 s) and, since it does not honour an Idempotency-Key (the default), the SMS is UNCERTAIN,
 * never sent again by itself, while the other channels of the same notification go out (with
 * herald.sms.resend-cut-off-calls true it is retried with the same key and parked instead:
 * CutOffCallsTest); a hanging ops webhook delays an alert by one timeout and alerting goes on; and an answer that comes after its attempt was given up never overwrites the newer state.
 */
class HangingProviderTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String CONSOLE = "http://localhost:8080/console";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    DeliveryLedger ledger;
    @Autowired
    CamelContext camel;
    @Autowired
    MeterRegistry meters;

    @Test
    void aProviderThatTakesTheRequestAndNeverAnswersLeavesTheSmsUncertainNotSentAgainWhileTheOtherChannelsGoOut() throws Exception {
        String phone = "+4477011" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        StubMapping hanging = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(201).withFixedDelay(20_000).withBody("{\"sid\": \"SMlate\"}")));
        String customer = customerWithPhone(phone);
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        Instant posted = Instant.now();
        try {
            postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));

            // The email and the ops alert are not held up by the SMS provider hanging.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(delivery(key, "email")).containsEntry("state", "SENT");
                assertThat(delivery(key, "ops_webhook")).containsEntry("state", "SENT");
            });
            assertThat(delivery(key, "sms")).containsEntry("state", "SENDING");
            assertThat(awaitMailFor(key)).isNotNull();

            // The request was sent and no answer came within the response timeout (local profile: 8 s). The provider
            // (like Twilio) does not honour an Idempotency-Key (herald.sms.honours-idempotency-key false, the default), so a
            // second call could send a second SMS: UNCERTAIN, flagged for a person, neither retried nor parked.
            await().atMost(Duration.ofSeconds(40)).untilAsserted(() -> assertThat(delivery(key, "sms")).containsEntry("state", "UNCERTAIN"));
            assertThat(Duration.between(posted, Instant.now())).isLessThan(Duration.ofMinutes(1));
            Map<String, Object> sms = delivery(key, "sms");
            assertThat(sms.get("reason")).isEqualTo("sms outcome unknown: provider did not answer within the response timeout"
                    + " (herald.sms.response-timeout-ms) after it was sent the request; the provider does not honour the idempotency key,"
                    + " so it is not sent again by itself; check whether the customer received it, and resend if not");
            assertThat(sms.get("next_attempt_at")).isNull();
            assertThat(attempts(key, "sms")).extracting(a -> a.get("outcome")).containsExactly("UNCERTAIN");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                    .hasSize(1).allSatisfy(request -> assertThat(request.getHeader("Idempotency-Key")).isEqualTo(key + ":sms"));
        } finally {
            infra.providers().removeStub(hanging);
        }
        assertThat(mailsFor(key)).hasSize(1);
    }

    @Test
    void aHangingOpsWebhookDelaysAnAlertByOneTimeoutAndNeverStopsAlerting() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        // Earlier tests in this JVM had dead letters alerted too: only posts from here on can be this test's.
        Date started = new Date();
        double failedBefore = alertsFailed();
        StubMapping hanging = infra.providers().stubFor(WireMock.post(urlPathMatching("/services/.*")).atPriority(1)
                .withHeader("Idempotency-Key", matching("herald-alert:.*")).willReturn(aResponse().withStatus(200).withFixedDelay(120_000)));
        String garbage = "{\"idempotencyKey\": \"hang-" + UUID.randomUUID() + "\", \"type\": 7";
        long deadLetter;
        try {
            publish("herald.notifications", "cus_RkT4aB7cD9eF1g", garbage);
            deadLetter = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                    "SELECT id FROM dead_letter WHERE payload = ?", Long.class, garbage), ids -> ids.size() == 1).get(0);
            // The post is given up after herald.alerts.response-timeout-ms (local: 8 s), not after the webhook's two minutes,
            // and the failures stay unalerted for the next poll.
            await().atMost(Duration.ofSeconds(40)).until(() -> alertsFailed() > failedBefore);
            assertThat(jdbc.queryForObject("SELECT alerted_at FROM dead_letter WHERE id = ?", java.sql.Timestamp.class, deadLetter)).isNull();
        } finally {
            infra.providers().removeStub(hanging);
        }
        // The webhook answers again: the next poll gets through, well before the hanging post would have ended.
        await().atMost(Duration.ofSeconds(40)).until(() -> jdbc.queryForObject(
                "SELECT alerted_at FROM dead_letter WHERE id = ?", java.sql.Timestamp.class, deadLetter) != null);
        // The alert about this dead letter (the only one not yet alerted since quiet) was posted after this test started and
        // answered by the webhook, not the hanging post (its stub says 200, but Herald gave up on it).
        assertThat(alertsAnsweredSince(started, hanging)).anySatisfy(text -> assertThat(text)
                .contains("Messages Herald could not process at all (stage dispatch) - kept as dead letters: 1 message",
                        "Console: " + CONSOLE + "/failures?state=DEAD_LETTER"));
    }

    /** The texts of the alert posts made since {@code since} that the webhook answered with 2xx, leaving out those {@code hanging} held. */
    private List<String> alertsAnsweredSince(Date since, StubMapping hanging) {
        return infra.providers().getAllServeEvents().stream()
                .filter(e -> !e.getRequest().getLoggedDate().before(since))
                .filter(e -> e.getStubMapping() == null || !hanging.getId().equals(e.getStubMapping().getId()))
                .filter(e -> e.getResponse().getStatus() / 100 == 2)
                .filter(e -> String.valueOf(e.getRequest().getHeader("Idempotency-Key")).startsWith("herald-alert:"))
                .map(e -> {
                    try {
                        return JSON.readTree(e.getRequest().getBodyAsString()).path("text").asText();
                    } catch (Exception unreadable) {
                        return e.getRequest().getBodyAsString();
                    }
                }).toList();
    }

    private double alertsFailed() {
        Counter failed = meters.find("herald.alerts").tag("outcome", "failed").counter();
        return failed == null ? 0 : failed.count();
    }

    @Test
    void anAnswerAfterItsAttemptWasGivenUpNeverOverwritesTheNewerState() {
        long notificationId = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_late', 'ROUTED', '{}'::jsonb) RETURNING id""",
                Long.class, "test:late-answer:" + newTicketId(), "evt_late");
        DeliveryLedger.Claim first = ledger.claimForSending(notificationId, "sms", "+44…0001", null, "text").orElseThrow();
        assertThat(ledger.parked(first, "sms provider unavailable: provider did not answer", Instant.now(), null)).isTrue();
        DeliveryLedger.Claim second = ledger.claimForSending(notificationId, "sms", "+44…0001", null, "text").orElseThrow();
        assertThat(second.token()).isNotEqualTo(first.token());

        // The first attempt's answer finally arrives: it is kept as a LATE attempt, the row stays with the second attempt.
        assertThat(ledger.sent(first, "SMfirst", 201)).isFalse();
        assertThat(ledger.failed(first, "sms not sent: too late", 500)).isFalse();
        assertThat(jdbc.queryForMap("SELECT state, provider_message_id FROM delivery WHERE id = ?", second.deliveryId()))
                .containsEntry("state", "SENDING").containsEntry("provider_message_id", null);

        assertThat(ledger.sent(second, "SMsecond", 201)).isTrue();
        assertThat(ledger.parked(first, "too late", Instant.now(), null)).isFalse();
        assertThat(jdbc.queryForMap("SELECT state, provider_message_id FROM delivery WHERE id = ?", second.deliveryId()))
                .containsEntry("state", "SENT").containsEntry("provider_message_id", "SMsecond");
        List<Map<String, Object>> attempts = jdbc.queryForList("SELECT outcome, reason FROM delivery_attempt WHERE delivery_id = ? ORDER BY id",
                second.deliveryId());
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("PARKED", "LATE", "LATE", "SENT", "LATE");
        assertThat(attempts.get(1).get("reason").toString()).contains("an answer came after this attempt had been given up",
                "the provider accepted it as SMfirst", "the delivery was left as it is");
    }

    private String customerWithPhone(String phone) {
        String customer = "cus_hang" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Hal Hang', ?, ?)",
                customer, customer + "@example.net", phone);
        return customer;
    }
}
