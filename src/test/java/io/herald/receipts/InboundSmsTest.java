package io.herald.receipts;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static io.herald.receipts.DeliveryReceiptsTest.form;
import static io.herald.receipts.DeliveryReceiptsTest.hmacSha1;
import static io.herald.receipts.DeliveryReceiptsTest.twilioSignature;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.logging.Masking;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import org.junit.jupiter.api.Test;

/** Customers texting Herald's number, as Twilio posts inbound messages (form-encoded, X-Twilio-Signature). */
class InboundSmsTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String HERALD_NUMBER = "+15005550006";

    @Test
    void stopBySmsSkipsTheNextSmsWithTheReasonAndNothingReachesTheProviderThenStartSendsAgain() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        // The directory writes the number with spaces; Twilio sends E.164.
        String customer = newCustomer("stop", "+1 556 %s %s");
        String phone = phoneOf(customer);
        String e164 = phone.replace(" ", "");
        assertThat(notify(customer, "before", "SENT")).isNotNull();

        HttpResponse<String> stop = inbound(e164, "Stop sending me these please", "SMin" + newTicketId());
        assertThat(stop.statusCode()).isEqualTo(200);
        assertThat(stop.headers().firstValue("Content-Type").orElse("")).startsWith("text/xml");
        assertThat(stop.body()).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
        assertThat(history(customer)).containsExactly(Map.of("action", "OPT_OUT", "outcome", "CONSENT_OFF", "keyword", "STOP",
                "reason", "SMS consent off: customer " + customer + " replied STOP; their SMS notifications are skipped until they reply START"));

        // The next notification: the SMS is SKIPPED with a reason a person can read, the SMS provider gets nothing, the email goes out.
        String next = notify(customer, "after-stop", "SKIPPED");
        assertThat((String) delivery(next, "sms").get("reason")).matches("address " + Pattern.quote(Masking.phone(e164))
                + " is suppressed since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC: customer opted out of SMS by replying STOP on "
                + UtcDays.pattern(started) + " \\(an operator can lift it under Suppressions\\)");
        assertThat(awaitMailFor(next)).isNotNull();
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(next + ":sms"))))
                .isEmpty();
        // The operator sees the consent change in the notification's timeline, and the number on the suppression list.
        long notification = ((Number) delivery(next, "sms").get("notification_id")).longValue();
        String page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body();
        assertThat(page).contains("SMS consent off (customer texted STOP)", "customer opted out of SMS by replying STOP on");
        assertThat(apiAs(ADMIN, "GET", "/console/suppressions", null).body()).contains(Masking.phone(e164)).doesNotContain(e164);
        // The customer's page has the consent history.
        assertThat(apiAs(OPERATOR, "GET", "/console/customers/" + customer, null).body())
                .contains("id=\"consent-history\"", "CONSENT_OFF", "replied STOP; their SMS notifications are skipped until they reply START");

        // A second STOP changes nothing; START lifts it (audited as the customer's own action) and the next SMS is sent.
        assertThat(inbound(e164, "STOP", "SMin" + newTicketId()).statusCode()).isEqualTo(200);
        assertThat(inbound(e164, "unstop", "SMin" + newTicketId()).statusCode()).isEqualTo(200);
        assertThat(history(customer)).extracting(row -> row.get("keyword") + " " + row.get("outcome"))
                .containsExactly("STOP CONSENT_OFF", "STOP UNCHANGED", "UNSTOP CONSENT_ON");
        assertThat(jdbc.queryForList("SELECT a.actor, a.comment FROM operator_action a JOIN suppression s ON s.id = a.target_id"
                + " WHERE a.target = 'suppression' AND s.address_masked = ?", Masking.phone(e164)))
                .containsExactly(Map.of("actor", "customer by SMS", "comment", "the customer replied UNSTOP by SMS"));
        String again = notify(customer, "after-start", "SENT");
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(again + ":sms"))))
                .hasSize(1);
        long later = ((Number) delivery(again, "sms").get("notification_id")).longValue();
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + later, null).body()).contains("SMS consent on (customer texted UNSTOP)");
    }

    /**
     * Keywords as Twilio reads them: "Cancel my appointment" is a reply to a reminder, not an opt-out (Twilio opts out on a
     * single-word CANCEL only); "Cancel." is; "Yes" alone opts back in and "info" is answered like HELP, while a sentence
     * starting with "Yes" changes nothing.
     */
    @Test
    void aReplyThatStartsWithAKeywordIsNotOneUnlessItIsStopButTheWholeWordsAre() throws Exception {
        String customer = newCustomer("kw", "+1558%s%s");
        String phone = phoneOf(customer);
        inbound(phone, "Cancel my appointment please, I am ill", "SMin" + newTicketId());
        inbound(phone, "Yes I will be there", "SMin" + newTicketId());
        inbound(phone, "Cancel.", "SMin" + newTicketId());
        inbound(phone, " yes! ", "SMin" + newTicketId());
        assertThat(inbound(phone, "info?", "SMin" + newTicketId()).body()).contains("<Message>Herald account notifications.");
        assertThat(history(customer)).extracting(row -> row.get("action") + " " + row.get("outcome") + " " + row.get("keyword"))
                .containsExactly("NONE RECORDED null", "NONE RECORDED null", "OPT_OUT CONSENT_OFF CANCEL", "OPT_IN CONSENT_ON YES",
                        "HELP ANSWERED HELP");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE address_masked = ? AND lifted_at IS NULL", Integer.class,
                Masking.phone(phone))).isZero();
    }

    /** REVOKE and OPTOUT are Twilio's default opt-out words too: Twilio blocks the number, so Herald's consent follows. */
    @Test
    void revokeAndOptoutOptOutAsTwilioDoes() throws Exception {
        for (String word : java.util.List.of("REVOKE", "optout")) {
            String customer = newCustomer("rv", "+1558%s%s");
            String phone = phoneOf(customer);
            inbound(phone, word, "SMin" + newTicketId());
            assertThat(history(customer)).extracting(row -> row.get("action") + " " + row.get("outcome") + " " + row.get("keyword"))
                    .containsExactly("OPT_OUT CONSENT_OFF " + word.toUpperCase(java.util.Locale.ROOT));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE address_masked = ? AND lifted_at IS NULL", Integer.class,
                    Masking.phone(phone))).isEqualTo(1);
        }
    }

    /**
     * A number that opted out at Twilio (its STOP never reached Herald) is refused with 21610: that SMS fails saying so, the
     * number is suppressed with the refusal as its receipt, and the next SMS to it is SKIPPED, never offered to be refused again.
     */
    @Test
    void aNumberTheProviderSaysOptedOutIsSuppressedSoTheNextSmsIsSkippedNotRefusedAgain() throws Exception {
        String customer = newCustomer("unsub", "+1559%s%s");
        String phone = phoneOf(customer);
        StubMapping refusing = twilioRefuses(phone, 21610, "Attempt to send to unsubscribed recipient");
        try {
            String first = notify(customer, "refused", "FAILED");
            assertThat((String) delivery(first, "sms").get("reason")).isEqualTo("sms not sent: the SMS provider refused the message: the number "
                    + Masking.phone(phone) + " has opted out at the provider (it replied STOP to the sending number; Twilio error 21610);"
                    + " it is suppressed for SMS in Herald too, so later SMS to it are skipped until the customer replies START");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE channel = 'sms' AND address_masked = ? AND lifted_at IS NULL",
                    Integer.class, Masking.phone(phone))).isEqualTo(1);

            String next = notify(customer, "after-refusal", "SKIPPED");
            assertThat((String) delivery(next, "sms").get("reason")).contains("is suppressed since").contains("Twilio error 21610");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(next + ":sms"))))
                    .isEmpty();
        } finally {
            infra.providers().removeStub(refusing);
        }
    }

    /**
     * A landline in the directory is refused by Twilio with 21614 ("'To' number is not a valid mobile number"), for every
     * message: that SMS fails saying what to do, the number is suppressed, and the next SMS to it is SKIPPED, not refused
     * and alerted again one by one. Before, only 21610 was read so; 21614 failed each SMS as "rejected as invalid".
     */
    @Test
    void aLandlineTheProviderRefusesIsSuppressedSoTheNextSmsIsSkippedNotRefusedAgain() throws Exception {
        String customer = newCustomer("landline", "+1554%s%s");
        String phone = phoneOf(customer);
        StubMapping refusing = twilioRefuses(phone, 21614, "'To' number is not a valid mobile number");
        try {
            String first = notify(customer, "landline", "FAILED");
            assertThat((String) delivery(first, "sms").get("reason")).isEqualTo("sms not sent: the SMS provider refused the message: the number "
                    + Masking.phone(phone) + " is not a mobile number (a landline, or not a valid mobile number; Twilio error 21614); it is"
                    + " suppressed for SMS, so later SMS to it are skipped: correct the customer's phone number in the CRM, or lift the"
                    + " suppression in the console if the number does take SMS");
            assertThat(jdbc.queryForList("SELECT outcome, status FROM delivery_receipt WHERE channel = 'sms' AND provider_message_id = ?",
                    Masking.phone(phone))).containsExactly(Map.of("outcome", "UNDELIVERABLE", "status", "21614"));

            String next = notify(customer, "after-landline", "SKIPPED");
            assertThat((String) delivery(next, "sms").get("reason")).contains("is suppressed since").contains("Twilio error 21614");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(next + ":sms"))))
                    .isEmpty();
        } finally {
            infra.providers().removeStub(refusing);
        }
    }

    /**
     * Twilio's refusals whose fix is outside Herald: 21211 (the directory's number is not a valid one: every SMS to it is refused
     * until it is corrected) and 21408 (the account may not send SMS to that country at all). The SMS fails (not retried, the
     * number not suppressed) and the reason says what to do and where, not only Twilio's JSON.
     */
    @Test
    void anInvalidNumberOrACountryNotEnabledAtTwilioSaysWhatToDo() throws Exception {
        String customer = newCustomer("invalid", "+1561%s%s");
        String phone = phoneOf(customer);
        StubMapping refusing = twilioRefuses(phone, 21211, "The 'To' number " + phone + " is not a valid phone number.");
        try {
            String key = notify(customer, "invalid", "FAILED");
            assertThat((String) delivery(key, "sms").get("reason")).contains("21211", "correct the customer's phone number")
                    .doesNotContain(phone);
        } finally {
            infra.providers().removeStub(refusing);
        }
        String abroad = newCustomer("region", "+1562%s%s");
        refusing = twilioRefuses(phoneOf(abroad), 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: "
                + phoneOf(abroad));
        try {
            String key = notify(abroad, "region", "FAILED");
            assertThat((String) delivery(key, "sms").get("reason")).contains("21408", "Geo Permissions", "retry");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE lifted_at IS NULL AND address_masked = ?", Long.class,
                    Masking.phone(phoneOf(abroad)))).isZero();
        } finally {
            infra.providers().removeStub(refusing);
        }
    }

    @Test
    void helpIsAnsweredWithTheConfiguredTextOnceEvenWhenTwilioRetries() throws Exception {
        String customer = newCustomer("help", "+1557%s%s");
        String sid = "SMin" + newTicketId();
        HttpResponse<String> help = inbound(phoneOf(customer), "help", sid);
        assertThat(help.statusCode()).isEqualTo(200);
        assertThat(help.body()).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Herald account notifications."
                + " For help contact support through your account page. Reply STOP to stop SMS notifications, START to receive them"
                + " again.</Message></Response>");
        // Twilio retries the same message (same MessageSid): answered again, kept once.
        assertThat(inbound(phoneOf(customer), "help", sid).body()).contains("<Message>Herald account notifications.");
        assertThat(history(customer)).containsExactly(Map.of("action", "HELP", "outcome", "ANSWERED", "keyword", "HELP",
                "reason", "answered with the help text (herald.sms.inbound.help-text)"));
        // A keyword configured at Twilio (Advanced Opt-Out) arrives classified by OptOutType: Twilio has answered it with its
        // own help message, so Herald answers nothing (the customer got two answers before).
        String aide = form("MessageSid", "SMin" + newTicketId(), "From", phoneOf(customer), "To", HERALD_NUMBER, "Body", "Aide", "OptOutType", "HELP");
        assertThat(post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", aide.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(url(), aide))).body()).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
        assertThat(jdbc.queryForList("SELECT outcome, reason FROM inbound_sms WHERE customer_id = ? AND action = 'HELP' AND excerpt = 'Aide'", customer))
                .containsExactly(Map.of("outcome", "ANSWERED", "reason", "answered by Twilio with the help message of its Advanced Opt-Out"
                        + " (Herald sent none, so the customer got one answer)"));
        // With Advanced Opt-Out on, Twilio classifies (and answers) its default HELP keyword too: "HELP" itself, with OptOutType
        // HELP, gets no second answer from Herald either.
        String classifiedHelp = form("MessageSid", "SMin" + newTicketId(), "From", phoneOf(customer), "To", HERALD_NUMBER, "Body", "HELP",
                "OptOutType", "HELP");
        assertThat(post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", classifiedHelp.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(url(), classifiedHelp))).body())
                .isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
        assertThat(jdbc.queryForList("SELECT outcome, reason FROM inbound_sms WHERE customer_id = ? AND action = 'HELP' AND excerpt = 'HELP'", customer))
                .containsExactly(Map.of("outcome", "ANSWERED", "reason", "answered by Twilio with the help message of its Advanced Opt-Out"
                        + " (Herald sent none, so the customer got one answer)"));
        // Any other text is kept and changes nothing.
        assertThat(inbound(phoneOf(customer), "Thanks, stop by tomorrow?", "SMin" + newTicketId()).body()).endsWith("<Response/>");
        assertThat(jdbc.queryForList("SELECT action, outcome, reason FROM inbound_sms WHERE customer_id = ? AND action = 'NONE'", customer))
                .containsExactly(Map.of("action", "NONE", "outcome", "RECORDED",
                        "reason", "no keyword (STOP first, or STOP, START or HELP as the whole message); kept, nothing changed"));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE address_masked = ?", Integer.class,
                Masking.phone(phoneOf(customer)))).isZero();
    }

    /**
     * A keyword Twilio classified (OptOutType) counts as Herald reads keywords: "Stop." and "STOP now" are STOP, kept as STOP
     * (not as the raw text, which made "Stop." a HELP and overflowed the keyword column past 20 characters).
     */
    @Test
    void aProviderClassifiedStopIsKeptAsTheStopKeyword() throws Exception {
        String customer = newCustomer("optout", "+1553%s%s");
        String phone = phoneOf(customer);
        for (String type : new String[] {"Stop.", "STOP now, this is far more than twenty characters"}) {
            String message = form("MessageSid", "SMin" + newTicketId(), "From", phone, "To", HERALD_NUMBER, "Body", "Arrete", "OptOutType", type);
            HttpResponse<String> answer = post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", message.getBytes(StandardCharsets.UTF_8),
                    Map.of("X-Twilio-Signature", twilioSignature(url(), message)));
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            assertThat(answer.body()).as(type).endsWith("<Response/>");
        }
        assertThat(history(customer)).extracting(row -> row.get("action") + " " + row.get("outcome") + " " + row.get("keyword"))
                .containsExactly("OPT_OUT CONSENT_OFF STOP", "OPT_OUT UNCHANGED STOP");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM suppression WHERE channel = 'sms' AND address_masked = ? AND lifted_at IS NULL",
                Integer.class, Masking.phone(phone))).isEqualTo(1);
    }

    @Test
    void aForgedOrUnsignedInboundMessageIsRefusedWith401AndRecordedAndChangesNothing() throws Exception {
        String customer = newCustomer("forged", "+1558%s%s");
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String body = form("MessageSid", "SMin" + newTicketId(), "From", phoneOf(customer), "To", HERALD_NUMBER, "Body", "STOP");
        String forged = Base64.getEncoder().encodeToString(hmacSha1("not-the-token", url() + "Body" + "STOP"));
        assertThat(post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", forged)).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8),
                Map.of()).statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForList("SELECT source, http_status, reason FROM inbound_rejection WHERE id > ? ORDER BY id", before))
                .extracting(row -> row.get("source") + " " + row.get("http_status") + " " + row.get("reason"))
                .containsExactly("sms-inbound 401 signature does not match (wrong auth token herald.sms.auth-token, the body was altered,"
                                + " or the URL Twilio signed differs from " + url() + ": set herald.sms.webhook-base-url to Herald's public address)",
                        "sms-inbound 401 missing X-Twilio-Signature header");
        assertThat(history(customer)).isEmpty();
        assertThat(notify(customer, "forged", "SENT")).isNotNull();
    }

    @Test
    void aStopFromANumberNoCustomerHasOrSeveralShareStopsEverySmsToThatNumberAndNamesNoCustomer() throws Exception {
        // No customer has the number yet: it is suppressed all the same, so a customer later given it is not texted.
        String unknown = "+1559" + String.format("%07d", Integer.parseInt(newTicketId()) % 10_000_000);
        String sid = "SMin" + newTicketId();
        assertThat(inbound(unknown, "STOP", sid).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForMap("SELECT customer_id, from_masked, outcome, reason FROM inbound_sms WHERE message_sid = ?", sid))
                .containsEntry("customer_id", null).containsEntry("from_masked", Masking.phone(unknown)).containsEntry("outcome", "CONSENT_OFF")
                .containsEntry("reason", "SMS consent off: the number " + Masking.phone(unknown) + " (no customer in Herald's directory has it)"
                        + " replied STOP; SMS notifications to that number are skipped until it replies START");
        String later = "cus_in_later_" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Inbound Test', ?, ?)",
                later, later.replace('_', '.') + "@inbound.example.net", unknown);
        String laterKey = notify(later, "later", "SKIPPED");
        assertThat(delivery(laterKey, "sms").get("reason").toString()).contains("the number's holder opted out of SMS by replying STOP on ");

        // Two customers share a number (written two ways): a QUIT from it names neither, and stops the SMS of both.
        String first = newCustomer("shared", "+1560%s%s");
        String second = "cus_in_shared2_" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Inbound Test', ?, ?)",
                second, second.replace('_', '.') + "@inbound.example.net", phoneOf(first));
        String shared = "SMin" + newTicketId();
        assertThat(inbound(phoneOf(first), "quit", shared).statusCode()).isEqualTo(200);
        String[] ids = {first, second};
        java.util.Arrays.sort(ids);
        assertThat(jdbc.queryForMap("SELECT customer_id, outcome, reason FROM inbound_sms WHERE message_sid = ?", shared))
                .containsEntry("customer_id", null).containsEntry("outcome", "CONSENT_OFF")
                .containsEntry("reason", "SMS consent off: the number " + Masking.phone(phoneOf(first)) + " (2 customers in Herald's directory"
                        + " share it: " + ids[0] + ", " + ids[1] + "; give it to one customer only in the CRM) replied QUIT; SMS notifications"
                        + " to that number are skipped until it replies START");
        notify(first, "shared", "SKIPPED");
        notify(second, "shared2", "SKIPPED");

        // START from the shared number: SMS to it again, for both.
        assertThat(inbound(phoneOf(first), "START", "SMin" + newTicketId()).statusCode()).isEqualTo(200);
        notify(second, "restarted", "SENT");
    }

    /** A customer of this test alone, with a phone of this test alone (pattern: prefix and two 3/4-digit groups). */
    /** Twilio refuses every SMS to {@code phone} with this error, as its Messages API answers (400, JSON). */
    private StubMapping twilioRefuses(String phone, int code, String message) {
        return infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))).atPriority(1)
                .willReturn(WireMock.aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": " + code + ", \"message\": \"" + message + "\", \"more_info\":"
                                + " \"https://www.twilio.com/docs/errors/" + code + "\", \"status\": 400}")));
    }

    private String newCustomer(String label, String phonePattern) {
        String customer = "cus_in_" + label + "_" + newTicketId();
        int n = Math.abs(customer.hashCode()) % 10_000_000;
        String phone = String.format(phonePattern, String.format("%03d", n / 10_000), String.format("%04d", n % 10_000));
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Inbound Test', ?, ?)",
                customer, customer.replace('_', '.') + "@inbound.example.net", phone);
        return customer;
    }

    private String phoneOf(String customer) {
        return jdbc.queryForObject("SELECT phone FROM customer WHERE customer_id = ?", String.class, customer);
    }

    /** A payment-failed event for this customer; its key once the SMS is in {@code smsState} and the email SENT. */
    private String notify(String customer, String label, String smsState) throws Exception {
        String unique = "in-" + label + newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        String key = Samples.paymentFailedKey(unique);
        await().atMost(Duration.ofSeconds(30)).until(() -> smsState.equals(delivery(key, "sms").get("state"))
                && "SENT".equals(delivery(key, "email").get("state")));
        return key;
    }

    private java.util.List<Map<String, Object>> history(String customer) {
        return jdbc.queryForList("SELECT action, outcome, keyword, reason FROM inbound_sms WHERE customer_id = ? ORDER BY id", customer);
    }

    private String url() {
        return "http://localhost:" + port + "/webhooks/sms/inbound";
    }

    /** An inbound message as Twilio posts it, signed with the account's auth token. */
    private HttpResponse<String> inbound(String from, String text, String sid) throws Exception {
        String body = form("ToCountry", "US", "SmsMessageSid", sid, "NumMedia", "0", "SmsSid", sid, "SmsStatus", "received",
                "Body", text, "To", HERALD_NUMBER, "NumSegments", "1", "MessageSid", sid, "AccountSid", "ACdemo", "From", from,
                "ApiVersion", "2010-04-01");
        return post("/webhooks/sms/inbound", "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature(url(), body)));
    }
}
