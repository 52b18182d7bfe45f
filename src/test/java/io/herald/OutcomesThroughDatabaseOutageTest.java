package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * PostgreSQL stops while two SMS are with the provider, and the provider's answers come while it is down: a refusal
 * (400) and "unavailable" (503). Camel writes those outcomes from the channels' error handling, where a write that met
 * the outage used to end the exchange unrecorded: the delivery stayed SENDING until herald.delivery.sending-timeout
 * (5 minutes), was then called UNCERTAIN as after a crash, and held every later SMS of that customer until then (a
 * full test run once lost five tests to it). Now each outcome is tried again until the database is back
 * (dispatch.OutcomeWrites): the refused SMS ends FAILED with the provider's reason, the unavailable one is retried,
 * parked and sent once the provider answers, neither is ever UNCERTAIN, and the refused customer's next SMS goes out.
 */
class OutcomesThroughDatabaseOutageTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    /** The provider answers this long after the request (under the local profile's 8 s response timeout). */
    private static final int ANSWER_AFTER_MS = 5000;

    @Autowired
    MeterRegistry meters;

    @Test
    void providerAnswersThatComeWhileTheDatabaseIsDownAreRecordedOnceItIsBack() throws Exception {
        String refusedPhone = "+4477021" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        String busyPhone = "+4477022" + (10000 + Integer.parseInt(newTicketId()) % 89999);
        StubMapping refusal = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(refusedPhone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json").withFixedDelay(ANSWER_AFTER_MS)
                        .withBody("{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number.\"}")));
        StubMapping unavailable = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(busyPhone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(503).withFixedDelay(ANSWER_AFTER_MS).withBody("{\"message\": \"try later\"}")));
        String refusedCustomer = customerWithPhone(refusedPhone);
        String busyCustomer = customerWithPhone(busyPhone);
        String refusedEvent = newTicketId();
        String busyEvent = newTicketId();
        String refusedKey = Samples.paymentFailedKey(refusedEvent);
        String busyKey = Samples.paymentFailedKey(busyEvent);
        double retriesBefore = outcomeWriteRetries();
        try {
            postSignedBilling(Samples.paymentFailed(refusedEvent).replace("cus_RkT4aB7cD9eF1g", refusedCustomer));
            postSignedBilling(Samples.paymentFailed(busyEvent).replace("cus_RkT4aB7cD9eF1g", busyCustomer));
            // Both SMS are with the provider, each answer a few seconds away: the database stops now.
            await().atMost(Duration.ofSeconds(30)).until(() -> smsRequests(refusedPhone) == 1 && smsRequests(busyPhone) == 1);
            infra.stopPostgres();
            try {
                // The answers come while it is down: their outcomes are tried again, not dropped.
                await().atMost(Duration.ofSeconds(60)).until(() -> outcomeWriteRetries() >= retriesBefore + 2);
            } finally {
                infra.startPostgres();
            }

            // Once it is back: the refusal FAILED with the provider's reason, not left SENDING. (The test reads through Herald's
            // own pool, which refills after the restart: a read that finds no connection yet is tried again, as Herald's are.)
            await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(org.springframework.jdbc.CannotGetJdbcConnectionException.class)
                    .untilAsserted(() -> assertThat(delivery(refusedKey, "sms")).containsEntry("state", "FAILED"));
            assertThat(delivery(refusedKey, "sms").get("reason")).isEqualTo("sms not sent: provider answered HTTP 400 Bad Request: "
                    + "{\"code\": 21211, \"message\": \"The 'To' number is not a valid phone number.\"}" + Samples.TWILIO_21211_ADVICE);
            assertThat(attempts(refusedKey, "sms")).extracting(a -> a.get("outcome")).containsExactly("FAILED");
            // The unavailable one: its retry kept, then parked for later.
            await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(org.springframework.jdbc.CannotGetJdbcConnectionException.class)
                    .untilAsserted(() -> assertThat(attempts(busyKey, "sms"))
                    .extracting(a -> a.get("outcome")).containsSequence("RETRYING", "PARKED"));
        } finally {
            infra.providers().removeStub(refusal);
            infra.providers().removeStub(unavailable);
        }
        // The provider answers again: the parked SMS is sent, never UNCERTAIN; the refused customer's next SMS is not held back.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(delivery(busyKey, "sms")).containsEntry("state", "SENT"));
        assertThat(attempts(busyKey, "sms")).extracting(a -> a.get("outcome")).doesNotContain("UNCERTAIN", "FAILED").endsWith("SENT");
        String nextEvent = newTicketId();
        postSignedBilling(Samples.paymentFailed(nextEvent).replace("cus_RkT4aB7cD9eF1g", refusedCustomer));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(delivery(Samples.paymentFailedKey(nextEvent), "sms")).containsEntry("state", "SENT"));
        assertThat(smsRequests(refusedPhone)).isEqualTo(2);
    }

    private int smsRequests(String phone) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))).size();
    }

    private double outcomeWriteRetries() {
        Counter retries = meters.find("herald.outcome.write.retries").counter();
        return retries == null ? 0 : retries.count();
    }

    private String customerWithPhone(String phone) {
        String customer = "cus_dbanswer" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Dee Bee', ?, ?)",
                customer, customer + "@example.net", phone);
        return customer;
    }
}
