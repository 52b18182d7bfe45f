package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.dispatch.StaleSendings;
import io.herald.testsupport.ChainCut;
import io.herald.testsupport.DispatchHold;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.StaleSweep;
import io.herald.testsupport.Samples;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Herald's delivery promises: no duplicates, retries with a clear final state, dead letters, audited resends. */
class GuaranteesTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    StaleSendings staleSendings;
    @Autowired
    org.apache.camel.CamelContext camel;
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String PUSH_PATH = "/v1/projects/herald-local/messages:send";

    @Test
    void theSameSourceEventFiveTimesAndTheNotificationRedeliveredGiveExactlyOneMessagePerChannel() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        String event = Samples.paymentFailed(unique);
        for (int i = 0; i < 5; i++) {
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        }
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> jdbc.queryForObject(
                "SELECT duplicates_suppressed FROM notification WHERE idempotency_key = ?", Integer.class, key) == 4);
        awaitStates(key, Map.of("email", "SENT", "sms", "SENT", "ops_webhook", "SENT"));

        // Kafka redelivers the canonical notification itself: its deliveries are in the ledger already, nothing new is queued.
        String canonical = jdbc.queryForObject("SELECT herald_canonical(id, received_at, canonical)::text FROM notification WHERE idempotency_key = ?", String.class, key);
        List<Map<String, Object>> before = deliveryRows(key);
        publish("herald.notifications", "cus_RkT4aB7cD9eF1g", canonical, canonical);
        String marker = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(marker)).statusCode()).isEqualTo(202);
        awaitMailFor(Samples.paymentFailedKey(marker));   // later on the same partition: the redeliveries were processed before it

        assertThat(deliveryRows(key)).isEqualTo(before);
        assertThat(mailsFor(key)).hasSize(1);
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms")))).hasSize(1);
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/services/.*")).withHeader("Idempotency-Key",
                equalTo(key + ":ops_webhook")))).hasSize(1);
    }

    /** The notification's delivery rows as they stand: id, channel, state, attempts, when last changed. */
    private List<Map<String, Object>> deliveryRows(String key) {
        return jdbc.queryForList("""
                SELECT d.id, d.channel, d.state, d.attempts, d.updated_at FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ? ORDER BY d.id""", key);
    }

    @Test
    void aTransientFailureIsRetriedThenSucceedsWithEveryAttemptKept() throws Exception {
        String phone = "+4477009" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String scenario = "flaky-" + phone;
        infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .inScenario(scenario).whenScenarioStateIs(Scenario.STARTED).willSetStateTo("recovered")
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        String customer = customerWithPhone(phone);
        String unique = newTicketId();
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));

        awaitStates(Samples.paymentFailedKey(unique), Map.of("sms", "SENT"));
        List<Map<String, Object>> attempts = attempts(Samples.paymentFailedKey(unique), "sms");
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "SENT");
        assertThat(attempts.get(0)).containsEntry("provider_status", 503);
        assertThat(attempts.get(0).get("reason").toString()).contains("provider answered HTTP 503", "try later", "retry 1 follows");
        assertThat(attempts.get(1)).containsEntry("provider_status", 201);
    }

    @Test
    void a429IsRetriedAfterTheProvidersRetryAfter() throws Exception {
        String phone = "+4477008" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String scenario = "throttled-" + phone;
        infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .inScenario(scenario).whenScenarioStateIs(Scenario.STARTED).willSetStateTo("allowed")
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "2").withBody("{\"message\": \"Too many requests\"}")));
        String customer = customerWithPhone(phone);
        String unique = newTicketId();
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));

        awaitStates(Samples.paymentFailedKey(unique), Map.of("sms", "SENT"));
        List<Map<String, Object>> attempts = jdbc.queryForList("SELECT a.outcome, a.provider_status, a.reason, a.attempted_at"
                + " FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ? AND d.channel = 'sms' ORDER BY a.id", Samples.paymentFailedKey(unique));
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "SENT");
        assertThat(attempts.get(0).get("reason").toString()).contains("HTTP 429", "(Retry-After 2s)");
        // The local retry delay is 200 ms; the provider asked for 2 s, and got them (the first attempt
        // is recorded when the retry starts, so the gap is from the retry to the sent answer).
        List<java.sql.Timestamp> calls = infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withRequestBody(containing(phone.substring(1)))).stream().map(r -> new java.sql.Timestamp(r.getLoggedDate().getTime())).toList();
        assertThat(calls).hasSize(2);
        assertThat(calls.get(1).getTime() - calls.get(0).getTime()).isGreaterThanOrEqualTo(1900);
    }

    @Test
    void aRetryAfterLongerThanHeraldWaitsInProcessParksTheDeliveryUntilThen() throws Exception {
        String phone = "+4477009" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        StubMapping throttled = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "120").withBody("{\"message\": \"Too many requests\"}")));
        String customer = customerWithPhone(phone);
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        try {
            postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));

            awaitStates(key, Map.of("sms", "PARKED", "email", "SENT"));
            // Parked at its first answer, not held through in-process retries (max-retry-delay-ms is 5 s),
            // and not tried again before the two minutes the provider asked for.
            assertThat(attempts(key, "sms")).singleElement().satisfies(attempt -> {
                assertThat(attempt).containsEntry("outcome", "PARKED").containsEntry("provider_status", 429);
                assertThat(attempt.get("reason").toString()).contains("HTTP 429", "(Retry-After 120s)");
            });
            assertThat(jdbc.queryForObject("""
                    SELECT EXTRACT(EPOCH FROM d.next_attempt_at - a.attempted_at) FROM delivery d
                    JOIN delivery_attempt a ON a.delivery_id = d.id JOIN notification n ON n.id = d.notification_id
                    WHERE n.idempotency_key = ? AND d.channel = 'sms'""", Double.class, key)).isGreaterThan(119.0);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))))).hasSize(1);
        } finally {
            infra.providers().removeStub(throttled);
        }
        // The provider takes messages again; brought forward, the parked SMS is re-driven and sent once
        // (and nothing is left in flight for the tests after this one).
        jdbc.update("UPDATE delivery SET next_attempt_at = now() WHERE state = 'PARKED' AND channel = 'sms'"
                + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);
        awaitStates(key, Map.of("sms", "SENT"));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))))).hasSize(2);
    }

    @Test
    void aPermanentFailureIsNotRetriedAndSaysWhy() throws Exception {
        String phone = "+1500555" + (1000 + Integer.parseInt(newTicketId()) % 8999);
        infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number.\"}")));
        String customer = customerWithPhone(phone);
        String unique = newTicketId();
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer));

        awaitStates(Samples.paymentFailedKey(unique), Map.of("sms", "FAILED", "email", "SENT"));
        Map<String, Object> sms = delivery(Samples.paymentFailedKey(unique), "sms");
        assertThat(sms.get("reason").toString()).isEqualTo("sms not sent: provider answered HTTP 400 Bad Request: "
                + "{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number.\"}" + Samples.TWILIO_21211_ADVICE);
        assertThat(attempts(Samples.paymentFailedKey(unique), "sms")).extracting(a -> a.get("outcome")).containsExactly("FAILED");
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))))).hasSize(1);
    }

    @Test
    void refusalsOfSingleMessagesDoNotOpenTheBreakerForEveryoneElse() throws Exception {
        // More refusals than the breaker's minimum-calls (local: 5 in a window of 10): each is this message's problem,
        // not the provider's, so the breaker stays closed and the next customer's SMS goes out at once.
        String phone = "+1500556" + (1000 + Integer.parseInt(newTicketId()) % 8999);
        StubMapping refusal = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 21408, \"message\": \"Permission to send an SMS has not been enabled for the region\"}")));
        try {
            String refused = customerWithPhone(phone);
            List<String> keys = new java.util.ArrayList<>();
            for (int i = 0; i < 7; i++) {
                String unique = newTicketId();
                postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", refused));
                keys.add(Samples.paymentFailedKey(unique));
            }
            keys.forEach(key -> awaitStates(key, Map.of("sms", "FAILED")));
            // Each refused once, with the provider's reason: none was held back by an open breaker.
            keys.forEach(key -> assertThat(attempts(key, "sms")).extracting(a -> a.get("outcome")).as(key).containsExactly("FAILED"));

            String fine = customerWithPhone("+1500557" + (1000 + Integer.parseInt(newTicketId()) % 8999));
            String unique = newTicketId();
            postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", fine));
            awaitStates(Samples.paymentFailedKey(unique), Map.of("sms", "SENT"));
            assertThat(attempts(Samples.paymentFailedKey(unique), "sms")).extracting(a -> a.get("outcome")).containsExactly("SENT");
        } finally {
            infra.providers().removeStub(refusal);
        }
    }

    @Test
    void retriesExhaustedEndInFailedWithEveryAttemptKept() throws Exception {
        String customer = "cus_exhaust" + newTicketId();
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, push_tokens, preferences) VALUES (?, 'Ex Haust', ?, ?::jsonb,"
                + " '{\"support\": [\"push\", \"email\"]}'::jsonb)", customer, customer + "@example.net", "[\"" + token + "\"]");
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(500).withBody("internal error")));
        try {
            String ticket = newTicketId();
            postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer));
            String key = "support:agent_replied:" + ticket + ":41000000000555";
            awaitStates(key, Map.of("push", "FAILED", "email", "SENT"));
            List<Map<String, Object>> attempts = attempts(key, "push");
            // One in-process retry at most (herald.delivery.max-retries), then FAILED (first-success moves on).
            assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "FAILED");
            // Each failed on the provider's 500, or was not even sent because the push breaker had opened.
            assertThat(attempts).allSatisfy(a -> assertThat(a.get("reason").toString())
                    .containsAnyOf("provider answered HTTP 500", "circuit breaker is open"));
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token))))
                    .hasSizeBetween(1, 2);
        } finally {
            infra.providers().removeStub(down);
        }
    }

    @Test
    void aResendIsExplicitAuditedAndTheOnlyWayToASecondCopy() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));
        awaitStates(key, Map.of("sms", "SENT"));
        long smsId = ((Number) delivery(key, "sms").get("id")).longValue();

        assertThat(postJson("/api/deliveries/" + smsId + "/resend", "{}").statusCode()).isEqualTo(400);
        HttpResponse<String> why = postJson("/api/deliveries/" + smsId + "/resend", "{\"confirm\": true}");
        assertThat(why.statusCode()).isEqualTo(400);
        assertThat(why.body()).as("a deliberate second copy says why").contains("say why: a resend needs a comment for the record");
        HttpResponse<String> resent = postJson("/api/deliveries/" + smsId + "/resend",
                "{\"confirm\": true, \"comment\": \"customer lost the first text\"}");
        assertThat(resent.statusCode()).isEqualTo(200);
        JsonNode result = JSON.readTree(resent.body());
        assertThat(result.get("state").asText()).isEqualTo("SENT");
        long resendId = result.get("resendId").asLong();

        // The provider got a second request, with an idempotency key of its own.
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms")))).hasSize(1);
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withHeader("Idempotency-Key", equalTo(key + ":sms:resend-" + resendId)))).hasSize(1);
        // Who, when, why and what came of it; and it shows in the delivery's attempts.
        Map<String, Object> audit = jdbc.queryForMap("SELECT requested_by, comment, requested_at, outcome FROM delivery_resend WHERE id = ?", resendId);
        assertThat(audit).containsEntry("requested_by", "operator").containsEntry("comment", "customer lost the first text")
                .containsEntry("outcome", "SENT");
        assertThat(jdbc.queryForMap("SELECT actor, action, comment FROM operator_action WHERE target = 'delivery' AND target_id = ?", smsId))
                .containsEntry("actor", "operator").containsEntry("action", "RESEND").containsEntry("comment", "customer lost the first text");
        assertThat(audit.get("requested_at")).isNotNull();
        JsonNode detail = JSON.readTree(api("GET", "/api/deliveries/" + smsId).body());
        assertThat(detail.get("attempts_log").findValuesAsText("outcome")).containsExactly("SENT", "RESEND", "SENT");
        assertThat(detail.get("resends").get(0).get("comment").asText()).isEqualTo("customer lost the first text");
        // Other channels were not touched.
        assertThat(mailsFor(key)).hasSize(1);
    }

    @Test
    void afterACrashMidSendAnEmailAndAnSmsAreFlaggedUncertainNotSentAgain() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));
        awaitStates(key, Map.of("email", "SENT", "sms", "SENT"));
        // What a kill -9 between handing the message over and recording the answer leaves behind: SENDING under the
        // attempt's claim token (the one in the mail's Message-ID), no provider id.
        String messageId = mailsFor(key).get(0).getMessageID();
        String hex = messageId.substring(messageId.indexOf('.') + 1, messageId.indexOf('@'));
        String token = hex.replaceFirst("(.{8})(.{4})(.{4})(.{4})(.{12})", "$1-$2-$3-$4-$5");
        jdbc.update("UPDATE delivery SET state = 'SENDING', updated_at = now() - interval '10 minutes', provider_message_id = NULL,"
                + " claim_token = CAST(? AS UUID) WHERE channel IN ('email', 'sms')"
                + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", token, key);

        StaleSweep.until(staleSendings, () -> !"SENDING".equals(delivery(key, "email").get("state"))
                && !"SENDING".equals(delivery(key, "sms").get("state")));

        awaitStates(key, Map.of("email", "UNCERTAIN", "sms", "UNCERTAIN"));
        assertThat(delivery(key, "email").get("reason").toString())
                .startsWith("email outcome unknown: Herald stopped while handing it to the SMTP server at ")
                .endsWith("check whether the customer received it, and resend if not");
        assertThat(mailsFor(key)).hasSize(1);
        // The email keeps the Message-ID the mail was given, so the provider's receipt naming it settles the delivery.
        assertThat(delivery(key, "email")).containsEntry("provider_message_id", messageId);
        // The SMS provider (like Twilio) does not honour an Idempotency-Key (herald.sms.honours-idempotency-key false, the
        // default): a second call could send a second SMS, so it is flagged for a person, never sent again by itself.
        assertThat(delivery(key, "sms").get("reason").toString())
                .startsWith("sms outcome unknown: Herald stopped while calling the provider at ")
                .endsWith("; the provider does not honour the idempotency key, so it is not sent again by itself;"
                        + " check whether the customer received it, and resend if not");
        assertThat(delivery(key, "sms").get("next_attempt_at")).isNull();
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms")))).hasSize(1);
        assertThat(attempts(key, "email")).extracting(a -> a.get("outcome")).containsExactly("SENT", "UNCERTAIN");
        assertThat(attempts(key, "sms")).extracting(a -> a.get("outcome")).containsExactly("SENT", "UNCERTAIN");
    }

    /**
     * First-success: a push a crash left SENDING is settled UNCERTAIN by the sweep, and the notification moves on to its
     * next channel at once, as the push's sender would have (here the push call still hangs, as a dead instance's would:
     * the mail goes out before anything comes back from it).
     */
    @Test
    void afterACrashMidSendAFirstSuccessNotificationMovesOnToItsNextChannel() throws Exception {
        String customer = "cus_crashchain" + newTicketId();
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, push_tokens, preferences) VALUES (?, 'Cora Crash', ?, ?::jsonb,"
                + " '{\"support\": [\"push\", \"email\"]}'::jsonb)", customer, customer + "@example.net", "[\"" + token + "\"]");
        StubMapping hanging = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token))
                .atPriority(1).willReturn(aResponse().withStatus(200).withFixedDelay(30_000).withBody("{\"name\": \"late\"}")));
        try {
            String ticket = newTicketId();
            postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer));
            String key = "support:agent_replied:" + ticket + ":41000000000555";
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENDING".equals(delivery(key, "push").get("state")));
            // What a kill -9 mid-call leaves: the row SENDING long ago, and no sender to move on from it.
            jdbc.update("UPDATE delivery SET updated_at = now() - interval '10 minutes' WHERE channel = 'push'"
                    + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);

            StaleSweep.until(staleSendings, () -> !"SENDING".equals(delivery(key, "push").get("state")));

            awaitStates(key, Map.of("push", "UNCERTAIN", "email", "SENT"));
            assertThat(attempts(key, "push")).extracting(a -> a.get("outcome")).as("the hanging call has not ended yet").containsExactly("UNCERTAIN");
            assertThat(mailsFor(key)).hasSize(1);
        } finally {
            infra.providers().removeStub(hanging);
        }
    }

    /**
     * First-success: a channel ended and its sender stopped before queueing the next channel (here an error in that very
     * write; a kill -9 at that moment leaves the same rows). The stale-sendings sweep queues the email, as the sender
     * would have, and it is mailed once.
     */
    @Test
    void aFirstSuccessChainCutAfterAFailedChannelIsFollowedByTheSweep() throws Exception {
        String customer = "cus_chaincut" + newTicketId();
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, push_tokens, preferences) VALUES (?, 'Cato Cut', ?, ?::jsonb,"
                + " '{\"support\": [\"push\", \"email\"]}'::jsonb)", customer, customer + "@example.net", "[\"" + token + "\"]");
        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token))
                .atPriority(1).willReturn(aResponse().withStatus(403).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": {\"code\": 403, \"message\": \"The caller does not have permission\", \"status\": \"PERMISSION_DENIED\"}}")));
        // The sender's move to the next channel fails, as if Herald stopped right after writing the push's outcome.
        String key;
        try (ChainCut cut = ChainCut.before(jdbc, customer, "email")) {
            String ticket = newTicketId();
            postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer));
            key = "support:agent_replied:" + ticket + ":41000000000555";
            await().atMost(Duration.ofSeconds(30)).until(cut::happened);
        } finally {
            infra.providers().removeStub(refused);
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery WHERE channel = 'email' AND notification_id ="
                + " (SELECT id FROM notification WHERE idempotency_key = ?)", Integer.class, key)).as("the chain is cut").isZero();
        // The SMS between them was skipped (the customer takes support messages by push and email only), and its sender's
        // move to the email is the one cut. A minute on (the sweep leaves a step this recent to its own sender), the sweep finds it.
        assertThat(delivery(key, "push").get("state")).isEqualTo("FAILED");
        assertThat(delivery(key, "sms").get("state")).isEqualTo("SKIPPED");
        jdbc.update("UPDATE delivery SET updated_at = now() - interval '65 seconds'"
                + " WHERE notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);

        String chained = key;
        StaleSweep.until(staleSendings, () -> !delivery(chained, "email").isEmpty());

        awaitStates(key, Map.of("push", "FAILED", "sms", "SKIPPED", "email", "SENT"));
        assertThat(mailsFor(key)).hasSize(1);
    }

    @Test
    void aNotificationThatCannotBeDispatchedBecomesADeadLetterInTheTableAndOnTheTopic() throws Exception {
        String garbage = "{\"idempotencyKey\": \"broken-" + UUID.randomUUID() + "\", \"type\": 42";
        try (KafkaConsumer<String, String> deadLetters = deadLetterConsumer()) {
            publish("herald.notifications", "cus_RkT4aB7cD9eF1g", garbage);
            Map<String, Object> row = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                    "SELECT stage, reason, payload FROM dead_letter WHERE payload = ?", garbage), rows -> rows.size() == 1).get(0);
            assertThat(row).containsEntry("stage", "dispatch");
            assertThat(row.get("reason").toString()).startsWith("dispatch failed: ");

            JsonNode published = await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, String> record : deadLetters.poll(Duration.ofMillis(500))) {
                    JsonNode node = JSON.readTree(record.value());
                    if (garbage.equals(node.path("payload").asText())) {
                        return node;
                    }
                }
                return null;
            }, node -> node != null);
            assertThat(published.get("stage").asText()).isEqualTo("dispatch");
            assertThat(published.get("reason").asText()).isEqualTo(row.get("reason"));
        }
        // The consumer went on.
        String unique = newTicketId();
        postSignedBilling(Samples.paymentFailed(unique));
        awaitMailFor(Samples.paymentFailedKey(unique));
    }

    /**
     * One notification whose dispatch fails for a reason of its own (here PostgreSQL refuses its delivery rows, as it would
     * a value too long) stops its whole batch's transaction: the batch is dispatched again one at a time, so only that one
     * becomes a dead letter and the other customers of its batch get their mail.
     */
    @Test
    void aNotificationThatFailsItsDispatchBatchIsTheOnlyDeadLetterOfIt() throws Exception {
        String bad = "cus_badbatch" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Bad Batch', ?)", bad, bad + "@example.net");
        String trigger = "refuse_delivery_" + UUID.randomUUID().toString().substring(0, 8);
        jdbc.execute("CREATE FUNCTION " + trigger + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.customer_id = '" + bad + "' THEN"
                + "   RAISE EXCEPTION 'value too long for type character varying(20)' USING ERRCODE = '22001'; END IF;"
                + " RETURN NEW; END $$");
        jdbc.execute("CREATE TRIGGER " + trigger + " BEFORE INSERT ON delivery FOR EACH ROW EXECUTE FUNCTION " + trigger + "()");
        List<String> good = new java.util.ArrayList<>();
        String badKey;
        try {
            // Dispatch waits while the batch is made, so the five are read in one poll.
            DispatchHold.hold(camel);
            try {
                for (int i = 0; i < 4; i++) {
                    String unique = newTicketId();
                    postSignedBilling(Samples.paymentFailed(unique));
                    good.add(Samples.paymentFailedKey(unique));
                }
                String unique = newTicketId();
                postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", bad));
                badKey = Samples.paymentFailedKey(unique);
                List<String> all = new java.util.ArrayList<>(good);
                all.add(badKey);
                await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key"
                        + " = ANY(?)", Integer.class, (Object) all.toArray(String[]::new)) == 5);
            } finally {
                DispatchHold.release(camel);
            }
            String deadKey = badKey;
            await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForObject("SELECT count(*) FROM dead_letter WHERE payload LIKE ?",
                    Integer.class, "%" + deadKey + "%") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT state FROM notification WHERE idempotency_key = ?",
                    String.class, deadKey), "DEAD_LETTER"::equals);   // no longer in flight
            for (String key : good) {
                awaitMailFor(key);
                assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter WHERE payload LIKE ?", Integer.class, "%" + key + "%"))
                        .as(key).isZero();
            }
        } finally {
            jdbc.execute("DROP TRIGGER " + trigger + " ON delivery");
            jdbc.execute("DROP FUNCTION " + trigger + "()");
        }
    }

    @Test
    void aWellFormedNotificationThatNeverCameThroughIntakeIsADeadLetterThatSaysSo() throws Exception {
        String unique = "never-admitted-" + UUID.randomUUID();
        // A canonical notification as intake would publish it, but written to the topic by something else.
        String stray = JSON.createObjectNode()
                .put("idempotencyKey", "billing:invoice.payment_failed:" + unique + ":attempt-1").put("source", "billing")
                .put("sourceEventId", "evt_" + unique).put("type", "billing.payment_failed").put("customerId", "cus_RkT4aB7cD9eF1g")
                .put("occurredAt", Instant.now().toString()).put("priority", "high").toString();
        publish("herald.notifications", "cus_RkT4aB7cD9eF1g", stray);
        Map<String, Object> row = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT stage, reason FROM dead_letter WHERE payload = ?", stray), rows -> rows.size() == 1).get(0);
        assertThat(row).containsEntry("stage", "dispatch");
        assertThat(row.get("reason")).isEqualTo("dispatch failed: notification billing:invoice.payment_failed:"
                + unique + ":attempt-1 is not in the ledger: it did not come through Herald's intake");
        // Nothing reached the customer: no SMS request (the first channel to answer) and no mail carry its key.
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", containing(unique)))).isEmpty();
        assertThat(mailsFor("billing:invoice.payment_failed:" + unique + ":attempt-1")).isEmpty();
    }

    /**
     * A notification intake admitted whose type the catalog no longer knows when dispatch reads it (the catalog changed in
     * between) is a dead letter, and its ledger row says DEAD_LETTER: it was marked ROUTED with no delivery, so the console
     * showed nothing wrong and its source event, sent again, was taken for a duplicate.
     */
    @Test
    void aNotificationDispatchCannotRouteEndsDeadLetterNotRouted() throws Exception {
        String unique = "type-gone-" + UUID.randomUUID();
        String key = "billing:invoice.payment_failed:" + unique + ":attempt-1";
        String canonical = JSON.createObjectNode()
                .put("idempotencyKey", key).put("source", "billing").put("sourceEventId", "evt_" + unique)
                .put("type", "billing.type_removed_since").put("customerId", "cus_RkT4aB7cD9eF1g")
                .put("occurredAt", Instant.now().toString()).put("priority", "high").toString();
        jdbc.update("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.type_removed_since', 'cus_RkT4aB7cD9eF1g', 'RECEIVED', '{}'::jsonb)""",
                key, "evt_" + unique);
        publish("herald.notifications", "cus_RkT4aB7cD9eF1g", canonical);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM dead_letter WHERE payload = ?",
                Integer.class, canonical) == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT state FROM notification WHERE idempotency_key = ?",
                String.class, key), "DEAD_LETTER"::equals);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ?", Integer.class, key)).isZero();
    }

    /** Duplicates the dispatch route's idempotent consumer skipped, read from its Camel MBean (what Hawtio shows). */
    private KafkaConsumer<String, String> deadLetterConsumer() {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "dead-letter-test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        consumer.subscribe(List.of("herald.dead-letters"));
        return consumer;
    }

    private String customerWithPhone(String phone) {
        String customer = "cus_phone" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Pat Phone', ?, ?)",
                customer, customer + "@example.net", phone);
        return customer;
    }

    private void awaitStates(String key, Map<String, String> expected) {
        await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> expected.forEach((channel, state) ->
                assertThat(delivery(key, channel)).containsEntry("state", state)));
    }

    private HttpResponse<String> postJson(String path, String body) throws Exception {
        return apiJson("POST", path, body);
    }
}
