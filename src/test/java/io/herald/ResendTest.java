package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/**
 * A resend is its own attempt: claimed atomically (a double click or two operators send one copy),
 * with its own provider key even when it is parked and re-driven later, and it never changes the
 * delivery's SENT record.
 */
class ResendTest extends HeraldIntegrationTest {

    @org.springframework.beans.factory.annotation.Autowired
    io.herald.dispatch.StaleSendings staleSendings;
    @org.springframework.beans.factory.annotation.Autowired
    io.herald.ledger.DeliveryLedger ledger;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";

    @Test
    void aDoubleClickedResendSendsOneCopyAndLeavesTheSentRecordAsItWas() throws Exception {
        SmsSent sent = paymentFailedSentBySms("+4477012");
        String phone = sent.phone();
        String unique = sent.unique();
        String key = sent.key();
        Map<String, Object> before = delivery(key, "sms");
        long smsId = ((Number) before.get("id")).longValue();

        // Two clicks at the same moment (or two operators), then a third a moment later.
        String body = "{\"confirm\": true, \"comment\": \"customer lost the first text\"}";
        CompletableFuture<HttpResponse<String>> first = resendAsync(smsId, OPERATOR, body);
        CompletableFuture<HttpResponse<String>> second = resendAsync(smsId, ADMIN, body);
        List<HttpResponse<String>> answers = List.of(first.get(), second.get());
        HttpResponse<String> third = resendAsync(smsId, OPERATOR, body).get();

        assertThat(answers).extracting(HttpResponse::statusCode).containsExactlyInAnyOrder(200, 409);
        assertThat(third.statusCode()).isEqualTo(409);
        HttpResponse<String> accepted = answers.stream().filter(a -> a.statusCode() == 200).findFirst().orElseThrow();
        JsonNode result = JSON.readTree(accepted.body());
        assertThat(result.get("state").asText()).isEqualTo("SENT");
        long resendId = result.get("resendId").asLong();
        HttpResponse<String> refused = answers.stream().filter(a -> a.statusCode() == 409).findFirst().orElseThrow();
        assertThat(JSON.readTree(refused.body()).get("error").asText())
                .contains("does not send another copy").doesNotContainPattern("Exception|SQL|duplicate key");

        // The customer got one more SMS, with a key of its own; one resend is recorded.
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                .extracting(r -> r.getHeader("Idempotency-Key")).containsExactlyInAnyOrder(key + ":sms", key + ":sms:resend-" + resendId);
        assertThat(jdbc.queryForList("SELECT id, outcome FROM delivery_resend WHERE delivery_id = ?", smsId))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("outcome", "SENT"));
        // The delivery's own record is what it was: sent once, by the original attempt, at the original time.
        Map<String, Object> after = delivery(key, "sms");
        for (String column : List.of("state", "provider_message_id", "sent_at", "rendered_body", "attempts")) {
            assertThat(after.get(column)).as(column).isEqualTo(before.get(column));
        }
    }

    @Test
    void aParkedResendGoesOutAgainWithItsOwnKeyNeverTheOriginals() throws Exception {
        SmsSent sent = paymentFailedSentBySms("+4477013");
        String phone = sent.phone();
        String unique = sent.unique();
        String key = sent.key();
        long smsId = ((Number) delivery(key, "sms").get("id")).longValue();

        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .withHeader("Idempotency-Key", matching(".*:resend-.*")).atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("{\"message\": \"try later\"}")));
        long resendId;
        try {
            HttpResponse<String> resent = resendAsync(smsId, OPERATOR, "{\"confirm\": true, \"comment\": \"copy please\"}").get();
            assertThat(resent.statusCode()).isEqualTo(200);
            JsonNode result = JSON.readTree(resent.body());
            assertThat(result.get("state").asText()).isEqualTo("PARKED");
            resendId = result.get("resendId").asLong();
            assertThat(delivery(key, "sms")).containsEntry("state", "SENT");
        } finally {
            infra.providers().removeStub(down);
        }
        // The provider is back; brought forward, the parked resend is re-driven as that resend.
        jdbc.update("UPDATE delivery_resend SET next_attempt_at = now() WHERE id = ?", resendId);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("SENT"));

        List<String> keys = infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))))
                .stream().map(r -> r.getHeader("Idempotency-Key")).toList();
        assertThat(keys).filteredOn((key + ":sms")::equals).hasSize(1);   // the original send only
        assertThat(keys).filteredOn((key + ":sms:resend-" + resendId)::equals).hasSize(3);   // 2 tries (one in-process retry), parked, then sent
        assertThat(delivery(key, "sms")).containsEntry("state", "SENT");
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms"))))
                .hasSize(1);
    }

    @Test
    void aResendRecordedButNeverStartedBecauseHeraldStoppedIsSentOnceByTheSweep() throws Exception {
        SmsSent sent = paymentFailedSentBySms("+4477014");
        String phone = sent.phone();
        String unique = sent.unique();
        String key = sent.key();
        long smsId = ((Number) delivery(key, "sms").get("id")).longValue();
        // What a kill -9 between recording an operator's resend (or its approval) and claiming it leaves behind.
        long resendId = jdbc.queryForObject("""
                INSERT INTO delivery_resend (delivery_id, requested_by, comment, outcome, updated_at)
                VALUES (?, 'operator', 'copy please', 'PENDING', now() - interval '10 minutes') RETURNING id""", Long.class, smsId);

        // Swept until it is sent: right after another test's database outage the sweep waits 30 s before it settles anything
        // (StaleSendings, waitingAfterOutage), and one sweep alone then did nothing.
        await().atMost(Duration.ofSeconds(75)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            staleSendings.sweep();
            assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("SENT");
        });
        // One held for an approver is waiting on purpose, however long: the sweep leaves it to the approver (or its expiry).
        long awaiting = jdbc.queryForObject("""
                INSERT INTO delivery_resend (delivery_id, requested_by, outcome, updated_at)
                VALUES (?, 'operator', 'PENDING', now() - interval '10 minutes') RETURNING id""", Long.class, smsId);
        jdbc.update("""
                INSERT INTO resend_approval (resend_id, delivery_id, notification_id, rule, requested_by, expires_at)
                SELECT ?, id, notification_id, 'a test rule', 'operator', now() + interval '1 day' FROM delivery WHERE id = ?""", awaiting, smsId);
        staleSendings.sweep();
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, awaiting)).isEqualTo("PENDING");
        jdbc.update("DELETE FROM delivery_resend WHERE id = ?", awaiting);
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withHeader("Idempotency-Key", equalTo(key + ":sms:resend-" + resendId)))).as("the resend, sent once with its own key").hasSize(1);
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms"))))
                .as("the original, not again").hasSize(1);
        assertThat(jdbc.queryForList("SELECT reason FROM delivery_attempt WHERE delivery_id = ? AND outcome = 'PARKED'", String.class, smsId))
                .contains("resend " + resendId + ": the resend was recorded but never started (Herald stopped before sending it); sent now");
        staleSendings.sweep();
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId))
                .as("a sent resend is not taken again").isEqualTo("SENT");
    }

    /**
     * A resend's claim whose COMMIT reached PostgreSQL while the connection was lost before its acknowledgement: the resend is
     * SENDING under the attempt's token and nothing was sent. The attempt tries its claim again with the same token once the
     * database answers (ChannelDelivery keeps it over the retries) and takes it; before, the retry found it "already
     * SENDING", and the resend waited for the stale sweep to settle it UNCERTAIN, never sent. Another attempt's token finds
     * it taken, so two attempts never both send it.
     */
    @Test
    void aResendClaimRetriedAfterItsCommitAcknowledgementWasLostTakesItsOwnClaimAgainAndNoOtherAttemptDoes() throws Exception {
        SmsSent sent = paymentFailedSentBySms("+4477015");
        String phone = sent.phone();
        String unique = sent.unique();
        String key = sent.key();
        long smsId = ((Number) delivery(key, "sms").get("id")).longValue();
        long resendId = jdbc.queryForObject("""
                INSERT INTO delivery_resend (delivery_id, requested_by, comment, outcome) VALUES (?, 'operator', 'copy please', 'PENDING')
                RETURNING id""", Long.class, smsId);
        java.util.UUID attempt = io.herald.ledger.DeliveryLedger.newClaimToken();

        assertThat(ledger.claimResend(resendId, attempt)).as("the claim, committed; its answer is what was lost").isPresent();
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("SENDING");

        assertThat(ledger.claimResend(resendId, io.herald.ledger.DeliveryLedger.newClaimToken())).as("another attempt").isEmpty();
        java.util.Optional<io.herald.ledger.DeliveryLedger.Claim> retried = ledger.claimResend(resendId, attempt);
        assertThat(retried).as("the same attempt, retrying its claim").hasValueSatisfying(claim -> {
            assertThat(claim.deliveryId()).isEqualTo(smsId);
            assertThat(claim.resendId()).isEqualTo(resendId);
        });
        // The attempt goes on and records its outcome with its claim: nothing is left in flight.
        assertThat(ledger.sent(retried.get(), "SM-lost-ack-" + unique, 201)).isTrue();
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("SENT");
        assertThat(ledger.claimResend(resendId, attempt)).as("a sent resend is not taken again, whoever asks").isEmpty();
    }

    /**
     * The ops webhook's answer carries no message id (Slack answers "ok"), and a resend's SENT attempt was written as "resend "
     * + id + ": " + the provider's id: an operator resending the ops post read "resend 12: null" in the notification's
     * timeline. It now says what happened: "1st resend: sent".
     */
    @Test
    void aResentOpsWebhookPostSaysSentInTheTimelineNotNull() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customerWithPhone("+4477016" + (10000 + Integer.parseInt(unique) % 89999))));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "ops_webhook")).containsEntry("state", "SENT"));
        long opsId = ((Number) delivery(key, "ops_webhook").get("id")).longValue();

        HttpResponse<String> resent = resendAsync(opsId, OPERATOR, "{\"confirm\": true, \"comment\": \"the team missed it\"}").get();
        assertThat(resent.statusCode()).isEqualTo(200);
        JsonNode result = JSON.readTree(resent.body());
        assertThat(result.get("state").asText()).isEqualTo("SENT");
        long resendId = result.get("resendId").asLong();

        long notification = ((Number) delivery(key, "ops_webhook").get("notification_id")).longValue();
        JsonNode timeline = JSON.readTree(api("GET", "/api/notifications/" + notification).body()).get("timeline");
        List<String> sent = new java.util.ArrayList<>();
        timeline.forEach(entry -> {
            if ("ops_webhook".equals(entry.path("channel").asText()) && entry.path("what").asText().startsWith("SENT")) {
                sent.add(entry.path("detail").asText(null));
            }
        });
        assertThat(sent).contains("1st resend: sent").noneMatch(detail -> detail != null && detail.contains("null"));
    }

    /**
     * A delivery resent twice reads "1st resend" and "2nd resend" in its timeline, the console's answer and the operators' actions:
     * the resend's place among that delivery's resends. It read "resend 4127: sent" (the id, which counts every delivery's
     * resends), as if the customer had been sent thousands of copies.
     */
    @Test
    void aDeliveryResentTwiceNamesItsResendsFirstAndSecondNotByTheirIds() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customerWithPhone("+4477017" + (10000 + Integer.parseInt(unique) % 89999))));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "ops_webhook")).containsEntry("state", "SENT"));
        long opsId = ((Number) delivery(key, "ops_webhook").get("id")).longValue();
        long notification = ((Number) delivery(key, "ops_webhook").get("notification_id")).longValue();

        HttpResponse<String> first = apiJson("POST", "/api/deliveries/" + opsId + "/resend", "{\"confirm\": true, \"comment\": \"the team missed it\"}");
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        long firstId = JSON.readTree(first.body()).get("resendId").asLong();
        // The answer says in words what was done, as the console does (it carried only the id, which counts every delivery's).
        assertThat(JSON.readTree(first.body()).path("message").asText()).matches("1st resend of delivery " + opsId + ": [a-z ]+")
                .isEqualTo("1st resend of delivery " + opsId + ": " + JSON.readTree(first.body()).get("state").asText().toLowerCase());
        // Past the resend guard, as if a while had passed: a second copy asked for deliberately, from the console.
        jdbc.update("UPDATE delivery_resend SET requested_at = requested_at - interval '1 hour' WHERE id = ?", firstId);
        HttpResponse<String> second = consoleFormAs(OPERATOR, "/console/deliveries/" + opsId + "/resend",
                "notification=" + notification + "&confirm=true&comment=still+missed");
        assertThat(second.statusCode()).isEqualTo(302);
        // The page the console returns to, with what happened (its flash, kept in the session the form's answer opened).
        String flashed = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/console/notifications/" + notification))
                .header("Cookie", second.headers().firstValue("Set-Cookie").orElse("").split(";")[0])
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(OPERATOR.getBytes(StandardCharsets.UTF_8)))
                .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(flashed).contains("2nd resend of delivery " + opsId + ": ");
        long secondId = jdbc.queryForObject("SELECT max(id) FROM delivery_resend WHERE delivery_id = ?", Long.class, opsId);
        assertThat(secondId).isGreaterThan(firstId);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(
                jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, secondId)));

        JsonNode timeline = JSON.readTree(api("GET", "/api/notifications/" + notification).body()).get("timeline");
        List<String> details = new java.util.ArrayList<>();
        timeline.forEach(entry -> details.add(entry.path("detail").asText("")));
        assertThat(details).contains("1st resend: sent", "2nd resend: sent")
                .anyMatch(d -> d.startsWith("1st resend requested by operator: the team missed it"))
                .anyMatch(d -> d.startsWith("2nd resend requested by operator: still missed"))
                .anyMatch(d -> d.endsWith("→ 2nd resend of delivery " + opsId + ": sent"))
                .noneMatch(d -> d.contains("resend " + firstId) || d.contains("resend " + secondId));
        String page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body();
        assertThat(page).contains("1st resend: sent", "2nd resend: sent").doesNotContain("resend " + secondId + ":");
        // The delivery as the API gives it: its attempts say which resend as the timeline does, its resends keep their ids.
        JsonNode detail = JSON.readTree(api("GET", "/api/deliveries/" + opsId).body());
        List<String> attempts = new java.util.ArrayList<>();
        detail.get("attempts_log").forEach(attempt -> attempts.add(attempt.path("reason").asText("")));
        assertThat(attempts).contains("1st resend: sent", "2nd resend: sent")
                .noneMatch(reason -> reason.contains("resend " + firstId) || reason.contains("resend " + secondId));
        assertThat(detail.get("resends").get(1).get("id").asLong()).isEqualTo(secondId);
        assertThat(detail.get("resends").get(1).get("resend").asText()).isEqualTo("2nd resend");
        // The operators' actions (the audit trail) name them so too; they read "resend 4127: SENT".
        assertThat(jdbc.queryForList("SELECT outcome FROM operator_action WHERE action = 'RESEND' AND target = 'delivery' AND target_id = ?"
                + " ORDER BY id", String.class, opsId)).satisfiesExactly(
                        audited -> assertThat(audited).matches("1st resend of delivery " + opsId + ": [a-z ]+"),
                        audited -> assertThat(audited).matches("2nd resend of delivery " + opsId + ": [a-z ]+"));
        // A third asked for at once is refused, naming the one just sent as the operator counts it.
        HttpResponse<String> third = apiJson("POST", "/api/deliveries/" + opsId + "/resend", "{\"confirm\": true, \"comment\": \"again\"}");
        assertThat(third.statusCode()).isEqualTo(409);
        assertThat(JSON.readTree(third.body()).get("error").asText()).startsWith("delivery " + opsId + " was just resent (its 2nd resend, by operator at ")
                .doesNotContain("resend " + secondId);
    }

    private CompletableFuture<HttpResponse<String>> resendAsync(long deliveryId, String account, String body) {
        return http.sendAsync(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/deliveries/" + deliveryId + "/resend"))
                .header("Content-Type", "application/json").header("Accept", "application/json")
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A payment failure of its own, whose SMS was sent to a new customer's number starting {@code phonePrefix}. */
    private SmsSent paymentFailedSentBySms(String phonePrefix) throws Exception {
        String phone = phonePrefix + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customerWithPhone(phone)));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "sms")).containsEntry("state", "SENT"));
        return new SmsSent(phone, unique, key);
    }

    private record SmsSent(String phone, String unique, String key) {
    }

    private String customerWithPhone(String phone) {
        String customer = "cus_resend" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Rae Send', ?, ?)",
                customer, customer + "@example.net", phone);
        return customer;
    }
}
