package io.herald.testsupport;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The console's test scene: a customer whose push token the push provider refuses (HTTP 400, a
 * permanent error, so the delivery FAILS at once with the provider's reason), and CRM orders for them
 * through the outbox. Removing the stub is "the customer's app registered a new token".
 */
public final class RefusedPushOrders {

    public static final String PUSH_PATH = "/v1/projects/[^/]+/messages:send";

    private final JdbcTemplate jdbc;
    private final WireMockServer providers;
    public final String customer;
    private final StubMapping refusal;

    public RefusedPushOrders(JdbcTemplate jdbc, WireMockServer providers, String customer) {
        this.jdbc = jdbc;
        this.providers = providers;
        this.customer = customer;
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Casey Console', ?, ?, ?::jsonb)",
                customer, customer + "@example.net", "+447700900555", "[\"fcm:" + token + "\"]");
        refusal = providers.stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": {\"status\": \"INVALID_ARGUMENT\", \"message\": \"The registration token is not valid\"}}")));
    }

    /** Queues an order.confirmed for the customer in the CRM outbox; returns the order number. */
    public String order(String unique) {
        String orderId = "ORD-" + unique;
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)",
                Samples.text("crm/order.confirmed.json").replace("ORD-100234", orderId).replace("cus_RkT4aB7cD9eF1g", customer));
        return orderId;
    }

    /** The provider accepts the customer's token from now on. */
    public void tokenFixed() {
        providers.removeStub(refusal);
    }

    public static String key(String orderId) {
        return "crm:order.confirmed:" + orderId;
    }
}
