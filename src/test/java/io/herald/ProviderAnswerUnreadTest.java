package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;

/**
 * A provider that answers 200 with a body Herald cannot read (an HTML page from a gateway or a wrong herald.sms.url, a JSON
 * answer without the message id): the SMS is recorded SENT, as the provider's status says, but the ledger says why it has no
 * provider id and what that means (its receipts cannot be matched), instead of a SENT row that looks like any other.
 */
class ProviderAnswerUnreadTest extends HeraldIntegrationTest {

    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";

    @Test
    void anAnswerWithoutTheProvidersMessageIdIsSentWithTheReasonItHasNone() throws Exception {
        String run = "unread" + newTicketId();
        String customer = "cus_" + run;
        String phone = "+4477009" + (10000 + Integer.parseInt(run.replaceAll("\\D", "")) % 89999);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Una Unread', ?, ?)",
                customer, customer + "@example.net", phone);
        StubMapping page = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .withRequestBody(containing(phone.substring(1)))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "text/html")
                        .withBody("<html><body>Welcome to the gateway</body></html>")));
        try {
            List<String> keys = parkedSms(run, customer, 1, 0, "now()");
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(keys.get(0), "sms").get("state")));
            Map<String, Object> sms = delivery(keys.get(0), "sms");
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                    .hasSize(1);
            assertThat(sms.get("provider_message_id")).isNull();
            String why = "the provider accepted it (HTTP 200) but its answer could not be read (text/html, 48 characters, not JSON),"
                    + " so it gave no message id (sid): its delivery receipts cannot be matched to it. If every sms says this,"
                    + " check that herald.sms.url is the provider's address";
            assertThat(sms.get("reason")).isEqualTo(why);
            assertThat(attempts(keys.get(0), "sms")).last().satisfies(attempt -> {
                assertThat(attempt.get("outcome")).isEqualTo("SENT");
                assertThat(attempt.get("reason")).isEqualTo(why);
            });
        } finally {
            infra.providers().removeStub(page);
        }
    }
}
