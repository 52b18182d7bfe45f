package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

/**
 * Text customers and third parties control, where it reaches people and their tools (found by an audit of hostile data,
 * 2026-12-06): what the customer's mail client shows is what Herald wrote and keeps.
 */
class HostileDataReachingPeopleTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A ticket subject written as an RFC 2047 encoded word ("=?UTF-8?B?…?=") went into the Subject header as it was, since it
     * is plain ASCII: the customer's mail client decoded it and showed words that appear nowhere in Herald (here "Your
     * account is suspended: call +1 555 0100"), while the ledger, the console and the proof of delivery showed the code.
     * The customer now reads the subject Herald rendered and keeps, letter for letter.
     */
    @Test
    void anEncodedWordInATicketSubjectReachesTheCustomerAsTheTextHeraldKeeps() throws Exception {
        String ticket = newTicketId();
        String hidden = Base64.getEncoder().encodeToString("Your account is suspended: call +1 555 0100".getBytes(StandardCharsets.UTF_8));
        String subject = "Re: =?UTF-8?B?" + hidden + "?=";
        String event = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01JENC" + ticket)
                .replace("41000000000555", "41" + ticket)
                .replace("Printer error E-42 after update", subject);
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);
        String key = "support:agent_replied:" + ticket + ":41" + ticket;
        MimeMessage mail = awaitMailFor(key);

        String kept = jdbc.queryForObject("SELECT c.subject FROM delivery d JOIN notification n ON n.id = d.notification_id JOIN delivery_content c ON c.delivery_id = d.id"
                + " WHERE n.idempotency_key = ? AND d.channel = 'email'", String.class, key);
        assertThat(kept).isEqualTo("New reply on your request #" + ticket + ": " + subject);
        assertThat(mail.getSubject()).isEqualTo(kept).doesNotContain("suspended");
    }

    /**
     * A bad field is quoted in its quarantine reason ("amount_due is the text '…'"); one carrying U+202E RIGHT-TO-LEFT
     * OVERRIDE made the rest of the reason read backwards wherever operators read it: the failures page, the API, the weekly
     * review's CSV and the alert in the ops channel ("expected a number" showed as "rebmun a detcepxe"). Control characters
     * were already shown as escapes; the override is now shown the same way, as a visible escape, and the reason reads in order.
     */
    @Test
    void aBidiOverrideInAQuotedFieldIsShownAsAnEscapeInTheQuarantineReason() throws Exception {
        String unique = "bidi" + newTicketId();
        String event = Samples.paymentFailed(unique).replace("\"amount_due\": 4900", "\"amount_due\": \"\u202E00.94\"");
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        Long id = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%in_test" + unique + "%").stream().findFirst().orElse(null), java.util.Objects::nonNull);

        HttpResponse<String> answer = api("GET", "/api/quarantine/" + id);
        assertThat(answer.statusCode()).isEqualTo(200);
        String reason = JSON.readTree(answer.body()).path("reason").asText();
        assertThat(reason).contains("data.object.amount_due is the text '\\u202e00.94', expected a number").doesNotContain("\u202E");
    }

    /**
     * A provider's error answer is quoted in the delivery's reason ("provider answered HTTP 400 Bad Request: {…}"). It went into
     * the ledger as the provider sent it: a U+202E RIGHT-TO-LEFT OVERRIDE in it made the rest of the reason read backwards on the
     * failures page, in the API and the ops alert, and a line break split the reason over two lines. The quoted answer is now
     * shown as quarantine reasons show quoted fields: the override as a visible escape, the answer on one line.
     */
    @Test
    void aBidiOverrideAndALineBreakInAProviderAnswerAreShownEscapedInTheDeliveryReason() throws Exception {
        String phone = "+1500558" + (1000 + Integer.parseInt(newTicketId()) % 8999);
        StubMapping refusal = infra.providers().stubFor(WireMock.post(urlPathMatching("/2010-04-01/Accounts/[^/]+/Messages.json"))
                .withRequestBody(containing(phone.substring(1))).atPriority(1)
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 21211,\n \"message\": \"\u202Erebmun enohp dilav a ton si 'oT' ehT\"}")));
        try {
            String customer = "cus_bidi" + newTicketId();
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Pat Phone', ?, ?)",
                    customer, customer + "@example.net", phone);
            String unique = newTicketId();
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            String key = Samples.paymentFailedKey(unique);
            await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> assertThat(delivery(key, "sms")).containsEntry("state", "FAILED"));

            HttpResponse<String> answer = api("GET", "/api/deliveries/" + delivery(key, "sms").get("id"));
            assertThat(answer.statusCode()).isEqualTo(200);
            JsonNode sms = JSON.readTree(answer.body());
            String expected = "sms not sent: provider answered HTTP 400 Bad Request: {\"code\": 21211, \"message\": "
                    + "\"\\u202erebmun enohp dilav a ton si 'oT' ehT\"}" + Samples.TWILIO_21211_ADVICE;
            assertThat(sms.path("reason").asText()).isEqualTo(expected);
            assertThat(sms.path("attempts_log").findValuesAsText("reason")).containsExactly(expected);
        } finally {
            infra.providers().removeStub(refusal);
        }
    }
}
