package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ingest.QuarantineRedrive;
import io.herald.ledger.UnroutedEvents;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Identity by stable id only: an event that carries only an email is quarantined (herald.identity.match-by-email is off by
 * default; MatchByEmailTest runs it on), and the operator assigns it to a customer from the quarantine API or page. And the
 * operator's quarantine API: list with reasons, read the raw event, re-drive after a fix.
 */
class QuarantineApiTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    QuarantineRedrive redrive;
    @Autowired
    UnroutedEvents unrouted;

    @Test
    void anEventWithOnlyAnEmailIsQuarantinedEvenWhenExactlyOneCustomerHasIt() throws Exception {
        String unique = newTicketId();
        // cus_RkT4aB7cD9eF1g has jenny.rosen@example.org: by email alone she would be the one match.
        assertThat(postSignedBilling(emailOnly(unique, "Jenny.Rosen@example.org")).statusCode()).isEqualTo(202);

        JsonNode held = awaitQuarantined("evt_test" + unique);
        assertThat(held.get("step").asText()).isEqualTo("identity");
        assertThat(held.get("reason").asText()).isEqualTo("billing event evt_test" + unique
                + " carries no customer id, only the email J***@example.org; Herald matches customers by stable ids only."
                + " If you know whose it is, assign it to the customer from the event page in the console (it is sent to them once; nothing is linked),"
                + " or dismiss it");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "evt_test" + unique)).isZero();
        assertThat(mailsFor(Samples.paymentFailedKey(unique))).isEmpty();
    }

    @Test
    void anOperatorAssignsAnEmailOnlyEventToTheCustomerWhoGetsItOnceAndNothingIsLinked() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String email = "guest" + unique + "@example.com";
        String customer = "cus_asg" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Asha Signed', ?)", customer,
                "asha" + unique + "@example.com");
        assertThat(postSignedBilling(emailOnly(unique, email)).statusCode()).isEqualTo(202);
        long id = awaitQuarantined("evt_test" + unique).get("id").asLong();

        // The page offers to assign it, not to link an id it does not have.
        assertThat(page(OPERATOR, "/console/quarantine/" + id)).contains("/console/quarantine/" + id + "/link")
                .contains("Assign this event to the customer and re-drive")
                .doesNotContain("Link this id to the customer");

        // Refused, and nothing changes: no comment, a customer not in the directory, an erased customer.
        HttpResponse<String> noComment = apiJson("POST", "/api/quarantine/" + id + "/link", "{\"customerId\": \"" + customer + "\"}");
        assertThat(noComment.statusCode()).isEqualTo(400);
        assertThat(error(noComment)).contains("needs a comment for the record");
        HttpResponse<String> unknown = apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"cus_nobody" + unique + "\", \"comment\": \"checked\"}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(error(unknown)).isEqualTo("customer cus_nobody" + unique
                + " is not in Herald's customer directory; choose an existing customer (find them under Customers)");
        String erased = "cus_gone" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Gone Away', ?)", erased, "gone" + unique + "@example.com");
        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + erased + "?comment=gdpr-" + unique, null).statusCode()).isEqualTo(200);
        HttpResponse<String> toErased = apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"" + erased + "\", \"comment\": \"checked\"}");
        assertThat(toErased.statusCode()).isEqualTo(400);
        assertThat(UtcDays.texts(started, "customer " + erased + " was erased from Herald on ", " by admin (comment: \"gdpr-" + unique + "\")"))
                .anySatisfy(start -> assertThat(error(toErased)).startsWith(start));
        assertThat(jdbc.queryForObject("SELECT status FROM unrouted_event WHERE id = ?", String.class, id)).isEqualTo("OPEN");

        HttpResponse<String> assigned = apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"the guest is Asha, she called support\"}");
        assertThat(assigned.statusCode()).as(assigned.body()).isEqualTo(200);
        JsonNode result = JSON.readTree(assigned.body());
        assertThat(result.get("status").asText()).isEqualTo("REDRIVEN");
        assertThat(result.get("outcome").asText()).isEqualTo("ROUTE");
        assertThat(result.get("action").asText()).isEqualTo("ASSIGN");
        assertThat(result.get("customerId").asText()).isEqualTo(customer);
        assertThat(result.get("linkedSystem").isNull()).isTrue();
        assertThat(result.get("message").asText()).isEqualTo("assigned to customer " + customer
                + " (the event names its customer only by email; nothing linked); re-driven: ROUTE");

        // The customer gets it, once; the notification is theirs; nothing links the email or anything else to them.
        String key = Samples.paymentFailedKey(unique);
        assertThat(awaitMailFor(key).getAllRecipients()).extracting(Object::toString).containsExactly("asha" + unique + "@example.com");
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, key)).isEqualTo(customer);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_link WHERE customer_id = ?", Integer.class, customer)).isZero();
        assertThat(jdbc.queryForMap("SELECT actor, action, comment, outcome, notification_id FROM operator_action"
                + " WHERE target = 'quarantine' AND target_id = ?", id))
                .containsEntry("actor", "operator").containsEntry("action", "ASSIGN")
                .containsEntry("comment", "the guest is Asha, she called support")
                .containsEntry("outcome", result.get("message").asText())
                .containsEntry("notification_id", result.get("notificationId").asLong());
        assertThat(api("POST", "/api/quarantine/" + id + "/redrive").statusCode()).isEqualTo(409);
        assertThat(apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"again\"}").statusCode()).isEqualTo(409);
        // A second copy would have been sent by now.
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> mailsFor(key).size() == 1);
    }

    /**
     * The link API refuses an erased customer before it re-drives (above); a customer erased between that check and the
     * re-drive is found by the re-drive itself (under the customer's lock): the event stays quarantined saying so, nothing sent.
     */
    @Test
    void anAssignmentToACustomerErasedMeanwhileLeavesTheEventQuarantinedSayingSo() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String customer = "cus_late" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Lee Late', ?)", customer, "lee" + unique + "@example.com");
        assertThat(postSignedBilling(emailOnly(unique, "guest" + unique + "@example.com")).statusCode()).isEqualTo(202);
        long id = awaitQuarantined("evt_test" + unique).get("id").asLong();
        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=left-" + unique, null).statusCode()).isEqualTo(200);

        QuarantineRedrive.Linked done = redrive.redrive(unrouted.find(id).orElseThrow(), customer, "assigned by operator: race");

        String reason = done.result().reason();   // the row below must say the same, with the same date
        assertThat(reason).isIn(UtcDays.texts(started, "billing event evt_test" + unique + " cannot be assigned to customer " + customer
                + ": they were erased from Herald on ", " by admin (comment: \"left-" + unique + "\"); Herald no longer notifies or records this"
                + " customer: dismiss the event"));
        assertThat(done.result().status()).isEqualTo("OPEN");
        assertThat(done.assigned()).isEqualTo(customer);
        assertThat(jdbc.queryForMap("SELECT status, reason FROM unrouted_event WHERE id = ?", id))
                .containsEntry("status", "OPEN").containsEntry("reason", reason);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "evt_test" + unique)).isZero();
        // Its page still offers to assign it (to another customer), not to link an id it does not have.
        assertThat(page(OPERATOR, "/console/quarantine/" + id)).contains("Assign this event to the customer and re-drive")
                .doesNotContain("Link this id to the customer");
    }

    @Test
    void anUnknownEmailIsQuarantinedListedReadAndAssignedFromTheConsolePage() throws Exception {
        String unique = newTicketId();
        String email = "new" + unique + "@example.com";
        assertThat(postSignedBilling(emailOnly(unique, email)).statusCode()).isEqualTo(202);

        JsonNode held = awaitQuarantined("evt_test" + unique);
        assertThat(held.get("status").asText()).isEqualTo("OPEN");
        assertThat(held.get("reason").asText()).contains("only the email n***@example.com; Herald matches customers by stable ids only");
        assertThat(held.has("rawPayload")).isFalse();
        long id = held.get("id").asLong();

        JsonNode one = JSON.readTree(api("GET", "/api/quarantine/" + id).body());
        assertThat(one.get("rawPayload").asText()).contains("evt_test" + unique, email);

        // The customer arrives in the directory with that email: a plain re-drive still does not match by it. It stays
        // open with the reason, and the attempt is counted.
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Robin New', ?)", "cus_new" + unique, email);
        JsonNode redriven = JSON.readTree(api("POST", "/api/quarantine/" + id + "/redrive").body());
        assertThat(redriven.get("status").asText()).isEqualTo("OPEN");
        assertThat(redriven.get("reason").asText()).contains("assign it to the customer from the event page in the console");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ?", Integer.class,
                "evt_test" + unique)).isEqualTo(1);
        assertThat(mailsFor(Samples.paymentFailedKey(unique))).isEmpty();

        // The operator assigns it from the quarantined event's page; the customer gets the one message.
        HttpResponse<String> posted = consoleFormAs(OPERATOR, "/console/quarantine/" + id + "/link", "customerId=cus_new" + unique
                + "&comment=" + URLEncoder.encode("Robin confirmed the order by phone", StandardCharsets.UTF_8));
        assertThat(posted.statusCode()).isEqualTo(302);
        assertThat(posted.headers().firstValue("Location").orElse("")).endsWith("/console/quarantine/" + id);
        assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email);
        assertThat(page(OPERATOR, "/console/quarantine/" + id)).contains("REDRIVEN", "ASSIGN", "Robin confirmed the order by phone",
                "assigned to customer cus_new" + unique + " (the event names its customer only by email; nothing linked); re-driven: ROUTE")
                .doesNotContain("Assign this event to the customer and re-drive");

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

    /** A console page as one of the demo accounts sees it (HTML). */
    private String page(String account, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String error(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body()).get("error").asText();
    }

    /** The payment-failed sample without a customer id, carrying only customer_email. */
    static String emailOnly(String unique, String email) {
        return Samples.paymentFailed(unique).replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": null")
                .replace("jenny.rosen@example.com", email);
    }
}
