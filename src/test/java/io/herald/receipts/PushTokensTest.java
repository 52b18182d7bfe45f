package io.herald.receipts;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.Breakers;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Push tokens FCM no longer knows (issue 13 points 1 and 8): the push provider answers a token with FCM HTTP v1's own error
 * bodies; an agent's reply (support.agent_replied, first-success: push, then SMS, then email) shows what the customer and the
 * operator get.
 */
class PushTokensTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String PUSH_PATH = "/v1/projects/[^/]+/messages:send";

    /** FCM HTTP v1's answer for a token whose app instance is gone (uninstalled, expired). */
    private static final String UNREGISTERED = """
            {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":\
            "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}""";

    /** FCM HTTP v1's answer for a token that is no registration token at all (firebase.google.com/docs/cloud-messaging/error-codes). */
    private static final String INVALID_TOKEN = """
            {"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT",\
            "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}""";

    /** FCM HTTP v1's answer for a bad value elsewhere in the message (same page): nothing wrong with the token. */
    private static final String INVALID_DATA = """
            {"error":{"code":400,"message":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12","status":"INVALID_ARGUMENT",\
            "details":[{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.data[0].value",\
            "description":"Invalid value at 'message.data[0].value' (TYPE_STRING), 12"}]}]}}""";

    @Autowired
    CamelContext camel;

    /** Each test starts from closed breakers: a provider's 503s in an earlier test class of this JVM may have opened push's. */
    @BeforeEach
    void closedBreakers() {
        Breakers.resetAll(camel);
    }

    @Test
    void anUnregisteredTokenIsRemovedWithTheReasonAndTheSameDeliveryGoesOnToTheCustomersNextToken() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String customer = "cus_push_gone" + newTicketId();
        String dead = "dEaDt0k" + newTicketId() + "-registration-token-of-an-uninstalled-app";
        String live = "l1veT0k" + newTicketId() + "-registration-token-of-the-customers-tablet";
        String phone = "+4477009" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000);
        newCustomer(customer, phone, "[\"fcm:" + dead + "\", \"fcm:" + live + "\"]");
        StubMapping gone = answer(dead, 404, UNREGISTERED);
        try {
            String key = reply(customer);

            // The customer's tablet gets the push: the dead token is removed and the same delivery goes on to the next token,
            // so first-success needs neither the SMS nor the email.
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            String masked = dead.substring(0, 8) + "…";
            String today = UtcDays.dayNamedIn((String) rows.get("push").get("reason"), "sent to 1 device (push token "
                    + live.substring(0, 8) + "…); push token " + masked + " is no longer registered with the push provider (FCM UNREGISTERED):"
                    + " removed from the customer's directory entry on ", "", started);   // the texts below name the same date
            // The delivery names the token it was sent to (console, API), not the dead one.
            assertThat(jdbc.queryForObject("SELECT d.recipient_masked FROM delivery d JOIN notification n ON n.id = d.notification_id"
                    + " WHERE n.idempotency_key = ? AND d.channel = 'push'", String.class, key)).isEqualTo(live.substring(0, 8) + "…");
            assertThat(rows.get("sms")).containsEntry("state", "SKIPPED").containsEntry("reason", "not needed: already sent by push (strategy first-success)");
            assertThat(rows.get("email")).containsEntry("state", "SKIPPED").containsEntry("reason", "not needed: already sent by push (strategy first-success)");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms")))).isEmpty();
            assertThat(mailsFor(key)).isEmpty();
            // Each token was asked once: the dead one (refused, not retried) and the live one.
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(dead)))).hasSize(1);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(live)))).hasSize(1);
            assertThat(attempts(key, "push")).extracting(a -> a.get("outcome")).containsExactly("SENT");
            // FCM got the reply's priority (normal) in its own fields: android.priority NORMAL, APNs header apns-priority 5.
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(live))).get(0)
                    .getBodyAsString()).contains("\"android\":{\"priority\":\"NORMAL\"}", "\"apns\":{\"headers\":{\"apns-priority\":\"5\"}}");

            // The directory entry keeps the customer's other token only; the removal is kept as a receipt of the delivery.
            assertThat(tokens(customer)).isEqualTo("[\"fcm:" + live + "\"]");
            assertThat(jdbc.queryForList("SELECT r.provider_message_id, r.status, r.error_code, r.outcome, r.reason FROM delivery_receipt r"
                    + " JOIN delivery d ON d.id = r.delivery_id JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?", key))
                    .containsExactly(Map.of("provider_message_id", masked, "status", "UNREGISTERED", "error_code", "404", "outcome", "TOKEN_REMOVED",
                            "reason", "push token " + masked + " is no longer registered with the push provider (FCM UNREGISTERED): removed from"
                                    + " customer " + customer + "'s directory entry on " + today + "; later push messages go to the customer's"
                                    + " other devices, if any (the app registers a new token when opened)"));
            // The operator reads it in the notification's timeline; the full token is shown nowhere.
            long notification = ((Number) delivery(key, "push").get("notification_id")).longValue();
            String page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body();
            assertThat(page).contains("Push token removed", "is no longer registered with the push provider (FCM UNREGISTERED): removed"
                    + " from customer " + customer).doesNotContain(dead);

            // The next reply goes to the token that is left, by push, and the dead one is not asked again.
            String next = reply(customer);
            assertThat(awaitDeliveries(next).get("push")).containsEntry("state", "SENT");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(live)))).hasSize(2);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(dead)))).hasSize(1);
        } finally {
            infra.providers().removeStub(gone);
        }
    }

    /**
     * PostgreSQL turns away the write that names the next token on the delivery (a serialization failure, 40001: the error
     * handler tries the step again) right after the dead token was removed. The step tried again still goes on to the next
     * token, naming the dead one once: it used to take the next token for the dead one, remove it too and fail the push.
     */
    @Test
    void aDatabaseFailureWhileGoingOnToTheNextTokenIsTriedAgainWithoutRemovingThatToken() throws Exception {
        String customer = "cus_push_retry" + newTicketId();
        String dead = "dEaDr3t" + newTicketId() + "-registration-token-of-an-uninstalled-app";
        String live = "l1veR3t" + newTicketId() + "-registration-token-of-the-customers-phone";
        newCustomer(customer, "+4477006" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + dead + "\", \"fcm:" + live + "\"]");
        String cut = ("cut_readdress_" + customer).toLowerCase().replaceAll("[^a-z0-9_]", "_");
        jdbc.execute("CREATE SEQUENCE " + cut);
        jdbc.execute("CREATE FUNCTION " + cut + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('" + cut + "') = 1 THEN"
                + " RAISE EXCEPTION 'test: could not serialize access' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$");
        jdbc.execute("CREATE TRIGGER " + cut + " BEFORE UPDATE OF recipient_masked ON delivery FOR EACH ROW WHEN (NEW.customer_id = '"
                + customer + "' AND NEW.recipient_masked = '" + live.substring(0, 8) + "…' AND OLD.recipient_masked IS DISTINCT FROM"
                + " NEW.recipient_masked) EXECUTE FUNCTION " + cut + "()");
        StubMapping gone = answer(dead, 404, UNREGISTERED);
        try {
            String key = reply(customer);

            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(jdbc.queryForObject("SELECT is_called FROM " + cut, Boolean.class)).as("the write was turned away").isTrue();
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            String reason = (String) rows.get("push").get("reason");
            assertThat(reason).startsWith("sent to 1 device (push token " + live.substring(0, 8) + "…); push token "
                    + dead.substring(0, 8) + "…").doesNotContain(live.substring(0, 8) + "… is no longer");
            assertThat(reason.split(java.util.regex.Pattern.quote(dead.substring(0, 8)), -1)).as(reason).hasSize(2);
            assertThat(tokens(customer)).isEqualTo("[\"fcm:" + live + "\"]");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(live)))).hasSize(1);
        } finally {
            infra.providers().removeStub(gone);
            jdbc.execute("DROP TRIGGER IF EXISTS " + cut + " ON delivery");
            jdbc.execute("DROP FUNCTION IF EXISTS " + cut + "()");
            jdbc.execute("DROP SEQUENCE IF EXISTS " + cut);
        }
    }

    /**
     * The device that settles a push is written with the delivery's SENT record, in the group commit of SENT records of every
     * channel: a device row PostgreSQL refuses (here a check constraint the test adds) leaves the push SENT and the rest of
     * the notification settled as it would be; only that device row is missing.
     */
    @Test
    void aDeviceRowThatCannotBeWrittenDoesNotUndoTheSentRecords() throws Exception {
        String customer = "cus_push_row" + newTicketId();
        String token = "r0wFa1l" + newTicketId().substring(0, 1) + "-registration-token-whose-row-is-refused";
        String masked = token.substring(0, 8) + "…";
        newCustomer(customer, "+4477006" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000), "[\"fcm:" + token + "\"]");
        jdbc.execute("ALTER TABLE push_device_send ADD CONSTRAINT refuse_test_row CHECK (token_masked <> '" + masked + "') NOT VALID");
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            assertThat(rows.values()).noneMatch(row -> List.of("FAILED", "PARKED", "UNCERTAIN").contains(row.get("state")));
            assertThat(pushesTo(token)).hasSize(1);
            long push = ((Number) delivery(key, "push").get("id")).longValue();
            assertThat(jdbc.queryForObject("SELECT count(*) FROM push_device_send WHERE delivery_id = ?", Integer.class, push)).isZero();
        } finally {
            jdbc.execute("ALTER TABLE push_device_send DROP CONSTRAINT refuse_test_row");
        }
    }

    /**
     * A customer with a phone, a tablet and an old phone whose app is gone. The push reaches the phone and the tablet once each:
     * the old phone's token is removed and does not stop the others, and the tablet's first call, answered 503, is tried again
     * without the phone being pushed a second time. An operator's resend then reaches each live device once more, recorded per
     * device under the resend.
     */
    @Test
    void aPushReachesEveryDeviceOnceAndADeadTokenOrARetryDoesNotStopOrRepeatTheOthers() throws Exception {
        LocalDate started = UtcDays.today();
        String customer = "cus_push_all" + newTicketId();
        String phone = "ph0neT0k" + newTicketId() + "-registration-token-of-the-customers-phone";
        String old = "0ldPh0ne" + newTicketId() + "-registration-token-of-an-uninstalled-app";
        String tablet = "t4bletT0" + newTicketId() + "-registration-token-of-the-customers-tablet";
        newCustomer(customer, "+4477005" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + phone + "\", \"fcm:" + old + "\", \"fcm:" + tablet + "\"]");
        StubMapping gone = answer(old, 404, UNREGISTERED);
        // The tablet's first call is answered 503 (FCM busy); later calls get the sandbox's 200.
        StubMapping busy = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(tablet)).atPriority(1)
                .inScenario("busy-" + customer).whenScenarioStateIs(com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED)
                .willSetStateTo("answered").willReturn(aResponse().withStatus(503).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": {\"code\": 503, \"status\": \"UNAVAILABLE\"}}")));
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            String p = phone.substring(0, 8) + "…";
            String o = old.substring(0, 8) + "…";
            String t = tablet.substring(0, 8) + "…";
            assertThat((String) rows.get("push").get("reason")).isIn(UtcDays.texts(started, "sent to 2 devices (push tokens " + p + ", " + t
                    + "); push token " + o + " is no longer registered with the push provider (FCM UNREGISTERED): removed from the customer's"
                    + " directory entry on ", ""));
            assertThat(rows.get("sms")).containsEntry("state", "SKIPPED");
            // Each live device got the reply once; the tablet was asked twice (503, then accepted), the dead token once.
            assertThat(pushesTo(phone)).hasSize(1);
            assertThat(pushesTo(tablet)).hasSize(2);
            assertThat(pushesTo(old)).hasSize(1);
            // Each device has a key of its own (a provider honouring Idempotency-Key must not take the tablet for a repeat).
            assertThat(pushesTo(phone).get(0).getHeader("Idempotency-Key")).startsWith(key + ":push:")
                    .isNotEqualTo(pushesTo(tablet).get(0).getHeader("Idempotency-Key"));
            // The ledger says per device what happened, by masked token only.
            long push = ((Number) delivery(key, "push").get("id")).longValue();
            assertThat(jdbc.queryForList("SELECT token_masked, state, resend_id FROM push_device_send WHERE delivery_id = ? ORDER BY id", push))
                    .containsExactly(Map.of("token_masked", p, "state", "SENT", "resend_id", 0L),
                            Map.of("token_masked", o, "state", "TOKEN_REMOVED", "resend_id", 0L),
                            Map.of("token_masked", t, "state", "SENT", "resend_id", 0L));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM push_device_send WHERE delivery_id = ? AND (token_masked LIKE ? OR reason LIKE ?)",
                    Integer.class, push, "%" + phone + "%", "%" + old + "%")).isZero();
            assertThat(tokens(customer)).isEqualTo("[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
            long notification = ((Number) delivery(key, "push").get("notification_id")).longValue();
            assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body())
                    .contains("Push to device " + p, "Push to device " + t, "accepted by the push provider").doesNotContain(phone, tablet, old);

            // The CRM still lists the old phone (its contact change puts the token back): it is not called again.
            jdbc.update("UPDATE customer SET push_tokens = ?::jsonb WHERE customer_id = ?",
                    "[\"fcm:" + phone + "\", \"fcm:" + old + "\", \"fcm:" + tablet + "\"]", customer);

            // The customer lost the message: an operator's resend reaches each live device once more, recorded under the resend.
            HttpResponse<String> resent = apiAs(OPERATOR, "POST", "/api/deliveries/" + push + "/resend",
                    "{\"confirm\": true, \"comment\": \"customer cleared the notifications by mistake\"}");
            assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
            long resendId = new com.fasterxml.jackson.databind.ObjectMapper().readTree(resent.body()).get("resendId").asLong();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc.queryForObject(
                    "SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("SENT"));
            assertThat(pushesTo(phone)).hasSize(2);
            assertThat(pushesTo(tablet)).hasSize(3);
            assertThat(pushesTo(old)).hasSize(1);
            assertThat(jdbc.queryForList("SELECT token_masked, state FROM push_device_send WHERE delivery_id = ? AND resend_id = ? ORDER BY id",
                    push, resendId)).containsExactly(Map.of("token_masked", p, "state", "SENT"), Map.of("token_masked", t, "state", "SENT"));

            // Erased, the customer leaves no record of their devices.
            assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=request%20of%20the%20customer", null).statusCode())
                    .isEqualTo(200);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM push_device_send WHERE delivery_id = ?", Integer.class, push)).isZero();
        } finally {
            infra.providers().removeStub(gone);
            infra.providers().removeStub(busy);
        }
    }

    /**
     * The phone takes the reply; the tablet's calls all get 503 (FCM busy for it). The customer has the reply on the phone, so
     * the push is SENT (naming the tablet that was not reached) and the reply is not also sent by SMS. Before, the retries
     * running out failed the whole push ("push not sent: … 503") and the customer got the reply twice, by push and by SMS.
     */
    @Test
    void aDeviceThatStaysUnreachableDoesNotFailThePushAnotherDeviceTook() throws Exception {
        String customer = "cus_push_half" + newTicketId();
        String phone = "ph0neH4f" + newTicketId() + "-registration-token-of-the-customers-phone";
        String tablet = "t4bletH4" + newTicketId() + "-registration-token-of-the-customers-tablet";
        newCustomer(customer, "+4477006" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
        StubMapping busy = answer(tablet, 503, "{\"error\": {\"code\": 503, \"status\": \"UNAVAILABLE\"}}");
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            assertThat((String) rows.get("push").get("reason")).startsWith("sent to 1 of 2 devices (push token " + phone.substring(0, 8) + "…)")
                    .contains("push token " + tablet.substring(0, 8) + "… not reached").doesNotContain(phone, tablet);
            assertThat(rows.get("sms")).containsEntry("state", "SKIPPED");
            assertThat(pushesTo(phone)).hasSize(1);
        } finally {
            infra.providers().removeStub(busy);
        }
    }

    @org.springframework.beans.factory.annotation.Autowired
    io.herald.dispatch.StaleSendings staleSendings;

    /**
     * Herald is killed while calling the tablet, after the phone took the reply. The sweep finds the push left SENDING: the
     * customer had it on the phone, so it is SENT (the tablet named as maybe reached), not UNCERTAIN, and the reply is not sent
     * again by SMS. Before, the push was UNCERTAIN ("check whether the customer received it, and resend if not": a resend
     * pushes the phone again) and first-success sent the SMS too.
     */
    @Test
    void aCrashWhileCallingOneDeviceAfterAnotherTookThePushLeavesItSent() throws Exception {
        String customer = "cus_push_crash" + newTicketId();
        String phone = "ph0neCr4" + newTicketId() + "-registration-token-of-the-customers-phone";
        String tablet = "t4bletCr" + newTicketId() + "-registration-token-of-the-customers-tablet";
        newCustomer(customer, "+4477004" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
        String key = reply(customer);
        assertThat(awaitDeliveries(key).get("push")).containsEntry("state", "SENT");
        long push = ((Number) delivery(key, "push").get("id")).longValue();
        // What a kill -9 while the tablet was called leaves behind: the phone SENT, the tablet CALLING, the delivery SENDING.
        jdbc.update("UPDATE push_device_send SET state = 'CALLING', provider_message_id = NULL WHERE delivery_id = ? AND token_masked = ?",
                push, tablet.substring(0, 8) + "…");
        jdbc.update("UPDATE delivery SET state = 'SENDING', reason = NULL, provider_message_id = NULL, claim_token = gen_random_uuid(),"
                + " updated_at = now() - interval '10 minutes' WHERE id = ?", push);
        // A third device, a watch, had refused it before the tablet was called.
        jdbc.update("INSERT INTO push_device_send (delivery_id, resend_id, token_hash, token_masked, state, reason)"
                + " VALUES (?, 0, repeat('a', 64), 'w4tchCr4…', 'REFUSED', 'provider answered HTTP 403 (FCM SENDER_ID_MISMATCH)')", push);

        io.herald.testsupport.StaleSweep.until(staleSendings, () -> !"SENDING".equals(delivery(key, "push").get("state")));

        Map<String, Map<String, Object>> rows = awaitDeliveries(key);
        assertThat(rows.get("push")).containsEntry("state", "SENT");
        // As PushDevices words it: the customer has three devices and only the phone is known to have it.
        assertThat((String) rows.get("push").get("reason")).startsWith("push sent to 1 of 3 devices (push token " + phone.substring(0, 8) + "…)")
                .contains("push token w4tchCr4… not sent: provider answered HTTP 403 (FCM SENDER_ID_MISMATCH)")
                .contains("push token " + tablet.substring(0, 8) + "… was being called when Herald stopped").doesNotContain(phone, tablet);
        assertThat(rows.get("sms")).containsEntry("state", "SKIPPED");
        assertThat(pushesTo(phone)).hasSize(1);
    }

    /**
     * The phone takes the reply; the tablet's answer is cut off after FCM accepted it (HTTP 200, then a broken body). The customer
     * had the reply on the phone: the push is SENT, naming the tablet as maybe reached, and the reply is not sent by SMS too.
     * Before, the push was UNCERTAIN ("resend if not": a resend pushes the phone again) and first-success sent the SMS.
     */
    @Test
    void anAnswerLostForOneDeviceAfterAnotherTookThePushLeavesItSent() throws Exception {
        String customer = "cus_push_lost" + newTicketId();
        String phone = "ph0neL0s" + newTicketId() + "-registration-token-of-the-customers-phone";
        String tablet = "t4bletL0" + newTicketId() + "-registration-token-of-the-customers-tablet";
        newCustomer(customer, "+4477003" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
        StubMapping cut = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(tablet)).atPriority(1)
                .willReturn(aResponse().withFault(com.github.tomakehurst.wiremock.http.Fault.MALFORMED_RESPONSE_CHUNK)));
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            assertThat((String) rows.get("push").get("reason")).startsWith("sent to 1 of 2 devices (push token " + phone.substring(0, 8) + "…)")
                    .contains("push token " + tablet.substring(0, 8) + "… was called and its answer was lost").doesNotContain(phone, tablet);
            assertThat(rows.get("sms")).containsEntry("state", "SKIPPED");
            assertThat(pushesTo(phone)).hasSize(1);
            assertThat(pushesTo(tablet)).hasSize(1);
        } finally {
            infra.providers().removeStub(cut);
        }
    }

    /** FCM's answer for a device registered with another Firebase project: a refusal of this device, the token kept. */
    private static final String SENDER_ID_MISMATCH = """
            {"error":{"code":403,"message":"SenderId mismatch","status":"PERMISSION_DENIED","details":[{"@type":\
            "type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}""";

    /**
     * The phone refuses the push (403 SENDER_ID_MISMATCH), the tablet is unreachable (503) until its retries run out. A later
     * automatic attempt of the same delivery (a parked re-drive) calls the tablet only: the phone answered, and asking again
     * gets the same refusal. An operator's retry (after fixing the Firebase project) calls the phone once more. Before, every
     * re-drive called the refusing phone again.
     */
    @Test
    void aDeviceThatRefusedThePushIsNotCalledAgainByALaterAttemptOnlyByAnOperatorsRetry() throws Exception {
        String customer = "cus_push_refd" + newTicketId();
        String phone = "ph0neR3f" + newTicketId() + "-registration-token-of-the-customers-phone";
        String tablet = "t4bletR3" + newTicketId() + "-registration-token-of-the-customers-tablet";
        // Push only: no phone number or email, so nothing else settles the notification.
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Pat Push', NULL, NULL, ?::jsonb)",
                customer, "[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
        StubMapping refused = answer(phone, 403, SENDER_ID_MISMATCH);
        StubMapping busy = answer(tablet, 503, "{\"error\": {\"code\": 503, \"status\": \"UNAVAILABLE\"}}");
        try {
            String key = reply(customer);
            assertThat(awaitDeliveries(key).get("push")).containsEntry("state", "FAILED");
            assertThat(pushesTo(phone)).hasSize(1);
            long push = ((Number) delivery(key, "push").get("id")).longValue();

            // FCM takes the tablet again; the delivery is re-driven as a parked one is.
            infra.providers().removeStub(busy);
            jdbc.update("UPDATE delivery SET state = 'PARKED', next_attempt_at = now(), parked_count = 0, updated_at = now() WHERE id = ?", push);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "push").get("state")));
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            assertThat((String) rows.get("push").get("reason")).contains("(push token " + tablet.substring(0, 8) + "…); push token "
                    + phone.substring(0, 8) + "… not sent: provider answered HTTP 403").contains("refused by an earlier attempt of this delivery;"
                    + " not called again: an operator's retry asks it once more").doesNotContain(phone, tablet);
            assertThat(pushesTo(phone)).as("the refusing phone is not asked again by a re-drive").hasSize(1);

            // A second reply: the phone refuses it again, the tablet takes it. Say it had FAILED (the tablet unreachable) and the
            // operator, having corrected the Firebase project, retries it: the phone is asked once more, the tablet not again.
            String other = reply(customer);
            assertThat(awaitDeliveries(other).get("push")).containsEntry("state", "SENT");
            assertThat(pushesTo(phone)).hasSize(2);
            int tabletCalls = pushesTo(tablet).size();
            long second = ((Number) delivery(other, "push").get("id")).longValue();
            jdbc.update("UPDATE delivery SET state = 'FAILED', updated_at = now() WHERE id = ?", second);
            infra.providers().removeStub(refused);
            HttpResponse<String> retried = apiAs(OPERATOR, "POST", "/api/deliveries/" + second + "/retry",
                    "{\"comment\": \"Firebase project corrected\"}");
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(pushesTo(phone)).hasSize(3));
            assertThat(pushesTo(tablet)).hasSize(tabletCalls);
        } finally {
            infra.providers().removeStub(refused);
            infra.providers().removeStub(busy);
        }
    }

    /**
     * The phone takes the reply, the tablet refuses it (403 SENDER_ID_MISMATCH). The reason says the push reached 1 of the
     * customer's 2 devices and why the other did not, by masked token; the timeline shows each device. Before, it read "sent to 1
     * device", as for a customer with one device.
     */
    @Test
    void aPushOneDeviceRefusedSaysItReachedOneOfTwoDevicesAndWhyNotTheOther() throws Exception {
        String customer = "cus_push_part" + newTicketId();
        String phone = "ph0neP4r" + newTicketId() + "-registration-token-of-the-customers-phone";
        String tablet = "t4bletP4" + newTicketId() + "-registration-token-of-the-customers-tablet";
        newCustomer(customer, "+4477002" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                "[\"fcm:" + phone + "\", \"fcm:" + tablet + "\"]");
        StubMapping refused = answer(tablet, 403, SENDER_ID_MISMATCH);
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "SENT");
            String p = phone.substring(0, 8) + "…";
            String t = tablet.substring(0, 8) + "…";
            assertThat((String) rows.get("push").get("reason")).startsWith("sent to 1 of 2 devices (push token " + p + "); push token " + t
                    + " not sent: provider answered HTTP 403").contains("SENDER_ID_MISMATCH").doesNotContain(phone, tablet);
            long notification = ((Number) delivery(key, "push").get("notification_id")).longValue();
            assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body())
                    .contains("Push to device " + p, "Push to device " + t, "SENDER_ID_MISMATCH").doesNotContain(phone, tablet);
        } finally {
            infra.providers().removeStub(refused);
        }
    }

    /**
     * A customer whose CRM entry lists 11 push tokens: the reply goes to the first 10 (herald.push.max-devices, default 10) and
     * the reason says one token was not called, over that cap. Before, every token listed was called, one provider call each.
     */
    @Test
    void aPushGoesToAtMostTheCappedNumberOfDevicesAndSaysHowManyWereNotCalled() throws Exception {
        String customer = "cus_push_cap" + newTicketId();
        String run = newTicketId();
        List<String> tokens = java.util.stream.IntStream.rangeClosed(1, 11)
                .mapToObj(i -> String.format("c4p%02dT0k", i) + run + "-registration-token-of-device-" + i).toList();
        newCustomer(customer, "+4477001" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000),
                tokens.stream().map(t -> "\"fcm:" + t + "\"").collect(java.util.stream.Collectors.joining(", ", "[", "]")));
        String key = reply(customer);
        Map<String, Map<String, Object>> rows = awaitDeliveries(key);
        assertThat(rows.get("push")).containsEntry("state", "SENT");
        for (String token : tokens.subList(0, 10)) {
            assertThat(pushesTo(token)).hasSize(1);
        }
        assertThat(pushesTo(tokens.get(10))).isEmpty();
        assertThat((String) rows.get("push").get("reason")).startsWith("sent to 10 devices (push tokens c4p01T0k…")
                .contains("1 more push token (c4p11T0k…) not called: over herald.push.max-devices (10), the first 10 in the customer's"
                        + " directory entry are");
    }

    private List<com.github.tomakehurst.wiremock.verification.LoggedRequest> pushesTo(String token) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)));
    }

    @Test
    void aTokenThatIsNoFcmTokenIsRemovedTooAndTheNextReplySkipsPushForWantOfAToken() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String customer = "cus_push_bad" + newTicketId();
        String bad = "n0tAt0k" + newTicketId();
        newCustomer(customer, "+4477008" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000), "[\"" + bad + "\"]");
        StubMapping invalid = answer(bad, 400, INVALID_TOKEN);
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "FAILED").hasEntrySatisfying("reason", reason -> assertThat(reason).isIn(
                    UtcDays.texts(started, "push not sent: push token " + bad.substring(0, 8) + "… is not a valid registration token for the push"
                            + " provider (FCM INVALID_ARGUMENT on message.token): removed from the customer's directory entry on ",
                            "; the next channel (sms) is tried")));
            assertThat(rows.get("sms")).containsEntry("state", "SENT");
            assertThat(tokens(customer)).isEqualTo("[]");

            String next = reply(customer);
            Map<String, Map<String, Object>> later = awaitDeliveries(next);
            assertThat(later.get("push")).containsEntry("state", "SKIPPED")
                    .containsEntry("reason", "customer " + customer + " has no push token in the directory");
            assertThat(later.get("sms")).containsEntry("state", "SENT");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(bad)))).hasSize(1);
        } finally {
            infra.providers().removeStub(invalid);
        }
    }

    @Test
    void aRefusalAboutAnotherFieldIsAnOrdinaryFailureAndTheTokenStays() throws Exception {
        String customer = "cus_push_data" + newTicketId();
        String token = "g00dT0k" + newTicketId();
        newCustomer(customer, "+4477007" + String.format("%05d", Math.abs(customer.hashCode()) % 100_000), "[\"fcm:" + token + "\"]");
        StubMapping refused = answer(token, 400, INVALID_DATA);
        try {
            String key = reply(customer);
            Map<String, Map<String, Object>> rows = awaitDeliveries(key);
            assertThat(rows.get("push")).containsEntry("state", "FAILED")
                    .containsEntry("reason", "push not sent: provider answered HTTP 400 Bad Request: " + INVALID_DATA.substring(0, 300) + "…");
            assertThat(rows.get("sms")).containsEntry("state", "SENT");
            assertThat(tokens(customer)).isEqualTo("[\"fcm:" + token + "\"]");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt r JOIN delivery d ON d.id = r.delivery_id"
                    + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?", Integer.class, key)).isZero();
        } finally {
            infra.providers().removeStub(refused);
        }
    }

    private void newCustomer(String customer, String phone, String pushTokens) {
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Pat Push', ?, ?, ?::jsonb)",
                customer, customer + "@example.net", phone, pushTokens);
    }

    /** FCM answers this token (in the request's message.token) with the given status and body. */
    private StubMapping answer(String token, int status, String body) {
        return infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(status).withHeader("Content-Type", "application/json; charset=UTF-8").withBody(body)));
    }

    /** An agent's public reply on a new ticket of this customer (Zendesk's ticket.comment_added); its idempotency key. */
    private String reply(String customer) throws Exception {
        String ticket = newTicketId();
        assertThat(postSignedSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer))
                .statusCode()).isEqualTo(202);
        return "support:agent_replied:" + ticket + ":41000000000555";
    }

    private String tokens(String customer) {
        return jdbc.queryForObject("SELECT push_tokens::text FROM customer WHERE customer_id = ?", String.class, customer);
    }

    /** The notification's push, SMS and email rows by channel, once all three have ended. */
    private Map<String, Map<String, Object>> awaitDeliveries(String key) {
        List<Map<String, Object>> rows = await().atMost(Duration.ofSeconds(45)).until(() -> jdbc.queryForList("""
                SELECT d.channel, d.state, d.reason FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ?""", key),
                found -> found.size() == 3 && found.stream().noneMatch(r -> List.of("PENDING", "SENDING").contains(r.get("state"))));
        Map<String, Map<String, Object>> byChannel = new LinkedHashMap<>();
        rows.forEach(r -> byChannel.put(r.get("channel").toString(), r));
        return byChannel;
    }
}
