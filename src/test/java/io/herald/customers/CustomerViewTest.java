package io.herald.customers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herald.receipts.DeliveryReceipts;
import io.herald.receipts.Suppressions;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The customer view (issue 13 point 5) on the embedded stack: a customer found by id, external id, email and phone;
 * their addresses, consent, suppressions and links; every notification newest first with each delivery's final state
 * and receipts (sent, skipped, failed), paged; notifications searchable by customer, order and ticket; a viewer sees
 * personal data masked; a high-priority notification skipped on every customer channel shows among the failures.
 */
class CustomerViewTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    DeliveryReceipts receipts;
    @Autowired
    Suppressions suppressions;

    private String unique;
    private String customer;
    private String email;
    private String phone;
    private String requester;

    @BeforeEach
    void aCustomerWithALink() {
        unique = newTicketId();
        customer = "cus_cv" + unique;
        email = "Vera.View" + unique + "@Example.com";
        phone = "+4477009" + String.format("%05d", Integer.parseInt(unique) % 100_000);
        requester = "43" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, preferences) VALUES (?, 'Vera View', ?, ?,"
                + " '{\"billing\": [\"email\", \"sms\"], \"support\": [\"email\"]}'::jsonb)", customer, email, phone);
        jdbc.update("INSERT INTO customer_link (system, external_id, customer_id, origin) VALUES ('zendesk', ?, ?, 'test')", requester, customer);
    }

    @Test
    void aCustomerIsFoundByIdExternalIdEmailAndPhone() throws Exception {
        assertThat(found(customer)).containsExactly(customer + " by customer id");
        assertThat(found(requester)).containsExactly(customer + " by zendesk id");
        assertThat(found(email.toUpperCase())).containsExactly(customer + " by email");
        assertThat(found(phone.substring(0, 3) + " " + phone.substring(3, 7) + " " + phone.substring(7))).containsExactly(customer + " by phone");
        // Without the + or with 00 before the country code, as people type numbers.
        assertThat(found(phone.substring(1))).containsExactly(customer + " by phone");
        assertThat(found("00" + phone.substring(1, 3) + " " + phone.substring(3))).containsExactly(customer + " by phone");
        assertThat(found("nobody" + unique + "@example.com")).isEmpty();

        String page = console(OPERATOR, "/console/customers?q=" + URLEncoder.encode(requester, StandardCharsets.UTF_8)).body();
        assertThat(page).contains("/console/customers/" + customer).contains(email).contains("zendesk id");
    }

    @Test
    void theCustomerViewShowsAddressesConsentSuppressionsLinksAndEveryNotificationNewestFirst() throws Exception {
        // 1. A support ticket (through the Zendesk link): mailed, and the provider's receipt says delivered.
        String ticket = newTicketId();
        assertThat(postSignedSupport(realZendesk(ticket)).statusCode()).isEqualTo(202);
        String supportKey = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        awaitMailFor(supportKey);
        String messageId = await().atMost(Duration.ofSeconds(30)).until(() -> (String) delivery(supportKey, "email").get("provider_message_id"),
                id -> id != null);
        assertThat(receipts.record(new DeliveryReceipts.Receipt("email", messageId, "sg_" + unique, "delivered", null, "DELIVERED",
                "the customer's mail server accepted the email", null, null))).isEqualTo("APPLIED");

        // 2. The email address bounces hard and is suppressed; the customer has no SMS either way after that: a payment-failed
        //    (high priority) is skipped on every customer channel, an invoice-paid (normal) on its only one.
        suppressions.add("email", email, "hard bounce: 550 5.1.1 user unknown", null);
        jdbc.update("UPDATE customer SET phone = NULL WHERE customer_id = ?", customer);
        String order = "ORD-CV" + unique;
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("ORD-100234", order)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SKIPPED".equals(delivery(Samples.paymentFailedKey(unique), "email").get("state"))
                && "SKIPPED".equals(delivery(Samples.paymentFailedKey(unique), "sms").get("state")));
        String paidKey = "billing:invoice.paid:in_paid" + unique;
        assertThat(postSignedBilling(Samples.text("billing/invoice.paid.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_paid" + unique)
                .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_paid" + unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode())
                .isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SKIPPED".equals(delivery(paidKey, "email").get("state")));
        jdbc.update("UPDATE customer SET phone = ? WHERE customer_id = ?", phone, customer);

        JsonNode profile = json(api("GET", "/api/customers/" + customer));
        assertThat(profile.get("customerId").asText()).isEqualTo(customer);
        assertThat(profile.get("displayName").asText()).isEqualTo("Vera View");
        assertThat(profile.get("email").asText()).isEqualTo(email);
        assertThat(profile.get("phone").asText()).isEqualTo(phone);
        assertThat(profile.get("consent").get("billing").toString()).isEqualTo("[\"email\",\"sms\"]");
        assertThat(profile.get("suppressions")).hasSize(1);
        assertThat(profile.get("suppressions").get(0).get("channel").asText()).isEqualTo("email");
        assertThat(profile.get("suppressions").get(0).get("reason").asText()).contains("is suppressed since").contains("hard bounce: 550 5.1.1");
        assertThat(profile.get("links")).hasSize(1);
        assertThat(profile.get("links").get(0).get("system").asText()).isEqualTo("zendesk");
        assertThat(profile.get("links").get(0).get("externalId").asText()).isEqualTo(requester);

        JsonNode page = json(api("GET", "/api/customers/" + customer + "/notifications"));
        assertThat(page.get("customerId").asText()).isEqualTo(customer);
        assertThat(page.get("nextPage").isNull()).isTrue();
        List<String> types = new ArrayList<>();
        page.get("notifications").forEach(n -> types.add(n.get("type").asText()));
        assertThat(types).containsExactly("billing.invoice_paid", "billing.payment_failed", "support.ticket_status_changed");

        JsonNode paid = page.get("notifications").get(0);
        assertThat(paid.get("deliveries")).hasSize(1);
        assertThat(paid.get("deliveries").get(0).get("state").asText()).isEqualTo("SKIPPED");
        assertThat(paid.get("deliveries").get(0).get("reason").asText()).contains("is suppressed since");
        JsonNode failed = page.get("notifications").get(1);
        assertThat(failed.get("priority").asText()).isEqualTo("high");
        assertThat(failed.get("orderId").asText()).isEqualTo(order);
        JsonNode support = page.get("notifications").get(2);
        assertThat(support.get("ticketId").asText()).isEqualTo(ticket);
        JsonNode mailed = deliveryOf(support, "email");
        assertThat(mailed.get("state").asText()).isEqualTo("DELIVERED");
        assertThat(mailed.get("sentAt").isNull()).isFalse();
        assertThat(mailed.get("receipts")).hasSize(1);
        assertThat(mailed.get("receipts").get(0).get("status").asText()).isEqualTo("delivered");
        assertThat(mailed.get("receipts").get(0).get("outcome").asText()).isEqualTo("APPLIED");

        // Paged: one at a time, newest first.
        JsonNode first = json(api("GET", "/api/customers/" + customer + "/notifications?size=1"));
        assertThat(first.get("notifications")).hasSize(1);
        assertThat(first.get("nextPage").asInt()).isEqualTo(1);
        JsonNode last = json(api("GET", "/api/customers/" + customer + "/notifications?size=1&page=2"));
        assertThat(last.get("notifications").get(0).get("type").asText()).isEqualTo("support.ticket_status_changed");
        assertThat(last.get("nextPage").isNull()).isTrue();

        // Notifications (not only failures) by order and by ticket, in the API and the console.
        assertThat(ids(json(api("GET", "/api/notifications?orderId=" + order)))).containsExactly(failed.get("id").asLong());
        assertThat(ids(json(api("GET", "/api/notifications?ticketId=" + ticket)))).containsExactly(support.get("id").asLong());
        assertThat(ids(json(api("GET", "/api/notifications?customerId=" + customer)))).hasSize(3);
        assertThat(api("GET", "/api/notifications").statusCode()).isEqualTo(400);
        assertThat(console(OPERATOR, "/console/notifications?ticketId=" + ticket).body())
                .contains("support.ticket_status_changed").contains("DELIVERED").contains("receipt delivered");
        String view = console(OPERATOR, "/console/customers/" + customer).body();
        assertThat(view).contains(email).contains("hard bounce: 550 5.1.1").contains(requester)
                .contains("billing.invoice_paid").contains("billing.payment_failed").contains("SKIPPED");

        // The high-priority one reached the customer on no channel: it is in the failures view, the normal one is not.
        JsonNode failures = json(api("GET", "/api/failures?customerId=" + customer));
        List<String> failing = new ArrayList<>();
        failures.forEach(f -> failing.add(f.get("type").asText() + " " + f.get("channel").asText() + " " + f.get("state").asText()));
        assertThat(failing).contains("billing.payment_failed email SKIPPED", "billing.payment_failed sms SKIPPED")
                .noneMatch(f -> f.startsWith("billing.invoice_paid")).noneMatch(f -> f.startsWith("support."));
        assertThat(console(OPERATOR, "/console?customerId=" + customer).body()).contains("billing.payment_failed").doesNotContain("billing.invoice_paid");

        assertThat(api("GET", "/api/customers/cus_nobody" + unique).statusCode()).isEqualTo(404);
        assertThat(api("GET", "/api/customers/cus_nobody" + unique + "/notifications").statusCode()).isEqualTo(404);
        // An id nobody has, however long, is named cut to a readable length, not echoed whole.
        HttpResponse<String> longId = api("GET", "/api/customers/cus_" + "y".repeat(5000));
        assertThat(longId.statusCode()).isEqualTo(404);
        assertThat(longId.body()).contains("no customer cus_yyy").hasSizeLessThan(300);
    }

    @Test
    void aViewerSeesPersonalDataMasked() throws Exception {
        HttpResponse<String> search = apiAs(VIEWER, "GET", "/api/customers?q=" + URLEncoder.encode(email, StandardCharsets.UTF_8), null);
        assertThat(search.statusCode()).isEqualTo(200);
        JsonNode hit = json(search).get(0);
        assertThat(hit.get("customerId").asText()).isEqualTo(customer);
        assertThat(hit.get("email").asText()).isEqualTo("V***@Example.com");
        assertThat(hit.get("phone").asText()).isEqualTo(phone.substring(0, 4) + "…" + phone.substring(phone.length() - 4));
        assertThat(hit.get("displayName").asText()).isEqualTo("V•••");

        // An operator's link comment that names the customer's address and number is masked for a viewer too.
        jdbc.update("UPDATE customer_link SET origin = ? WHERE system = 'zendesk' AND external_id = ?",
                "linked by operator: requester " + email + ", " + phone, requester);
        HttpResponse<String> profile = apiAs(VIEWER, "GET", "/api/customers/" + customer, null);
        assertThat(profile.statusCode()).isEqualTo(200);
        assertThat(profile.body()).doesNotContain(email).doesNotContain(phone).doesNotContain("Vera View");
        assertThat(json(profile).get("links").get(0).get("externalId").asText()).isEqualTo(requester);

        String page = console(VIEWER, "/console/customers/" + customer).body();
        assertThat(page).contains(customer).contains("V***@Example.com").doesNotContain(email).doesNotContain(phone);
        assertThat(console(OPERATOR, "/console/customers/" + customer).body()).contains(email).contains(phone)
                .contains("linked by operator: requester " + email);
        // Viewers read; acting stays with operators.
        assertThat(apiAs(VIEWER, "GET", "/api/customers/" + customer + "/notifications", null).statusCode()).isEqualTo(200);
        assertThat(apiAs(VIEWER, "POST", "/api/quarantine/1/link", "{\"customerId\": \"" + customer + "\", \"comment\": \"x\"}").statusCode())
                .isEqualTo(403);
    }

    // ---------------------------------------------------------------- helpers

    private List<String> found(String query) throws Exception {
        List<String> hits = new ArrayList<>();
        json(api("GET", "/api/customers?q=" + URLEncoder.encode(query, StandardCharsets.UTF_8)))
                .forEach(h -> hits.add(h.get("customerId").asText() + " by " + h.get("matchedBy").asText()));
        return hits;
    }

    private String realZendesk(String ticket) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(Samples.supportEvent("ticket.status_changed.json", ticket));
        event.put("id", "01CV" + ticket);
        ((ObjectNode) event.get("detail")).putNull("external_id");
        ((ObjectNode) event.get("detail")).put("requester_id", Long.parseLong(requester));
        return JSON.writeValueAsString(event);
    }

    private static JsonNode deliveryOf(JsonNode notification, String channel) {
        for (JsonNode d : notification.get("deliveries")) {
            if (d.get("channel").asText().equals(channel)) {
                return d;
            }
        }
        throw new AssertionError("no " + channel + " delivery in " + notification);
    }

    private static List<Long> ids(JsonNode page) {
        List<Long> ids = new ArrayList<>();
        page.get("notifications").forEach(n -> ids.add(n.get("id").asLong()));
        return ids;
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    private HttpResponse<String> console(String account, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
