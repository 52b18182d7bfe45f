package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/**
 * Identity by stable id or by an email only when exactly one customer has it, and the operator's
 * quarantine API: list with reasons, read the raw event, re-drive after a fix.
 */
class QuarantineApiTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anEventWithOnlyAnEmailIsMatchedWhenExactlyOneCustomerHasIt() throws Exception {
        String unique = newTicketId();
        assertThat(postSignedBilling(emailOnly(unique, "Jenny.Rosen@example.org")).statusCode()).isEqualTo(202);

        assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString)
                .containsExactly("jenny.rosen@example.org");
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, Samples.paymentFailedKey(unique)))
                .isEqualTo("cus_RkT4aB7cD9eF1g");
    }

    @Test
    void anEmailSharedByTwoCustomersIsQuarantinedAsAmbiguousNeverGuessed() throws Exception {
        String unique = newTicketId();
        String shared = "shared" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Pat A', ?), (?, 'Pat B', ?)",
                "cus_a" + unique, shared, "cus_b" + unique, shared.toUpperCase());
        assertThat(postSignedBilling(emailOnly(unique, shared)).statusCode()).isEqualTo(202);

        JsonNode held = awaitQuarantined("evt_test" + unique);
        assertThat(held.get("step").asText()).isEqualTo("identity");
        assertThat(held.get("reason").asText())
                .contains("carries no customer id, only the email s***@example.com, which is ambiguous: 2 customers")
                .contains("cus_a" + unique, "cus_b" + unique)
                .doesNotContain(shared);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "evt_test" + unique)).isZero();
    }

    @Test
    void anUnknownEmailIsQuarantinedListedAndReDrivenOnceTheCustomerExists() throws Exception {
        String unique = newTicketId();
        String email = "new" + unique + "@example.com";
        assertThat(postSignedBilling(emailOnly(unique, email)).statusCode()).isEqualTo(202);

        JsonNode held = awaitQuarantined("evt_test" + unique);
        assertThat(held.get("status").asText()).isEqualTo("OPEN");
        assertThat(held.get("reason").asText()).contains("no customer in Herald's directory has that email");
        assertThat(held.has("rawPayload")).isFalse();
        long id = held.get("id").asLong();

        JsonNode one = JSON.readTree(api("GET", "/api/quarantine/" + id).body());
        assertThat(one.get("rawPayload").asText()).contains("evt_test" + unique, email);

        // Re-driving before the fix keeps it open with the reason, and counts the attempt.
        JsonNode tooEarly = JSON.readTree(api("POST", "/api/quarantine/" + id + "/redrive").body());
        assertThat(tooEarly.get("status").asText()).isEqualTo("OPEN");
        assertThat(tooEarly.get("reason").asText()).contains("no customer in Herald's directory has that email");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ?", Integer.class,
                "evt_test" + unique)).isEqualTo(1);

        // The customer arrives in the directory; the operator re-drives; the customer gets the one message.
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Robin New', ?)", "cus_new" + unique, email);
        HttpResponse<String> redriven = api("POST", "/api/quarantine/" + id + "/redrive");
        assertThat(redriven.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(redriven.body()).get("status").asText()).isEqualTo("REDRIVEN");
        assertThat(JSON.readTree(redriven.body()).get("outcome").asText()).isEqualTo("ROUTE");
        assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email);

        JsonNode after = JSON.readTree(api("GET", "/api/quarantine/" + id).body());
        assertThat(after.get("status").asText()).isEqualTo("REDRIVEN");
        assertThat(after.get("redriveCount").asInt()).isEqualTo(2);
        assertThat(api("POST", "/api/quarantine/" + id + "/redrive").statusCode()).isEqualTo(409);
        assertThat(api("GET", "/api/quarantine?source=billing").body()).doesNotContain("evt_test" + unique);
        assertThat(api("GET", "/api/quarantine?source=billing&status=any").body()).contains("evt_test" + unique);
        assertThat(api("GET", "/api/quarantine/999999999").statusCode()).isEqualTo(404);
    }

    private JsonNode awaitQuarantined(String sourceEventId) {
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            for (JsonNode event : JSON.readTree(api("GET", "/api/quarantine?source=billing").body())) {
                if (sourceEventId.equals(event.path("sourceEventId").asText())) {
                    return event;
                }
            }
            return null;
        }, event -> event != null);
    }

    /** The payment-failed sample without a customer id, carrying only customer_email. */
    private static String emailOnly(String unique, String email) {
        return Samples.paymentFailed(unique).replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": null")
                .replace("jenny.rosen@example.com", email);
    }
}
