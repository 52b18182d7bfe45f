package io.herald.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/**
 * Identity links (issue 13 point 4) on the embedded stack: a real Zendesk ticket event names its customer only by the
 * requester's user id (external_id null) and is delivered through the requester's link; an unknown requester is
 * quarantined with a reason naming the system and the id, and an operator links it to a customer and re-drives it in
 * one audited step (API and console); contact.updated adds and moves links; a Stripe id resolves through its link.
 */
class IdentityLinksTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aRealZendeskEventIsDeliveredThroughItsRequestersLink() throws Exception {
        String unique = newTicketId();
        String customer = customer(unique, "Zoe Link");
        String requester = "38" + unique;
        jdbc.update("INSERT INTO customer_link (system, external_id, customer_id, origin) VALUES ('zendesk', ?, ?, 'test')", requester, customer);

        assertThat(postSignedSupport(realZendesk(unique, requester)).statusCode()).isEqualTo(202);

        assertThat(awaitMailFor(statusKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email(customer));
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, statusKey(unique)))
                .isEqualTo(customer);
    }

    @Test
    void anUnknownRequesterIsQuarantinedThenLinkedFromTheApiAndReDrivenInOneStep() throws Exception {
        String unique = newTicketId();
        String customer = customer(unique, "Una Known");
        String requester = "39" + unique;
        assertThat(postSignedSupport(realZendesk(unique, requester)).statusCode()).isEqualTo(202);

        Map<String, Object> held = quarantined(unique);
        assertThat(held.get("step")).isEqualTo("identity");
        assertThat(held.get("reason").toString())
                .startsWith("Zendesk user " + requester + " is not linked to any customer: link it from the event page in the console")
                .contains("support event ");
        long id = ((Number) held.get("id")).longValue();

        // Refused requests change nothing: no comment, a customer who is not in the directory.
        HttpResponse<String> noComment = apiJson("POST", "/api/quarantine/" + id + "/link", "{\"customerId\": \"" + customer + "\"}");
        assertThat(noComment.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(noComment.body()).get("error").asText()).contains("needs a comment");
        HttpResponse<String> noSuchCustomer = apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"cus_nobody" + unique + "\", \"comment\": \"checked\"}");
        assertThat(noSuchCustomer.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(noSuchCustomer.body()).get("error").asText())
                .isEqualTo("customer cus_nobody" + unique + " is not in Herald's customer directory; choose an existing customer (find them under Customers)");
        assertThat(apiJson("POST", "/api/quarantine/999999999/link", "{\"customerId\": \"" + customer + "\", \"comment\": \"x\"}").statusCode())
                .isEqualTo(404);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_link WHERE external_id = ?", Integer.class, requester)).isZero();
        // An event quarantined for another reason (its mapping refused it) is not linked to anyone: refused, nothing recorded.
        String broken = newTicketId();
        assertThat(postSignedSupport(realZendesk(broken, requester).replace("\"time\":\"", "\"time\":\"not a time")).statusCode()).isEqualTo(202);
        long mappingId = ((Number) await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'support' AND source_event_id = ? AND outcome = 'QUARANTINED' AND step <> 'identity'",
                "01ZD" + broken), rows -> rows.size() == 1).get(0).get("id")).longValue();
        HttpResponse<String> notIdentity = apiJson("POST", "/api/quarantine/" + mappingId + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"checked\"}");
        assertThat(notIdentity.statusCode()).isEqualTo(409);
        assertThat(JSON.readTree(notIdentity.body()).get("error").asText()).startsWith("event " + mappingId + " was quarantined at step ")
                .contains("linking a customer does not help");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE target_id = ? AND action IN ('LINK', 'ASSIGN')", Integer.class,
                mappingId)).isZero();

        HttpResponse<String> linked = apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"requester checked in Zendesk\"}");
        assertThat(linked.statusCode()).isEqualTo(200);
        JsonNode result = JSON.readTree(linked.body());
        assertThat(result.get("status").asText()).isEqualTo("REDRIVEN");
        assertThat(result.get("outcome").asText()).isEqualTo("ROUTE");
        assertThat(result.get("linkedSystem").asText()).isEqualTo("zendesk");
        assertThat(result.get("linkedExternalId").asText()).isEqualTo(requester);
        assertThat(result.get("customerId").asText()).isEqualTo(customer);
        assertThat(result.get("notificationId").asLong()).isPositive();
        assertThat(result.get("message").asText())
                .isEqualTo("linked Zendesk user " + requester + " to customer " + customer + "; re-driven: ROUTE");

        assertThat(awaitMailFor(statusKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email(customer));
        assertThat(jdbc.queryForMap("SELECT customer_id, origin FROM customer_link WHERE system = 'zendesk' AND external_id = ?", requester))
                .containsEntry("customer_id", customer)
                .containsEntry("origin", "linked by operator: requester checked in Zendesk");
        assertThat(jdbc.queryForMap("SELECT actor, action, comment, outcome, notification_id FROM operator_action"
                + " WHERE target = 'quarantine' AND target_id = ?", id))
                .containsEntry("actor", "operator").containsEntry("action", "LINK")
                .containsEntry("comment", "requester checked in Zendesk")
                .containsEntry("outcome", "linked Zendesk user " + requester + " to customer " + customer + "; re-driven: ROUTE")
                .containsEntry("notification_id", result.get("notificationId").asLong());

        // The same requester's next ticket needs no one: it resolves through the link.
        String next = newTicketId();
        assertThat(postSignedSupport(realZendesk(next, requester)).statusCode()).isEqualTo(202);
        assertThat(awaitMailFor(statusKey(next)).getAllRecipients()).extracting(Object::toString).containsExactly(email(customer));
        // The event is no longer open: linking it again is refused.
        assertThat(apiJson("POST", "/api/quarantine/" + id + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"again\"}").statusCode()).isEqualTo(409);
    }

    @Test
    void anOperatorLinksAnUnknownRequesterFromTheQuarantinedEventsPage() throws Exception {
        String unique = newTicketId();
        String customer = customer(unique, "Cora Console");
        String requester = "40" + unique;
        assertThat(postSignedSupport(realZendesk(unique, requester)).statusCode()).isEqualTo(202);
        long id = ((Number) quarantined(unique).get("id")).longValue();

        String page = console(OPERATOR, "GET", "/console/quarantine/" + id, null).body();
        assertThat(page).contains("Zendesk user " + requester + " is not linked to any customer: link it from the event page in the console")
                .contains("/console/quarantine/" + id + "/link").contains("Link this id to the customer and re-drive");
        // A viewer reads the page but gets no link button.
        assertThat(console(VIEWER, "GET", "/console/quarantine/" + id, null).body()).contains(requester)
                .doesNotContain("/console/quarantine/" + id + "/link");

        HttpResponse<String> posted = console(OPERATOR, "POST", "/console/quarantine/" + id + "/link",
                "customerId=" + customer + "&comment=" + URLEncoder.encode("same person as ticket 35436", StandardCharsets.UTF_8));
        assertThat(posted.statusCode()).isEqualTo(302);
        assertThat(posted.headers().firstValue("Location").orElse("")).endsWith("/console/quarantine/" + id);

        assertThat(awaitMailFor(statusKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email(customer));
        String after = console(OPERATOR, "GET", "/console/quarantine/" + id, null).body();
        assertThat(after).contains("REDRIVEN").contains("LINK").contains("same person as ticket 35436")
                .contains("linked Zendesk user " + requester + " to customer " + customer + "; re-driven: ROUTE")
                .doesNotContain("Link this id to the customer and re-drive");
    }

    @Test
    void aRequesterIdThatCannotBeUsedIsQuarantinedSayingSo() throws Exception {
        String unique = newTicketId();
        JsonNode event = JSON.readTree(realZendesk(unique, "1"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) event.get("detail")).put("requester_id", "9".repeat(300));
        assertThat(postSignedSupport(JSON.writeValueAsString(event)).statusCode()).isEqualTo(202);

        assertThat(quarantined(unique).get("reason")).isEqualTo("support event 01ZD" + unique + " names its customer only by a Zendesk user id"
                + " that cannot be used (empty, longer than 200 characters or with control characters) and carries no customer id;"
                + " fix the event at its source, then re-drive");
    }

    @Test
    void contactUpdatedAddsAndMovesLinks() throws Exception {
        String unique = newTicketId();
        String first = "cus_cl1" + unique;
        String second = "cus_cl2" + unique;
        String requester = "41" + unique;
        String crmAccount = "0015g" + unique + "AAA";

        outbox(contact(first, crmAccount, requester, "2026-11-21T08:15:00Z"));
        await().atMost(Duration.ofSeconds(30)).until(() -> links(first).size() == 2);
        assertThat(links(first)).containsExactly("crm " + crmAccount, "zendesk " + requester);
        assertThat(jdbc.queryForObject("SELECT origin FROM customer_link WHERE system = 'zendesk' AND external_id = ?", String.class, requester))
                .startsWith("crm contact.updated crm-outbox-");

        // The CRM now says this Zendesk user is another customer: the link moves, the next ticket goes to them.
        outbox(contact(second, "0015g" + unique + "BBB", requester, "2026-11-21T09:00:00Z"));
        await().atMost(Duration.ofSeconds(30)).until(() -> links(second).size() == 2);
        assertThat(links(second)).containsExactly("crm 0015g" + unique + "BBB", "zendesk " + requester);
        assertThat(links(first)).containsExactly("crm " + crmAccount);

        assertThat(postSignedSupport(realZendesk(unique, requester)).statusCode()).isEqualTo(202);
        assertThat(awaitMailFor(statusKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(second + "@example.net");

        // A CRM event that names the account only by the CRM's own id resolves through the crm link.
        String order = Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique)
                .replace("\"externalId\": \"cus_RkT4aB7cD9eF1g\", ", "").replace("0015g00000XyZ1AAA", crmAccount);
        assertThat(order).doesNotContain("externalId");
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)", order);
        assertThat(awaitMailFor("crm:order.confirmed:ORD-" + unique).getAllRecipients()).extracting(Object::toString)
                .containsExactly(first + "@example.net");
    }

    /**
     * Contact changes arrive out of order (a backlog, a replay): a link is moved only by a change at least as new as the one
     * that wrote it. The older one is kept as IGNORED saying which id stayed where, and both times; its own directory entry
     * and the ids nobody newer holds still go in.
     */
    @Test
    void anOlderContactChangeDoesNotMoveALinkANewerOneWrote() throws Exception {
        String unique = newTicketId();
        String newer = "cus_cn1" + unique;
        String older = "cus_cn2" + unique;
        String requester = "42" + unique;

        long first = outbox(contact(newer, "0015g" + unique + "AAA", requester, "2026-11-21T09:00:00Z"));
        await().atMost(Duration.ofSeconds(30)).until(() -> links(newer).size() == 2);

        // Written by the CRM at 08:00, handled after the 09:00 change: the Zendesk user stays with the newer change's customer.
        long late = outbox(contact(older, "0015g" + unique + "BBB", requester, "2026-11-21T08:00:00Z"));
        Map<String, Object> skipped = unrouted("crm-outbox-" + late);
        assertThat(skipped).containsEntry("outcome", "IGNORED").containsEntry("step", "identity");
        assertThat(skipped.get("reason")).isEqualTo("crm contact.updated crm-outbox-" + late + " (changed 2026-11-21T08:00:00Z)"
                + " did not move Zendesk user " + requester + " to customer " + older + ": its link to customer " + newer
                + " is newer (crm contact.updated crm-outbox-" + first + ", as of 2026-11-21T09:00:00Z), and an older change never"
                + " moves a link. If " + older + " is right, correct the contact in the CRM so that it sends a newer change");
        assertThat(link(requester)).containsEntry("customer_id", newer).containsEntry("origin", "crm contact.updated crm-outbox-" + first);
        assertThat(links(older)).containsExactly("crm 0015g" + unique + "BBB");
        assertThat(jdbc.queryForObject("SELECT email FROM customer WHERE customer_id = ?", String.class, older)).isEqualTo(older + "@example.net");

        // A change as new as the link's moves it (at least as new: the same time is enough).
        long same = outbox(contact(older, "0015g" + unique + "BBB", requester, "2026-11-21T09:00:00Z"));
        await().atMost(Duration.ofSeconds(30)).until(() -> older.equals(link(requester).get("customer_id")));
        assertThat(link(requester)).containsEntry("origin", "crm contact.updated crm-outbox-" + same);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ?", Integer.class,
                "crm-outbox-" + same)).isZero();
    }

    /** An operator's explicit link is not overturned by a contact change written before it; one written after it moves it. */
    @Test
    void anOperatorsLinkIsMovedOnlyByAContactChangeNewerThanIt() throws Exception {
        String unique = newTicketId();
        String customer = customer(unique, "Otto Operator");
        String other = "cus_co" + unique;
        String requester = "43" + unique;
        assertThat(postSignedSupport(realZendesk(unique, requester)).statusCode()).isEqualTo(202);
        long held = ((Number) quarantined(unique).get("id")).longValue();
        assertThat(apiJson("POST", "/api/quarantine/" + held + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"checked in Zendesk\"}").statusCode()).isEqualTo(200);
        awaitMailFor(statusKey(unique));
        java.time.Instant linkedAt = jdbc.queryForObject("SELECT changed_at FROM customer_link WHERE system = 'zendesk' AND external_id = ?",
                java.sql.Timestamp.class, requester).toInstant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

        // The CRM's change of last month, handled now, does not undo what the operator decided since.
        long before = outbox(contact(other, "0015g" + unique + "CCC", requester, "2026-11-21T08:15:00Z"));
        Map<String, Object> skipped = unrouted("crm-outbox-" + before);
        assertThat(skipped).containsEntry("outcome", "IGNORED").containsEntry("step", "identity");
        assertThat(skipped.get("reason")).isEqualTo("crm contact.updated crm-outbox-" + before + " (changed 2026-11-21T08:15:00Z)"
                + " did not move Zendesk user " + requester + " to customer " + other + ": its link to customer " + customer
                + " is newer (linked by operator: checked in Zendesk, as of " + linkedAt + "), and an older change never moves a link."
                + " If " + other + " is right, correct the contact in the CRM so that it sends a newer change");
        assertThat(link(requester)).containsEntry("customer_id", customer).containsEntry("origin", "linked by operator: checked in Zendesk");

        // A change the CRM wrote after the operator's link is newer knowledge: it moves the link.
        String after = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).plusSeconds(1).toString();
        long later = outbox(contact(other, "0015g" + unique + "CCC", requester, after));
        await().atMost(Duration.ofSeconds(30)).until(() -> other.equals(link(requester).get("customer_id")));
        assertThat(link(requester)).containsEntry("origin", "crm contact.updated crm-outbox-" + later);
    }

    @Test
    void aStripeCustomerResolvesThroughItsLinkToAHeraldCustomerWithAnotherId() throws Exception {
        String unique = newTicketId();
        String customer = customer(unique, "Sam Stripe");
        String stripeId = "cus_Stripe" + unique;
        jdbc.update("INSERT INTO customer_link (system, external_id, customer_id, origin) VALUES ('stripe', ?, ?, 'test')", stripeId, customer);

        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", stripeId)).statusCode()).isEqualTo(202);

        assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString)
                .containsExactly(email(customer));
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class,
                Samples.paymentFailedKey(unique))).isEqualTo(customer);

        // An unknown Stripe customer is quarantined naming the system and the id.
        String unknownEvent = newTicketId();
        postSignedBilling(Samples.paymentFailed(unknownEvent).replace("cus_RkT4aB7cD9eF1g", "cus_Nobody" + unknownEvent));
        Map<String, Object> held = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT step, reason FROM unrouted_event WHERE source_event_id = ?", "evt_test" + unknownEvent), rows -> rows.size() == 1).get(0);
        assertThat(held.get("step")).isEqualTo("identity");
        assertThat(held.get("reason")).isEqualTo("Stripe customer cus_Nobody" + unknownEvent
                + " is not linked to any customer: link it from the event page in the console (billing event evt_test" + unknownEvent
                + " names customer cus_Nobody" + unknownEvent + ", who is not in Herald's customer directory)");
    }

    // ---------------------------------------------------------------- helpers

    /** The status-changed sample as real Zendesk sends it: the requester's user id (a number), external_id null. */
    private static String realZendesk(String ticket, String requester) throws Exception {
        JsonNode event = JSON.readTree(Samples.supportEvent("ticket.status_changed.json", ticket));
        ((com.fasterxml.jackson.databind.node.ObjectNode) event).put("id", "01ZD" + ticket);
        var detail = (com.fasterxml.jackson.databind.node.ObjectNode) event.get("detail");
        detail.putNull("external_id");
        detail.put("requester_id", Long.parseLong(requester));
        return JSON.writeValueAsString(event);
    }

    private static String statusKey(String ticket) {
        return "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
    }

    private String customer(String unique, String name) {
        String id = "cus_il" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, ?, ?)", id, name, email(id));
        return id;
    }

    private static String email(String customer) {
        return customer.toLowerCase() + "@example.com";
    }

    private Map<String, Object> quarantined(String ticket) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id, step, reason FROM unrouted_event WHERE source = 'support' AND source_event_id = ? AND outcome = 'QUARANTINED'",
                "01ZD" + ticket), rows -> rows.size() == 1).get(0);
    }

    private static String contact(String customer, String crmAccount, String zendeskUser, String updatedAt) {
        return Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("0015g00000XyZ1AAA", crmAccount)
                .replace("jenny.rosen@example.org", customer + "@example.net")
                .replace("2026-11-21T08:15:00Z", updatedAt)
                .replace("\"firstName\"", "\"externalIds\": {\"zendesk\": \"" + zendeskUser + "\"},\n  \"firstName\"");
    }

    private long outbox(String contact) {
        return jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?) RETURNING id",
                Long.class, contact);
    }

    private Map<String, Object> link(String zendeskUser) {
        return jdbc.queryForMap("SELECT customer_id, origin FROM customer_link WHERE system = 'zendesk' AND external_id = ?", zendeskUser);
    }

    /** A contact change's record among the unrouted events, once intake has written it. */
    private Map<String, Object> unrouted(String sourceEventId) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, step, reason FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?", sourceEventId),
                rows -> rows.size() == 1).get(0);
    }

    private List<String> links(String customer) {
        return jdbc.queryForList("SELECT system || ' ' || external_id FROM customer_link WHERE customer_id = ? ORDER BY system",
                String.class, customer);
    }

    /** A console page or form post with Basic credentials (no CSRF form token needed), redirects not followed. */
    private HttpResponse<String> console(String account, String method, String path, String form) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)));
        if (form != null) {
            request.header("Content-Type", "application/x-www-form-urlencoded").method(method, HttpRequest.BodyPublishers.ofString(form));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
