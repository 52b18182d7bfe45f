package io.herald.receipts;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.ledger.DeliveryLedger;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Delivery receipts as the SMS and email providers send them, signed with their real algorithms. */
class DeliveryReceiptsTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    DeliveryLedger ledger;
    @Autowired
    DeliveryReceipts receipts;
    @Autowired
    EarlyReceipts earlyReceipts;
    private static final String SMS_TOKEN = "local-demo-sms-token";
    /** The private half of the DEMO verification key in config/application-local.yaml (herald.email-events.verification-key). Test code only. */
    private static final String DEMO_PRIVATE_KEY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzZA3G1HE9+rptSmeBrWQWaNpRsDrCRMougfbyoaJgoGhRANCAARNo4oDp9x7+mtjPBVYLOuOYzJy8rkNs+kQ0wee2O9tXxE6sNyXrhW6sR19tvWv6+CEFVQH65yvY6CLrvxiS5/g";

    @Test
    void aSignedDeliveredCallbackMakesTheSmsDeliveredAndALateSentDoesNotUndoIt() throws Exception {
        Sent sent = sendPaymentFailed("dlv");
        String sid = sent.sms();

        HttpResponse<String> delivered = postSmsStatus(form("MessageSid", sid, "MessageStatus", "delivered", "To", sent.phone()), null);
        assertThat(delivered.statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "DELIVERED")
                .containsEntry("reason", "the carrier reported the SMS delivered to the handset");

        // Out of order: the "sent" status arrives after "delivered", and Twilio retries "delivered".
        assertThat(postSmsStatus(form("MessageSid", sid, "MessageStatus", "sent", "To", sent.phone()), null).statusCode()).isEqualTo(200);
        assertThat(postSmsStatus(form("MessageSid", sid, "MessageStatus", "delivered", "To", sent.phone()), null).statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "DELIVERED");
        assertThat(jdbc.queryForList("SELECT status, outcome FROM delivery_receipt WHERE provider_message_id = ? ORDER BY id", sid))
                .containsExactly(Map.of("status", "delivered", "outcome", "APPLIED"), Map.of("status", "sent", "outcome", "KEPT"),
                        Map.of("status", "delivered", "outcome", "KEPT"));

        // What an operator sees: the delivery DELIVERED in the API, the receipt in the console timeline.
        long notification = ((Number) delivery(sent.key(), "sms").get("notification_id")).longValue();
        JsonNode view = JSON.readTree(api("GET", "/api/notifications/" + notification).body());
        assertThat(view.toString()).contains("DELIVERED", "the carrier reported the SMS delivered to the handset");
        String page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body();
        assertThat(page).contains("DELIVERED").contains("the carrier reported the SMS delivered to the handset");
    }

    @Test
    void anUndeliveredCallbackGivesAReadableReasonAndALandlineIsSuppressed() throws Exception {
        Sent sent = sendPaymentFailed("und");
        String body = form("MessageSid", sent.sms(), "MessageStatus", "undelivered", "ErrorCode", "30006", "To", sent.phone(),
                "From", "+15005550006", "AccountSid", "ACdemo", "ApiVersion", "2010-04-01");
        assertThat(postSmsStatus(body, null).statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "UNDELIVERED")
                .containsEntry("reason", "SMS not delivered: the number is a landline or cannot receive SMS (carrier error 30006)");
        assertThat(jdbc.queryForList("SELECT channel, address_masked, reason FROM suppression WHERE lifted_at IS NULL AND receipt_id ="
                + " (SELECT max(id) FROM delivery_receipt WHERE provider_message_id = ?)", sent.sms()))
                .containsExactly(Map.of("channel", "sms", "address_masked", io.herald.logging.Masking.phone(sent.phone()),
                        "reason", "the number is a landline or cannot receive SMS (carrier error 30006)"));

        // Settled: the notification read again (a Kafka redelivery) never claims the SMS for a second send.
        long notification = ((Number) delivery(sent.key(), "sms").get("notification_id")).longValue();
        assertThat(ledger.claimForSending(notification, "sms", "+1555…", null, "again")).isEmpty();

        Sent other = sendPaymentFailed("und2");
        postSmsStatus(form("MessageSid", other.sms(), "MessageStatus", "failed", "ErrorCode", "30410", "To", other.phone()), null);
        assertThat(delivery(other.key(), "sms")).containsEntry("state", "UNDELIVERED")
                .containsEntry("reason", "SMS not delivered: the carrier reported error 30410");
    }

    /**
     * Twilio's other common undelivered codes, as an operator reads them in the delivery's reason: each says in words what
     * happened and what to do. (30004 blocked, 30008 unknown, 30001 queue overflow, 30002 account suspended and 30034 an
     * unregistered US number read "the carrier reported error 3000x": nothing to act on without Twilio's error pages.)
     */
    @Test
    void undeliveredCallbacksWithTwiliosOtherCommonCodesSayWhatToDo() throws Exception {
        Sent sent = sendPaymentFailed("u30008");
        postSmsStatus(form("MessageSid", sent.sms(), "MessageStatus", "undelivered", "ErrorCode", "30008", "To", sent.phone()), null);
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "UNDELIVERED");
        assertThat((String) delivery(sent.key(), "sms").get("reason")).startsWith("SMS not delivered: ")
                .doesNotContain("the carrier reported error").contains("30008", "retry");
        // Not a number that can never receive: nothing suppressed.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE receipt_id IN"
                + " (SELECT id FROM delivery_receipt WHERE provider_message_id = ?)", Long.class, sent.sms())).isZero();

        assertThat(SmsStatusCallbacks.explain("30004")).contains("blocked", "30004").doesNotContain("the carrier reported error");
        assertThat(SmsStatusCallbacks.explain("30001")).contains("queue", "30001").doesNotContain("the carrier reported error");
        assertThat(SmsStatusCallbacks.explain("30002")).contains("suspended", "30002").doesNotContain("the carrier reported error");
        assertThat(SmsStatusCallbacks.explain("30034")).contains("registered", "30034").doesNotContain("the carrier reported error");
    }

    @Test
    void aCallbackForAnUnknownSidIsRecordedAndAnswered200() throws Exception {
        String sid = "SM" + "0".repeat(24) + newTicketId();
        HttpResponse<String> answer = postSmsStatus(form("MessageSid", sid, "MessageStatus", "delivered"), null);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT delivery_id, outcome FROM delivery_receipt WHERE provider_message_id = ?", sid))
                .hasSize(1).first().satisfies(row -> {
                    assertThat(row.get("delivery_id")).isNull();
                    assertThat(row.get("outcome")).isEqualTo("UNMATCHED");
                });
    }

    /**
     * Behind a TLS-terminating proxy Twilio calls https://herald.example.com/webhooks/sms/status and signs that URL; Herald sees
     * http://localhost:port/... with the proxy's X-Forwarded-Proto and X-Forwarded-Host. Without herald.sms.webhook-base-url
     * (as here) the URL checked is the public one the proxy names, so the callback is taken; the same signature sent straight
     * to Herald, with no proxy's headers, is refused. (Every callback was refused 401 behind a proxy unless the base URL was set.)
     */
    @Test
    void aCallbackSignedOverThePublicUrlIsTakenThroughATlsProxy() throws Exception {
        String sid = "SM" + "0".repeat(24) + newTicketId();
        String body = form("MessageSid", sid, "MessageStatus", "delivered");
        String signature = twilioSignature("https://herald.example.com/webhooks/sms/status", body);

        HttpResponse<String> direct = postSmsStatus(body, signature);
        assertThat(direct.statusCode()).isEqualTo(401);

        HttpResponse<String> proxied = post("/webhooks/sms/status", "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", signature, "X-Forwarded-For", "54.172.60.1", "X-Forwarded-Proto", "https",
                        "X-Forwarded-Host", "herald.example.com"));
        assertThat(proxied.statusCode()).as(proxied.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT outcome FROM delivery_receipt WHERE provider_message_id = ?", String.class, sid))
                .containsExactly("UNMATCHED");
    }

    /**
     * A proxy that adds the signature header again (its own copy, or a stale one kept from a retry) sends two
     * X-Twilio-Signature headers: the callback was refused 401 "wrong auth token … or the URL Twilio signed differs", whatever
     * the second said, and its receipt lost; the email provider's event batches the same. One that matches is enough, as for
     * Stripe's several v1 signatures.
     */
    @Test
    void aCallbackOrEventBatchWithTwoSignatureHeadersOneOfThemRightIsTaken() throws Exception {
        String sid = "SM" + "1".repeat(24) + newTicketId();
        String body = form("MessageSid", sid, "MessageStatus", "delivered");
        HttpResponse<String> answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("X-Twilio-Signature", twilioSignature(url(), form("MessageSid", sid, "MessageStatus", "sent")))
                .header("X-Twilio-Signature", twilioSignature(url(), body))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT outcome FROM delivery_receipt WHERE provider_message_id = ?", String.class, sid))
                .containsExactly("UNMATCHED");

        // The email provider's event batch, likewise (a stale signature first, the right one second).
        String events = "[{\"email\": \"x@example.com\", \"event\": \"delivered\", \"smtp-id\": \"<two-" + sid + "@herald>\","
                + " \"sg_event_id\": \"two-" + sid + "\", \"timestamp\": 1763720042}]";
        String timestamp = String.valueOf(java.time.Instant.now().getEpochSecond());
        Signature ecdsa = Signature.getInstance("SHA256withECDSA");
        ecdsa.initSign(KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(DEMO_PRIVATE_KEY))));
        ecdsa.update((timestamp + "[]").getBytes(StandardCharsets.UTF_8));
        String stale = Base64.getEncoder().encodeToString(ecdsa.sign());
        ecdsa.update((timestamp + events).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> batch = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
                        + "/webhooks/email/events")).header("Content-Type", "application/json")
                .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
                .header("X-Twilio-Email-Event-Webhook-Signature", stale)
                .header("X-Twilio-Email-Event-Webhook-Signature", Base64.getEncoder().encodeToString(ecdsa.sign()))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(events)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT outcome FROM delivery_receipt WHERE provider_event_id = ?", String.class, "two-" + sid))
                .containsExactly("UNMATCHED");
    }

    /**
     * Twilio may post a message's status before Herald has written its SENT (its callback faster than its own answer reaches
     * Herald, or a slow database): the callbacks were kept UNMATCHED for good, and a landline's SMS stayed SENT and was sent
     * to again. Here the provider answers this customer's SMS after 6 s, and both callbacks arrive while Herald waits for that
     * answer.
     */
    @Test
    void callbacksThatComeBeforeTheirSendIsRecordedAreAppliedOnceItIs() throws Exception {
        String customer = "cus_rcpt_early" + newTicketId();
        String phone = "+1555" + String.format("%07d", Math.abs(customer.hashCode()) % 10_000_000);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Early Receipt', ?, ?)",
                customer, customer.replace('_', '.') + "@receipts.example.net", phone);
        String sid = "SMearly" + newTicketId();
        StubMapping slow = infra.providers().stubFor(WireMock.post(urlPathMatching("/2010-04-01/Accounts/[^/]+/Messages.json")).atPriority(1)
                .withRequestBody(containing(phone.substring(1))).willReturn(aResponse().withStatus(201).withFixedDelay(6_000)
                        .withHeader("Content-Type", "application/json").withBody("{\"sid\": \"" + sid + "\", \"status\": \"queued\"}")));
        try {
            String unique = "early" + newTicketId();
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            String key = Samples.paymentFailedKey(unique);
            await().atMost(Duration.ofSeconds(30)).until(() -> !infra.providers().findAll(postRequestedFor(
                    urlPathMatching("/2010-04-01/Accounts/[^/]+/Messages.json")).withRequestBody(containing(phone.substring(1)))).isEmpty());

            assertThat(postSmsStatus(form("MessageSid", sid, "MessageStatus", "sent", "To", phone), null).body()).contains("UNMATCHED");
            assertThat(postSmsStatus(form("MessageSid", sid, "MessageStatus", "undelivered", "ErrorCode", "30006", "To", phone), null).body())
                    .contains("UNMATCHED");
            assertThat(delivery(key, "sms")).as("the provider has not answered yet").containsEntry("state", "SENDING");

            // Once the answer is recorded, the callbacks are applied in the order they came.
            await().atMost(Duration.ofSeconds(30)).until(() -> "UNDELIVERED".equals(delivery(key, "sms").get("state")));
            Map<String, Object> sms = delivery(key, "sms");
            assertThat(sms).containsEntry("provider_message_id", sid)
                    .containsEntry("reason", "SMS not delivered: the number is a landline or cannot receive SMS (carrier error 30006)");
            assertThat(jdbc.queryForList("SELECT status, outcome, delivery_id FROM delivery_receipt WHERE provider_message_id = ? ORDER BY id", sid))
                    .containsExactly(Map.of("status", "sent", "outcome", "KEPT", "delivery_id", sms.get("id")),
                            Map.of("status", "undelivered", "outcome", "APPLIED", "delivery_id", sms.get("id")));
            assertThat(jdbc.queryForList("SELECT outcome FROM delivery_attempt WHERE delivery_id = ? ORDER BY id", String.class, sms.get("id")))
                    .endsWith("SENT", "SENT", "UNDELIVERED");
            // The landline is suppressed as if the callback had come after the send: the next SMS to it is not sent.
            assertThat(jdbc.queryForList("SELECT address_masked, reason FROM suppression WHERE lifted_at IS NULL AND receipt_id ="
                    + " (SELECT id FROM delivery_receipt WHERE provider_message_id = ? AND status = 'undelivered')", sid))
                    .containsExactly(Map.of("address_masked", io.herald.logging.Masking.phone(phone),
                            "reason", "the number is a landline or cannot receive SMS (carrier error 30006)"));
            assertThat(jdbc.queryForList("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = ? AND suppress_address_hash IS NOT NULL",
                    Long.class, sid)).containsExactly(0L);
        } finally {
            infra.providers().removeStub(slow);
        }
        Sent next = notify(customer, "early-next", "SENT", "SKIPPED");
        assertThat(delivery(next.key(), "sms").get("reason").toString()).contains("is suppressed since");
    }

    /**
     * An SMS whose provider answer was lost (the call cut off by the response timeout, or by a crash) is UNCERTAIN and has no
     * message id, so Twilio's callbacks for it stayed UNMATCHED and an operator had to find out by hand whether it went out.
     * The callback URL Herald gives names the delivery (?ref=, covered by Twilio's signature over the whole URL): the callback
     * settles it. One that comes while the SMS is still SENDING is applied once it is UNCERTAIN; a ref added to a signed URL
     * fails the signature; a ref naming a delivery with a message id of its own changes nothing.
     */
    @Test
    void callbacksForAnSmsWhoseAnswerWasLostSettleItThroughTheDeliveryTheirUrlNames() throws Exception {
        DeliveryLedger.Claim lost = claimSms("lost");
        assertThat(ledger.uncertain(lost, "sms outcome unknown: provider did not answer within the response timeout")).isTrue();
        String sid = "SMlost" + newTicketId();
        HttpResponse<String> delivered = postSmsStatus("?ref=" + lost.deliveryId(),
                form("MessageSid", sid, "MessageStatus", "delivered", "To", "+15550001111"), null);
        assertThat(delivered.statusCode()).isEqualTo(200);
        assertThat(delivered.body()).contains("APPLIED");
        assertThat(jdbc.queryForMap("SELECT state, provider_message_id, reason FROM delivery WHERE id = ?", lost.deliveryId()))
                .containsEntry("state", "DELIVERED").containsEntry("provider_message_id", sid)
                .containsEntry("reason", "the carrier reported the SMS delivered to the handset");
        assertThat(jdbc.queryForList("SELECT outcome, reason FROM delivery_attempt WHERE delivery_id = ? ORDER BY id", lost.deliveryId()))
                .extracting(a -> a.get("outcome") + ": " + a.get("reason")).containsExactly(
                        "UNCERTAIN: sms outcome unknown: provider did not answer within the response timeout",
                        "SENT: sent: the sms provider's own report names this message (" + sid + "); its answer to Herald's call had been lost",
                        "DELIVERED: the carrier reported the SMS delivered to the handset");

        // A callback while the call is still out (its answer later lost): kept, and applied once the SMS is UNCERTAIN.
        DeliveryLedger.Claim sending = claimSms("sending");
        String early = "SMearlyref" + newTicketId();
        assertThat(postSmsStatus("?ref=" + sending.deliveryId(), form("MessageSid", early, "MessageStatus", "sent"), null).body())
                .contains("UNMATCHED");
        assertThat(ledger.uncertain(sending, "sms outcome unknown: the call was cut off")).isTrue();
        earlyReceipts.run();   // or the early-receipts route's own run, which may hold the receipt meanwhile
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(jdbc.queryForMap(
                "SELECT state, provider_message_id FROM delivery WHERE id = ?", sending.deliveryId()))
                .containsEntry("state", "SENT").containsEntry("provider_message_id", early));
        assertThat(jdbc.queryForList("SELECT outcome, delivery_id, sent_for FROM delivery_receipt WHERE provider_message_id = ?", early))
                .containsExactly(row("KEPT", sending.deliveryId()));

        // The ref is part of what Twilio signs: one added to a URL signed without it is refused.
        DeliveryLedger.Claim other = claimSms("forged");
        assertThat(ledger.uncertain(other, "sms outcome unknown: the call was cut off")).isTrue();
        String forged = form("MessageSid", "SMforged" + newTicketId(), "MessageStatus", "delivered");
        assertThat(post("/webhooks/sms/status?ref=" + other.deliveryId(), "application/x-www-form-urlencoded",
                forged.getBytes(StandardCharsets.UTF_8), Map.of("X-Twilio-Signature", twilioSignature(url(), forged))).statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, other.deliveryId())).isEqualTo("UNCERTAIN");

        // A delivery with a message id of its own does not take another one's report.
        Sent sent = sendPaymentFailed("refsent");
        long smsId = ((Number) delivery(sent.key(), "sms").get("id")).longValue();
        String stranger = "SMstranger" + newTicketId();
        assertThat(postSmsStatus("?ref=" + smsId, form("MessageSid", stranger, "MessageStatus", "undelivered", "ErrorCode", "30005"), null)
                .body()).contains("UNMATCHED");
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "SENT").containsEntry("provider_message_id", sent.sms());
    }

    private static Map<String, Object> row(String outcome, long deliveryId) {
        Map<String, Object> row = new java.util.HashMap<>();
        row.put("outcome", outcome);
        row.put("delivery_id", deliveryId);
        row.put("sent_for", null);
        return row;
    }

    /** An SMS delivery of a notification of its own, claimed for sending (SENDING), as a sender holds it while the call is out. */
    private DeliveryLedger.Claim claimSms(String label) {
        long notificationId = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_ref', 'ROUTED', '{}'::jsonb) RETURNING id""",
                Long.class, "test:sms-ref:" + label + newTicketId(), "evt_ref_" + label);
        return ledger.claimForSending(notificationId, "sms", "+1555…1111", null, "Your payment did not go through.").orElseThrow();
    }

    /**
     * An operator resends an SMS the customer had (SENT), and the carrier reports the resend undelivered: the delivery keeps
     * its own message id and state, so the receipt used to be kept UNMATCHED, the dead number never suppressed.
     */
    @Test
    void aReceiptForAnOperatorsResendOfAReceivedSmsIsKeptWithItsDeliveryAndSuppressesADeadNumber() throws Exception {
        Sent sent = sendPaymentFailed("rsnd");
        Map<String, Object> before = delivery(sent.key(), "sms");
        long smsId = ((Number) before.get("id")).longValue();
        HttpResponse<String> resent = apiAs(OPERATOR, "POST", "/api/deliveries/" + smsId + "/resend",
                "{\"confirm\": true, \"comment\": \"customer lost the first text\"}");
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        long resendId = JSON.readTree(resent.body()).get("resendId").asLong();
        String resendSid = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT provider_message_id FROM delivery_resend WHERE id = ?", String.class, resendId), java.util.Objects::nonNull);
        assertThat(resendSid).isNotEqualTo(sent.sms());

        HttpResponse<String> answer = postSmsStatus(form("MessageSid", resendSid, "MessageStatus", "undelivered", "ErrorCode", "30005",
                "To", sent.phone()), null);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).contains("KEPT");
        String reason = "resend " + resendId + ": SMS not delivered: the number is unknown or no longer exists (carrier error 30005)";
        assertThat(jdbc.queryForList("SELECT delivery_id, outcome, reason FROM delivery_receipt WHERE provider_message_id = ?", resendSid))
                .containsExactly(Map.of("delivery_id", smsId, "outcome", "KEPT", "reason", reason));
        // The delivery's own message was received: its record stays as it was; the timeline says what became of the resend.
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "SENT").containsEntry("provider_message_id", sent.sms());
        assertThat(jdbc.queryForList("SELECT outcome, reason FROM delivery_attempt WHERE delivery_id = ? ORDER BY id DESC LIMIT 1", smsId))
                .containsExactly(Map.of("outcome", "RESEND_UNDELIVERED", "reason", reason));
        long notification = ((Number) before.get("notification_id")).longValue();
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body()).contains("RESEND_UNDELIVERED");
        // The number does not exist: suppressed, as for the delivery's own message.
        assertThat(jdbc.queryForList("SELECT address_masked FROM suppression WHERE lifted_at IS NULL AND receipt_id ="
                + " (SELECT id FROM delivery_receipt WHERE provider_message_id = ?)", String.class, resendSid))
                .containsExactly(io.herald.logging.Masking.phone(sent.phone()));
    }

    /** A NUL in the sid (PostgreSQL cannot take one) was a database error answered 503, which the provider retries for ever. */
    @Test
    void aCallbackWithANulInItsSidIsKeptUnmatchedNotRetriedForEver() throws Exception {
        String sid = "SM" + newTicketId();
        HttpResponse<String> answer = postSmsStatus(form("MessageSid", sid + "\u0000x", "MessageStatus", "delivered"), null);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT delivery_id, outcome FROM delivery_receipt WHERE provider_message_id = ?", sid + "x"))
                .hasSize(1).first().satisfies(row -> assertThat(row.get("outcome")).isEqualTo("UNMATCHED"));
    }

    /**
     * A NUL in what the provider says about a mail (SendGrid's reason or response) or an SMS (Twilio's ErrorCode) made PostgreSQL
     * refuse the whole transaction: answered 503, the batch sent again, the events after the bad one never recorded. Every
     * event of the batch is recorded; the bad one's reason is kept without the NUL, on the receipt, the delivery and its suppression.
     */
    @Test
    void aNulInAProvidersReasonIsCleanedAndTheEventsAroundItAreRecorded() throws Exception {
        // An address of its own (the suppression list keeps addresses masked: another test's would share its masked form).
        String customer = "cus_rcpt_nulrsn" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Receipt Test', ?, ?)", customer,
                "b" + customer.substring(9) + "@nulreason.example.org", "+1554" + String.format("%07d", Math.abs(customer.hashCode()) % 10_000_000));
        Sent first = notify(customer, "nulrsn", "SENT");
        Sent second = sendPaymentFailed("nulrsn2");
        String firstId = awaitMailFor(first.key()).getMessageID();
        String secondId = awaitMailFor(second.key()).getMessageID();
        String events = "[{\"email\": \"" + first.email() + "\", \"timestamp\": 1763720000, \"smtp-id\": \"" + firstId + "\","
                + " \"event\": \"deferred\", \"response\": \"451 try later\", \"sg_event_id\": \"nul-a-" + first.key() + "\"},"
                + " {\"email\": \"" + first.email() + "\", \"timestamp\": 1763720060, \"smtp-id\": \"" + firstId + "\","
                + " \"event\": \"bounce\", \"type\": \"bounce\", \"reason\": \"550 mailbox\\u0000 unavailable\","
                + " \"sg_event_id\": \"nul-b-" + first.key() + "\"},"
                + " {\"email\": \"" + second.email() + "\", \"timestamp\": 1763720120, \"smtp-id\": \"" + secondId + "\","
                + " \"event\": \"delivered\", \"response\": \"250 OK\", \"sg_event_id\": \"nul-c-" + first.key() + "\"}]";
        HttpResponse<String> answer = postEmailEvents(events, DEMO_PRIVATE_KEY);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT provider_event_id FROM delivery_receipt WHERE provider_event_id LIKE ? ORDER BY provider_event_id",
                String.class, "nul-_-" + first.key())).containsExactly("nul-a-" + first.key(), "nul-b-" + first.key(), "nul-c-" + first.key());
        String bounced = "the email bounced: the customer's mail server says the address cannot receive mail (550 mailbox unavailable);"
                + " update the customer's email address";
        assertThat(delivery(first.key(), "email")).containsEntry("state", "BOUNCED").containsEntry("reason", bounced);
        assertThat(attempts(first.key(), "email")).extracting(row -> row.get("reason")).contains(bounced);
        assertThat(jdbc.queryForObject("SELECT reason FROM delivery_receipt WHERE provider_event_id = ?", String.class, "nul-b-" + first.key()))
                .isEqualTo(bounced);
        assertThat(jdbc.queryForList("SELECT reason FROM suppression WHERE lifted_at IS NULL AND address_hash = ?", String.class,
                Suppressions.hash("email", first.email()))).containsExactly("hard bounce: 550 mailbox unavailable");
        assertThat(delivery(second.key(), "email")).containsEntry("state", "DELIVERED");

        // Twilio: a NUL in ErrorCode.
        HttpResponse<String> sms = postSmsStatus(form("MessageSid", first.sms(), "MessageStatus", "undelivered", "ErrorCode", "99\u000099",
                "To", first.phone()), null);
        assertThat(sms.statusCode()).as(sms.body()).isEqualTo(200);
        assertThat(delivery(first.key(), "sms")).containsEntry("state", "UNDELIVERED")
                .containsEntry("reason", "SMS not delivered: the carrier reported error 9999");
    }

    /**
     * A failure that is not an outage (here PostgreSQL refusing a value, as one too long for its column is refused) would fail
     * the same way every time: answered 500 in words, never 503 "retry" (and never blamed on the event broker, which these
     * webhooks do not use), the request kept whole for an operator. A real outage (the database's disk full) is 503 naming the database.
     */
    @Test
    void aFailureThatWouldRepeatIsAnswered500AndKeptAndADatabaseOutageIs503NamingIt() throws Exception {
        String run = newTicketId();
        String failing = "SMfail" + run;
        String outage = "<outage-" + run + "@herald>";
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String trigger = "herald_test_refuse_" + run;
        jdbc.execute("CREATE FUNCTION " + trigger + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.provider_message_id = '" + failing + "' THEN"
                + "   RAISE EXCEPTION 'value too long for type character varying(40)' USING ERRCODE = '22001'; END IF;"
                + " IF NEW.provider_message_id = '" + outage + "' THEN"
                + "   RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END IF;"
                + " RETURN NEW; END $$");
        jdbc.execute("CREATE TRIGGER " + trigger + " BEFORE INSERT ON delivery_receipt FOR EACH ROW EXECUTE FUNCTION " + trigger + "()");
        HttpResponse<String> failed;
        HttpResponse<String> down;
        try {
            failed = postSmsStatus(form("MessageSid", failing, "MessageStatus", "delivered"), null);
            down = postEmailEvents("[{\"email\": \"x" + run + "@outage.example.org\", \"smtp-id\": \"" + outage + "\","
                    + " \"event\": \"delivered\", \"sg_event_id\": \"outage-" + run + "\"}]", DEMO_PRIVATE_KEY);
        } finally {
            jdbc.execute("DROP TRIGGER " + trigger + " ON delivery_receipt");
            jdbc.execute("DROP FUNCTION " + trigger + "()");
        }
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);
        assertThat(failed.body()).startsWith("{\"status\":\"failed\"").contains("fails the same way", "reference ")
                .doesNotContain("varying", "22001", "Exception", "broker");
        assertThat(down.statusCode()).as(down.body()).isEqualTo(503);
        assertThat(down.body()).startsWith("{\"status\":\"retry\"").contains("database", "please retry later")
                .doesNotContain("No space", "broker");
        assertThat(jdbc.queryForList("SELECT source, http_status, reason, body_excerpt FROM inbound_rejection WHERE id > ?"
                + " AND (body_excerpt LIKE ? OR body_excerpt LIKE ?) ORDER BY id", before, "%" + failing + "%", "%" + outage + "%"))
                .satisfiesExactly(row -> {
                    assertThat(row).containsEntry("source", "sms-status").containsEntry("http_status", 500)
                            .containsEntry("body_excerpt", form("MessageSid", failing, "MessageStatus", "delivered"));
                    assertThat((String) row.get("reason")).isEqualTo(JSON.readTree(failed.body()).get("reason").asText());
                }, row -> {
                    assertThat(row).containsEntry("source", "email-events").containsEntry("http_status", 503);
                    assertThat((String) row.get("reason")).isEqualTo(JSON.readTree(down.body()).get("reason").asText());
                });
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id IN (?, ?)", Integer.class,
                failing, outage)).isZero();
    }

    @Test
    void aForgedOrUnsignedCallbackIsRefusedWith401AndRecorded() throws Exception {
        Sent sent = sendPaymentFailed("forged");
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String body = form("MessageSid", sent.sms(), "MessageStatus", "undelivered", "ErrorCode", "21610");
        String forged = Base64.getEncoder().encodeToString(hmacSha1("not-the-token", url() + "MessageSid" + sent.sms()));
        assertThat(postSmsStatus(body, forged).statusCode()).isEqualTo(401);
        assertThat(postSmsStatus(body, "").statusCode()).isEqualTo(401);
        assertThat(delivery(sent.key(), "sms")).containsEntry("state", "SENT");
        assertThat(jdbc.queryForList("SELECT source, http_status, reason FROM inbound_rejection WHERE id > ? ORDER BY id", before))
                .extracting(row -> row.get("source") + " " + row.get("http_status") + " " + row.get("reason"))
                .containsExactly("sms-status 401 signature does not match (wrong auth token herald.sms.auth-token, the body was altered,"
                                + " or the URL Twilio signed differs from " + url() + ": set herald.sms.webhook-base-url to Herald's public address)",
                        "sms-status 401 missing X-Twilio-Signature header");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = ?", Integer.class, sent.sms())).isZero();
    }

    /**
     * A customer whose bounced address was suppressed and lifted with a comment naming the address is erased. The proof of
     * delivery of their bounced notification (kept after the erasure) still listed the suppression with the bounce's words and
     * the lift comment quoting their address, and the audit trail's LIFT entry kept it too: the erasure read neither. Now both
     * read "(erased)" there; the suppression itself stays, masked, as the list of addresses not sent to.
     */
    @Test
    void anErasureTakesTheCustomersAddressOutOfTheirSuppressionsWords() throws Exception {
        Sent sent = sendPaymentFailed("ers");
        String messageId = awaitMailFor(sent.key()).getMessageID();
        String bounce = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720042, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"bounce\", \"type\": \"bounce\", \"status\": \"5.1.1\", \"reason\": \"550 5.1.1 <" + sent.email()
                + ">: Recipient address rejected\", \"sg_event_id\": \"ers-" + sent.key() + "\"}]";
        assertThat(postEmailEvents(bounce, DEMO_PRIVATE_KEY).statusCode()).isEqualTo(200);
        long bounced = ((Number) delivery(sent.key(), "email").get("notification_id")).longValue();
        long suppression = await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForList("SELECT s.id FROM suppression s"
                + " JOIN delivery_receipt r ON r.id = s.receipt_id JOIN delivery d ON d.id = r.delivery_id WHERE d.notification_id = ?",
                Long.class, bounced), ids -> ids.size() == 1).get(0);
        String why = "mailbox restored, confirmed by phone with " + sent.email();
        assertThat(apiAs(ADMIN, "POST", "/api/suppressions/" + suppression + "/lift", "{\"comment\": \"" + why + "\"}").statusCode())
                .isEqualTo(200);

        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + sent.customer() + "?comment=request", null).statusCode()).isEqualTo(200);

        String local = sent.email().substring(0, sent.email().indexOf('@'));
        JsonNode listed = JSON.readTree(apiAs(ADMIN, "GET", "/api/notifications/" + bounced + "/proof", null).body()).path("suppressions");
        assertThat(listed).hasSize(1);
        assertThat(listed.get(0).path("liftComment").asText()).isEqualTo("mailbox restored, confirmed by phone with (erased)");
        assertThat(listed.get(0).path("reason").asText()).startsWith("hard bounce: 5.1.1").doesNotContain(local, "@receipts.example.net");
        assertThat(jdbc.queryForObject("SELECT comment FROM operator_action WHERE target = 'suppression' AND target_id = ? AND action = 'LIFT'",
                String.class, suppression)).isEqualTo("mailbox restored, confirmed by phone with (erased)");
    }

    @Test
    void aSendGridBounceMakesTheMailBouncedAndSuppressesTheAddressUntilAnAdminLiftsIt() throws Exception {
        Sent sent = sendPaymentFailed("bnc");
        MimeMessage mail = awaitMailFor(sent.key());
        String messageId = mail.getMessageID();
        assertThat(messageId).matches("<\\d+\\.[0-9a-f]{32}@herald\\.local>").isEqualTo(delivery(sent.key(), "email").get("provider_message_id"));

        String bounce = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720042, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"bounce\", \"type\": \"bounce\", \"status\": \"5.1.1\", \"reason\": \"550 5.1.1 The email account that"
                + " you tried to reach does not exist\", \"sg_event_id\": \"bnc-" + sent.key() + "\", \"sg_message_id\": \"14c5d75ce93.dfd.1\"}]";
        assertThat(postEmailEvents(bounce, DEMO_PRIVATE_KEY).statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "email")).containsEntry("state", "BOUNCED").containsEntry("reason",
                "the email bounced: the customer's mail server says the address cannot receive mail (5.1.1 550 5.1.1 The email account"
                        + " that you tried to reach does not exist); update the customer's email address");

        // The next notification to that address: the email is SKIPPED with the reason, never handed to the SMTP server; the SMS goes out.
        String masked = io.herald.logging.Masking.email(sent.email());
        Sent next = notify(sent.customer(), "bnc2", "SKIPPED");
        assertThat((String) delivery(next.key(), "email").get("reason"))
                .matches("address " + java.util.regex.Pattern.quote(masked) + " is suppressed since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC:"
                        + " hard bounce: 5\\.1\\.1 550 5\\.1\\.1 The email account that you tried to reach does not exist"
                        + " \\(an operator can lift it under Suppressions\\)");
        assertThat(mailsFor(next.key())).isEmpty();
        assertThat(delivery(next.key(), "sms")).containsEntry("state", "SENT");
        String page = apiAs(ADMIN, "GET", "/console/suppressions", null).body();
        assertThat(page).contains(masked, "hard bounce: 5.1.1 550 5.1.1").contains("/console/suppressions/").doesNotContain(sent.email());
        assertThat(apiAs(VIEWER, "GET", "/console/suppressions", null).body()).contains(masked).doesNotContain("/lift\"");

        // An operator sees it; only an admin lifts it, with a comment, audited; then the next mail is sent.
        JsonNode list = JSON.readTree(api("GET", "/api/suppressions").body());
        JsonNode entry = java.util.stream.StreamSupport.stream(list.spliterator(), false)
                .filter(e -> masked.equals(e.get("addressMasked").asText())).findFirst().orElseThrow();
        assertThat(entry.get("channel").asText()).isEqualTo("email");
        long id = entry.get("id").asLong();
        assertThat(apiAs(OPERATOR, "POST", "/api/suppressions/" + id + "/lift", "{\"comment\": \"fixed\"}").statusCode()).isEqualTo(403);
        assertThat(apiAs(ADMIN, "POST", "/api/suppressions/" + id + "/lift", "{}").statusCode()).isEqualTo(400);
        String why = "mailbox restored, confirmed by phone with " + sent.email();
        HttpResponse<String> lifted = apiAs(ADMIN, "POST", "/api/suppressions/" + id + "/lift", "{\"comment\": \"" + why + "\"}");
        assertThat(lifted.statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT actor, action, comment FROM operator_action WHERE target = 'suppression' AND target_id = ?", id))
                .containsExactly(Map.of("actor", "admin", "action", "LIFT", "comment", why));
        // The list keeps addresses masked only, for everyone: so it shows a comment that names one.
        assertThat(apiAs(VIEWER, "GET", "/console/suppressions", null).body()).contains("mailbox restored, confirmed by phone with " + masked)
                .doesNotContain(sent.email());
        assertThat(api("GET", "/api/suppressions?includeLifted=true").body()).contains("confirmed by phone with " + masked)
                .doesNotContain(sent.email());
        // The bounced notification's proof of delivery lists the suppression its bounce put in place, and its lifting, as the
        // timeline does; masked for a viewer as the rest of the proof (it was in the timeline only).
        long bounced = ((Number) delivery(sent.key(), "email").get("notification_id")).longValue();
        JsonNode suppression = JSON.readTree(api("GET", "/api/notifications/" + bounced + "/proof").body()).path("suppressions");
        assertThat(suppression).hasSize(1);
        assertThat(suppression.get(0).path("channel").asText()).isEqualTo("email");
        assertThat(suppression.get(0).path("address").asText()).isEqualTo(masked);
        assertThat(suppression.get(0).path("reason").asText()).startsWith("hard bounce: 5.1.1 550 5.1.1 The email account");
        assertThat(suppression.get(0).path("since").asText()).isNotBlank();
        assertThat(suppression.get(0).path("liftedBy").asText()).isEqualTo("admin");
        assertThat(suppression.get(0).path("liftComment").asText()).startsWith("mailbox restored, confirmed by phone with ");
        assertThat(apiAs(VIEWER, "GET", "/api/notifications/" + bounced + "/proof", null).body())
                .contains("\"suppressions\":[{", masked, "hard bounce: 5.1.1").doesNotContain(sent.email());
        assertThat(apiAs(VIEWER, "GET", "/console/notifications/" + bounced + "/proof", null).body())
                .contains("Addresses suppressed", masked, "hard bounce: 5.1.1 550 5.1.1", "mailbox restored, confirmed by phone with")
                .doesNotContain(sent.email());
        Sent after = notify(sent.customer(), "bnc3", "SENT");
        assertThat(awaitMailFor(after.key()).getAllRecipients()[0].toString()).isEqualTo(sent.email());
    }

    @Test
    void emailEventsAreMatchedByMessageIdDeferredIsOnlyAnAttemptAndAReplayChangesNothing() throws Exception {
        Sent sent = sendPaymentFailed("evt");
        String messageId = awaitMailFor(sent.key()).getMessageID();
        String events = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720000, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"deferred\", \"response\": \"451 4.7.1 try again later\", \"sg_event_id\": \"def-" + sent.key() + "\"},"
                + " {\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720060, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"delivered\", \"response\": \"250 OK\", \"sg_event_id\": \"dlv-" + sent.key() + "\"}]";
        HttpResponse<String> answer = postEmailEvents(events, DEMO_PRIVATE_KEY);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "email")).containsEntry("state", "DELIVERED")
                .containsEntry("reason", "the customer's mail server accepted the email (250 OK)");
        assertThat(attempts(sent.key(), "email")).extracting(row -> row.get("outcome") + ": " + row.get("reason")).contains(
                "DEFERRED: the customer's mail server deferred the email; the email provider keeps trying (451 4.7.1 try again later)",
                "DELIVERED: the customer's mail server accepted the email (250 OK)");

        // SendGrid retries the same batch: every event is kept once.
        HttpResponse<String> replay = postEmailEvents(events, DEMO_PRIVATE_KEY);
        assertThat(replay.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(replay.body()).get("DUPLICATE").asInt()).isEqualTo(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = ?", Integer.class, messageId)).isEqualTo(2);
        // And a retry in another month: the receipts are partitioned by month (V43), and the retry still finds the events
        // kept (here moved 40 days back, out of the month's partition they were received in: read from the rows, not from
        // today's month, which past midnight at a month's end is no longer theirs).
        List<String> receivedIn = jdbc.queryForList("SELECT DISTINCT CAST(tableoid AS regclass)::text FROM delivery_receipt"
                + " WHERE provider_message_id = ?", String.class, messageId);
        assertThat(receivedIn).hasSize(1).allMatch(partition -> partition.startsWith("delivery_receipt_p"), "a monthly partition");
        jdbc.update("UPDATE delivery_receipt SET received_at = received_at - interval '40 days' WHERE provider_message_id = ?", messageId);
        assertThat(jdbc.queryForList("SELECT DISTINCT CAST(tableoid AS regclass)::text FROM delivery_receipt WHERE provider_message_id = ?",
                String.class, messageId)).doesNotContainAnyElementsOf(receivedIn);
        assertThat(JSON.readTree(postEmailEvents(events, DEMO_PRIVATE_KEY).body()).get("DUPLICATE").asInt()).isEqualTo(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = ?", Integer.class, messageId)).isEqualTo(2);

        // A spam report after delivery: COMPLAINED, and the address is suppressed.
        String spam = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720900, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"spamreport\", \"sg_event_id\": \"spm-" + sent.key() + "\"}]";
        assertThat(postEmailEvents(spam, DEMO_PRIVATE_KEY).statusCode()).isEqualTo(200);
        assertThat(delivery(sent.key(), "email")).containsEntry("state", "COMPLAINED")
                .containsEntry("reason", "the customer reported the email as spam; no more email is sent to this address");
        assertThat(jdbc.queryForList("SELECT reason FROM suppression WHERE lifted_at IS NULL AND address_hash = ?",
                Suppressions.hash("email", sent.email()))).containsExactly(Map.of("reason", "the customer reported an email as spam"));
    }

    /**
     * SendGrid's smtp-id does not reliably carry the mail's own Message-ID (it may be one SendGrid made): the unique arg Herald
     * set, which comes back on every event, is read first, so a delivered event with SendGrid's own smtp-id settles the mail.
     */
    @Test
    void anEventWhoseSmtpIdIsSendGridsOwnIsMatchedByTheUniqueArg() throws Exception {
        Sent sent = sendPaymentFailed("sgid");
        String messageId = awaitMailFor(sent.key()).getMessageID();
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(sent.key(), "email").get("state")));
        String delivered = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720900, \"event\": \"delivered\","
                + " \"smtp-id\": \"<14c5d75ce93.dfd.64b469@ismtpd-555>\", \"sg_event_id\": \"dlv-sg-" + sent.key() + "\","
                + " \"sg_message_id\": \"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0\", \"response\": \"250 OK\","
                + " \"herald_message_id\": \"" + messageId + "\"}]";
        HttpResponse<String> answer = postEmailEvents(delivered, DEMO_PRIVATE_KEY);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("APPLIED").asInt()).isEqualTo(1);
        assertThat(delivery(sent.key(), "email")).containsEntry("state", "DELIVERED");
    }

    /**
     * A mail carries SendGrid's SMTP API header with its Message-ID as a unique arg, which SendGrid puts on every event of
     * the mail: a spam report without smtp-id (as SendGrid sends it) is matched by it, and the delivery becomes COMPLAINED.
     */
    @Test
    void aSpamReportWithoutSmtpIdIsMatchedByTheUniqueArgTheMailCarries() throws Exception {
        Sent sent = sendPaymentFailed("uarg");
        jakarta.mail.internet.MimeMessage mail = awaitMailFor(sent.key());
        String messageId = mail.getMessageID();
        assertThat(mail.getHeader("X-SMTPAPI", null)).isEqualTo("{\"unique_args\": {\"herald_message_id\": \"" + messageId + "\"}}");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(sent.key(), "email").get("state")));

        String spam = "[{\"email\": \"" + sent.email() + "\", \"timestamp\": 1763720900, \"event\": \"spamreport\","
                + " \"sg_event_id\": \"spm-u-" + sent.key() + "\", \"sg_message_id\": \"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0\","
                + " \"herald_message_id\": \"" + messageId + "\"}]";
        HttpResponse<String> answer = postEmailEvents(spam, DEMO_PRIVATE_KEY);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("APPLIED").asInt()).isEqualTo(1);
        assertThat(delivery(sent.key(), "email")).containsEntry("state", "COMPLAINED")
                .containsEntry("reason", "the customer reported the email as spam; no more email is sent to this address");
    }

    /**
     * SendGrid sends spam reports and unsubscribes without the message's smtp-id (its event table lists smtp-id for delivery
     * events only): the signed event still names the address, which is suppressed, so the customer's next email is SKIPPED. A
     * mail dropped because the address is on the provider's own lists suppresses it too; a group unsubscribe (a SendGrid
     * group Herald does not use) is only kept.
     */
    @Test
    void aSpamReportOrUnsubscribeWithoutTheMessagesIdStillSuppressesTheAddress() throws Exception {
        String run = newTicketId();
        // Addresses of their own (masked, they share no form with another test's: the suppression list keeps them masked).
        String customer = "cus_rcpt_nosmtp" + run;
        String email = "zed" + run + "@nosmtp.example.org";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Receipt Test', ?, ?)", customer, email,
                "+1554" + String.format("%07d", Math.abs(customer.hashCode()) % 10_000_000));
        String dropped = "dropped" + run + "@nosmtp.example.org";
        String grouped = "grouped" + run + "@nosmtp.example.org";
        String unsubscribed = "unsub" + run + "@nosmtp.example.org";
        String events = "[{\"email\": \"" + email + "\", \"timestamp\": 1513299569, \"event\": \"spamreport\","
                + " \"sg_event_id\": \"spm-" + run + "\", \"sg_message_id\": \"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0\"},"
                + " {\"email\": \"" + unsubscribed + "\", \"timestamp\": 1513299569, \"event\": \"unsubscribe\", \"sg_event_id\": \"uns-" + run + "\"},"
                + " {\"email\": \"" + dropped + "\", \"timestamp\": 1513299569, \"event\": \"dropped\", \"reason\": \"Bounced Address\","
                + " \"sg_event_id\": \"drp-" + run + "\"},"
                + " {\"email\": \"" + grouped + "\", \"timestamp\": 1513299569, \"event\": \"group_unsubscribe\", \"asm_group_id\": 10,"
                + " \"sg_event_id\": \"grp-" + run + "\"},"
                + " {\"email\": \"" + email + "\", \"timestamp\": 1513299569, \"event\": \"open\", \"sg_event_id\": \"opn-" + run + "\"},"
                + " {\"email\": \"" + email + "\", \"timestamp\": 1513299569, \"event\": \"click\", \"url\": \"https://x.example\","
                + " \"sg_event_id\": \"clk-" + run + "\"}]";
        HttpResponse<String> answer = postEmailEvents(events, DEMO_PRIVATE_KEY);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("UNMATCHED").asInt()).isEqualTo(4);
        // Opens and clicks are counted in the answer, never kept.
        assertThat(JSON.readTree(answer.body()).get("IGNORED").asInt()).isEqualTo(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_event_id IN (?, ?)", Integer.class,
                "opn-" + run, "clk-" + run)).isZero();
        for (String address : java.util.List.of(email, unsubscribed, dropped)) {
            assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE channel = 'email' AND lifted_at IS NULL AND address_hash = ?",
                    Integer.class, Suppressions.hash("email", address))).as(address).isEqualTo(1);
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE address_hash = ?", Integer.class,
                Suppressions.hash("email", grouped))).isZero();
        assertThat((String) delivery(notify(customer, "after-spam", "SKIPPED").key(), "email").get("reason"))
                .contains("the customer reported an email as spam");
    }

    @Test
    void aProviderRetryRacingTheOriginalIsKeptOnce() throws Exception {
        // Two copies of each event recorded at the same moment (a provider retrying before the first answer came back):
        // with no unique index across the months, the event's advisory lock makes the second wait and find the first.
        String run = newTicketId();
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            for (int i = 0; i < 30; i++) {
                DeliveryReceipts.Receipt copy = new DeliveryReceipts.Receipt("email", "<race-" + run + "@herald>", "race-" + run + "-" + i,
                        "delivered", null, "DELIVERED", "the customer's mail server accepted the email (250 OK)", null, null);
                java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
                java.util.concurrent.Callable<String> record = () -> {
                    together.await();
                    return receipts.record(copy);
                };
                java.util.List<String> outcomes = new java.util.ArrayList<>();
                for (java.util.concurrent.Future<String> outcome : two.invokeAll(java.util.List.of(record, record))) {
                    outcomes.add(outcome.get());
                }
                assertThat(outcomes).as("event %d", i).containsExactlyInAnyOrder("UNMATCHED", "DUPLICATE");
            }
        } finally {
            two.shutdownNow();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = ?", Integer.class,
                "<race-" + run + "@herald>")).isEqualTo(30);
    }

    @Test
    void anEmailEventBatchSignedWithAnotherKeyIsRefusedWith401AndRecorded() throws Exception {
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        String otherKey = Base64.getEncoder().encodeToString(generator.generateKeyPair().getPrivate().getEncoded());
        String events = "[{\"smtp-id\": \"<1.abc@herald>\", \"event\": \"spamreport\", \"email\": \"x@example.org\"}]";
        assertThat(postEmailEvents(events, otherKey).statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForList("SELECT source, http_status, reason FROM inbound_rejection WHERE id > ? ORDER BY id", before))
                .extracting(row -> row.get("source") + " " + row.get("http_status") + " " + row.get("reason"))
                .containsExactly("email-events 401 signature does not match the body (wrong verification key"
                        + " herald.email-events.verification-key (HERALD_EMAIL_EVENTS_VERIFICATION_KEY), or the body was altered)");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE provider_message_id = '<1.abc@herald>'", Integer.class)).isZero();
    }

    @Test
    void aStopBySmsSkipsTheNextSmsAndStartSendsAgain() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        Sent sent = sendPaymentFailed("stop");
        String inbound = "http://localhost:" + port + "/webhooks/sms/inbound";
        String stop = form("MessageSid", "SMin" + newTicketId(), "From", sent.phone(), "To", "+15005550006", "Body", " stop ");
        HttpResponse<String> answer = post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", stop.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(inbound, stop)));
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(answer.body()).contains("<Response/>");

        Sent next = notify(sent.customer(), "stop2", "SENT", "SKIPPED");
        String reason = (String) delivery(next.key(), "sms").get("reason");
        assertThat(reason).contains("is suppressed since");
        assertThat(UtcDays.texts(started, ": customer opted out of SMS by replying STOP on ", " (an operator can lift it under Suppressions)"))
                .anySatisfy(end -> assertThat(reason).endsWith(end));
        assertThat(awaitMailFor(next.key())).isNotNull();   // the email still goes out

        String start = form("MessageSid", "SMin" + newTicketId(), "From", sent.phone(), "Body", "START");
        assertThat(post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", start.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(inbound, start))).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT a.actor, a.comment FROM operator_action a JOIN suppression s ON s.id = a.target_id"
                + " WHERE a.target = 'suppression' AND s.address_masked = ?", io.herald.logging.Masking.phone(sent.phone())))
                .containsExactly(Map.of("actor", "customer by SMS", "comment", "the customer replied START by SMS"));
        notify(sent.customer(), "stop3", "SENT", "SENT");
    }

    @Test
    void malformedReceiptsAreRefusedWithAReasonAndABadVerificationKeyStopsStartupNamingTheSetting() throws Exception {
        String body = "{\"MessageSid\": \"SM1\", \"MessageStatus\": \"delivered\"}";
        HttpResponse<String> json = post("/webhooks/sms/status", "application/json", body.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(url(), "a=b")));
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(json.body()).contains("expected application/x-www-form-urlencoded");
        assertThat(postSmsStatus(form("MessageStatus", "delivered"), null).statusCode()).isEqualTo(400);

        HttpResponse<String> notAnArray = postEmailEvents("{\"event\": \"delivered\"}", DEMO_PRIVATE_KEY);
        assertThat(notAnArray.statusCode()).isEqualTo(400);
        assertThat(notAnArray.body()).contains("not a JSON array");

        assertThatThrownBy(() -> EmailEvents.publicKey("paste-the-sendgrid-verification-key"))
                .hasMessageStartingWith("herald.email-events.verification-key (HERALD_EMAIL_EVENTS_VERIFICATION_KEY) is not an ECDSA public key");
    }

    record Sent(String key, String sms, String customer, String phone, String email) {
    }

    /** A payment-failed event for a customer of its own (so suppressing its addresses touches no other test); once SMS and email are SENT. */
    private Sent sendPaymentFailed(String label) throws Exception {
        String customer = "cus_rcpt_" + label + newTicketId();
        String phone = "+1555" + String.format("%07d", Math.abs(customer.hashCode()) % 10_000_000);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Receipt Test', ?, ?)",
                customer, customer.replace('_', '.') + "@receipts.example.net", phone);
        return notify(customer, label, "SENT");
    }

    /** A payment-failed event for this customer, once its SMS is SENT and its email in {@code emailState}. */
    private Sent notify(String customer, String label, String emailState) throws Exception {
        return notify(customer, label, emailState, "SENT");
    }

    private Sent notify(String customer, String label, String emailState, String smsState) throws Exception {
        String unique = label + newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        String key = Samples.paymentFailedKey(unique);
        await().atMost(Duration.ofSeconds(30)).until(() -> smsState.equals(delivery(key, "sms").get("state"))
                && emailState.equals(delivery(key, "email").get("state")));
        Map<String, Object> row = jdbc.queryForMap("SELECT email, phone FROM customer WHERE customer_id = ?", customer);
        return new Sent(key, (String) delivery(key, "sms").get("provider_message_id"), customer, (String) row.get("phone"), (String) row.get("email"));
    }

    /**
     * A signed batch captured and posted again days later is refused: the timestamp is signed but was never checked, and
     * events without sg_event_id (never de-duplicated) were applied again.
     */
    @Test
    void anEmailEventBatchSignedDaysAgoIsRefusedAsAReplay() throws Exception {
        String body = "[{\"email\": \"zed.replayed@replay.example.org\", \"event\": \"spamreport\", \"timestamp\": 1700000000}]";
        HttpResponse<String> replayed = postEmailEvents(body, DEMO_PRIVATE_KEY,
                String.valueOf(java.time.Instant.now().minus(java.time.Duration.ofDays(4)).getEpochSecond()));
        assertThat(replayed.statusCode()).isEqualTo(401);
        assertThat(replayed.body()).contains("not within the last 3 days: a replayed request, refused");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE address_masked LIKE '%@replay.example.org'", Long.class))
                .isZero();
        // A day old (a SendGrid retry, perhaps signed as first sent) is taken.
        assertThat(postEmailEvents(body.replace("zed.replayed@", "zed.retried@"), DEMO_PRIVATE_KEY,
                String.valueOf(java.time.Instant.now().minus(java.time.Duration.ofDays(1)).getEpochSecond())).statusCode()).isEqualTo(200);
    }

    /** Posts an event batch signed as SendGrid signs it: ECDSA P-256 (SHA-256) over timestamp + body, base64 DER. */
    private HttpResponse<String> postEmailEvents(String body, String privateKeyBase64) throws Exception {
        return postEmailEvents(body, privateKeyBase64, String.valueOf(java.time.Instant.now().getEpochSecond()));
    }

    private HttpResponse<String> postEmailEvents(String body, String privateKeyBase64, String timestamp) throws Exception {
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(privateKeyBase64)));
        Signature ecdsa = Signature.getInstance("SHA256withECDSA");
        ecdsa.initSign(key);
        ecdsa.update((timestamp + body).getBytes(StandardCharsets.UTF_8));
        return post("/webhooks/email/events", "application/json", body.getBytes(StandardCharsets.UTF_8), Map.of(
                "X-Twilio-Email-Event-Webhook-Signature", Base64.getEncoder().encodeToString(ecdsa.sign()),
                "X-Twilio-Email-Event-Webhook-Timestamp", timestamp));
    }

    private String url() {
        return "http://localhost:" + port + "/webhooks/sms/status";
    }

    /** Posts a status callback signed as Twilio signs it (signature null), or with the signature given. */
    private HttpResponse<String> postSmsStatus(String body, String signature) throws Exception {
        return postSmsStatus("", body, signature);
    }

    /** The same, to the callback URL with {@code query} ("?ref=…", or ""), signed as Twilio signs the URL it was given. */
    private HttpResponse<String> postSmsStatus(String query, String body, String signature) throws Exception {
        Map<String, String> headers = new TreeMap<>();
        if (signature == null) {
            headers.put("X-Twilio-Signature", twilioSignature(url() + query, body));
        } else if (!signature.isEmpty()) {
            headers.put("X-Twilio-Signature", signature);
        }
        return post("/webhooks/sms/status" + query, "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** Twilio's algorithm: base64(HMAC-SHA1(auth token, URL + name1 + value1 + name2 + value2 ..., names sorted)). */
    static String twilioSignature(String url, String body) {
        Map<String, String> sorted = new TreeMap<>();
        for (String pair : body.split("&")) {
            String[] nameValue = pair.split("=", 2);
            sorted.put(java.net.URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8), java.net.URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8));
        }
        StringBuilder data = new StringBuilder(url);
        sorted.forEach((name, value) -> data.append(name).append(value));
        return Base64.getEncoder().encodeToString(hmacSha1(SMS_TOKEN, data.toString()));
    }

    static byte[] hmacSha1(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String form(String... namesAndValues) {
        StringBuilder form = new StringBuilder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            form.append(form.isEmpty() ? "" : "&").append(namesAndValues[i]).append('=')
                    .append(URLEncoder.encode(namesAndValues[i + 1], StandardCharsets.UTF_8));
        }
        return form.toString();
    }

}
