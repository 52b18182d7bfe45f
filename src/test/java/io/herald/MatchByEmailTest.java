package io.herald;

import static io.herald.testsupport.OwnHeraldClient.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.WithoutQuietHours;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * herald.identity.match-by-email: true, for a deployment that chooses to match an event carrying only an email (a Stripe
 * guest charge) by it: the one customer with that email (case-insensitive) gets it; none or several quarantine it at
 * identity, never guessed; an operator can still assign such an event to a customer.
 *
 * <p>Its own Herald (own database, topics, consumer group): the shared test context runs the default (false), which
 * QuarantineApiTest and BillingSourceTest are about.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class MatchByEmailTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();

    private final String run = String.valueOf(System.currentTimeMillis());

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @DynamicPropertySource
    static void matchingByEmail(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "match-by-email-test");
        // The shipped catalog without its billing quiet hours: the refund mail goes out at any hour the suite runs.
        registry.add("herald.catalog", () -> WithoutQuietHours.shipped().toString());
        registry.add("herald.identity.match-by-email", () -> "true");
    }

    @Test
    void aGuestChargesRefundReachesTheOneCustomerWithItsEmailAndNoneOrSeveralAreQuarantinedNeverGuessed() throws Exception {
        String one = herald.insertCustomer("cus_one" + run, "Una One", null, null, null);
        String shared = "shared" + run + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Pat A', ?), (?, 'Pat B', ?)",
                "cus_a" + run, shared, "cus_b" + run, shared.toUpperCase());
        herald.postBilling(BillingSourceTest.guestRefund("1" + run, ("cus_one" + run + "@Example.com").toUpperCase()));
        herald.postBilling(BillingSourceTest.guestRefund("2" + run, "nobody" + run + "@example.net"));
        herald.postBilling(BillingSourceTest.guestRefund("3" + run, shared));

        // Exactly one customer has the email (case aside): the refund notice goes to them.
        String key = "billing:charge.refunded:ch_guest1" + run + ":12999";
        assertThat(herald.awaitMailFor(key).getAllRecipients()).extracting(Object::toString).containsExactly(one + "@example.com");
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, key)).isEqualTo(one);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_link WHERE customer_id = ?", Integer.class, one)).isZero();

        // None has it, or two do: quarantined at identity, saying so, the email masked, no one guessed.
        Map<String, Object> nobody = quarantined("evt_guest2" + run);
        assertThat(nobody).containsEntry("step", "identity");
        assertThat(nobody.get("reason").toString()).isEqualTo("billing event evt_guest2" + run
                + " carries no customer id, only the email n***@example.net, and no customer in Herald's directory has that email");
        Map<String, Object> ambiguous = quarantined("evt_guest3" + run);
        assertThat(ambiguous).containsEntry("step", "identity");
        assertThat(ambiguous.get("reason").toString()).isEqualTo("billing event evt_guest3" + run
                + " carries no customer id, only the email s***@example.com, which is ambiguous: 2 customers in Herald's directory"
                + " share it (cus_a" + run + ", cus_b" + run + "); not guessed. Assign it to the right customer from the event page in the console, or fix"
                + " the directory and re-drive it");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id IN (?, ?)", Integer.class,
                "evt_guest2" + run, "evt_guest3" + run)).isZero();

        // The operator knows whose the ambiguous one is and assigns it: it goes to that customer only.
        HttpResponse<String> assigned = herald.as(OPERATOR, "POST", "/api/quarantine/" + ambiguous.get("id") + "/link",
                "{\"customerId\": \"cus_b" + run + "\", \"comment\": \"Pat B placed the order\"}");
        assertThat(assigned.statusCode()).as(assigned.body()).isEqualTo(200);
        assertThat(OwnHeraldClient.json(assigned).get("action").asText()).isEqualTo("ASSIGN");
        String assignedKey = "billing:charge.refunded:ch_guest3" + run + ":12999";
        assertThat(herald.awaitMailFor(assignedKey).getAllRecipients()).extracting(Object::toString).containsExactly(shared.toUpperCase());
        assertThat(jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, assignedKey))
                .isEqualTo("cus_b" + run);
    }

    private Map<String, Object> quarantined(String sourceEventId) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id, step, reason FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND source_event_id = ?",
                sourceEventId), rows -> rows.size() == 1).get(0);
    }
}
