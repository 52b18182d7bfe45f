package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TopicRecords;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Issue 12 point 9 for the CRM source: one customer's outbox events are keyed by their account and keep
 * their order, also with several instances (one claims at a time).
 */
class CustomerOrderTest extends HeraldIntegrationTest {

    @Autowired
    ObjectMapper json;

    @Autowired
    CamelContext camel;

    @Autowired
    ProducerTemplate producer;

    @Autowired
    DataSource dataSource;

    @Test
    void oneCustomersCrmEventsArriveInTheOrderTheCrmWroteThem() throws Exception {
        String customer = "cus_order" + newTicketId();
        String firstOrder = newTicketId();
        String otherCustomersOrder = newTicketId();
        String secondOrder = newTicketId();
        // The contact that creates the customer, their order, another customer's order, an address change, a second order.
        // The customer's account in the CRM: its own id, which the rows are keyed by (the sample's is another customer's).
        String account = "0015g" + customer.replaceAll("\\D", "");
        List<Long> rows = outboxTogether(
                new String[] {"contact", "contact.updated", ofAccount(contact(customer, "first", "2026-11-21T08:15:00Z"), account)},
                new String[] {"order", "order.confirmed", ofAccount(order(firstOrder, customer), account)},
                new String[] {"order", "order.confirmed", order(otherCustomersOrder, "cus_RkT4aB7cD9eF1g")},
                new String[] {"contact", "contact.updated", ofAccount(contact(customer, "second", "2026-11-21T09:00:00Z"), account)},
                new String[] {"order", "order.confirmed", ofAccount(order(secondOrder, customer), account)});

        // The first order found the customer the contact had just created; the second went to the changed address.
        awaitMailFor("crm:order.confirmed:ORD-" + firstOrder);
        assertThat(awaitMailFor("crm:order.confirmed:ORD-" + secondOrder).getAllRecipients()).extracting(Object::toString)
                .containsExactly(customer + ".second@example.net");
        awaitMailFor("crm:order.confirmed:ORD-" + otherCustomersOrder);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'crm' AND source_event_id IN (?, ?, ?, ?, ?)",
                Integer.class, rows.stream().map(row -> "crm-outbox-" + row).toArray())).isZero();

        // On the topic: keyed by the account, so one partition holds the customer's events in the CRM's order.
        Map<Long, ConsumerRecord<String, String>> queued = await().atMost(Duration.ofSeconds(10))
                .until(() -> queuedByRow(rows), records -> records.size() == rows.size());
        List<Long> customersRows = List.of(rows.get(0), rows.get(1), rows.get(3), rows.get(4));
        assertThat(customersRows).allSatisfy(row -> assertThat(queued.get(row).key()).isEqualTo(account));
        assertThat(queued.get(rows.get(2)).key()).isEqualTo("0015g00000XyZ1AAA");
        assertThat(customersRows.stream().map(row -> queued.get(row).partition()).distinct()).hasSize(1);
        assertThat(customersRows.stream().map(row -> queued.get(row).offset()).toList()).isSorted();
    }

    @Test
    void whileAnotherInstanceIsClaimingThisOneWaitsItsTurnSoNewerRowsCannotOvertake() throws Exception {
        camel.getRouteController().stopRoute("crm-outbox-poll");
        try {
            String unique = newTicketId();
            long row;
            try (Connection otherInstance = dataSource.getConnection()) {
                // Another Herald instance is in its claim transaction (still queueing older rows).
                otherInstance.setAutoCommit(false);
                otherInstance.createStatement().execute("SELECT pg_advisory_xact_lock(hashtext('herald-claim:crm_outbox'))");
                row = outboxTogether(new String[] {"order", "order.confirmed", order(unique, "cus_RkT4aB7cD9eF1g")}).get(0);

                producer.sendBody("direct:crm-outbox-claim", (Object) null);
                assertThat(processed(row)).isFalse();
                assertThat(queuedByRow(List.of(row))).isEmpty();
                otherInstance.commit();
            }
            producer.sendBody("direct:crm-outbox-claim", (Object) null);
            assertThat(processed(row)).isTrue();
            awaitMailFor("crm:order.confirmed:ORD-" + unique);
        } finally {
            camel.getRouteController().startRoute("crm-outbox-poll");
        }
    }

    private boolean processed(long row) {
        return jdbc.queryForObject("SELECT processed_at IS NOT NULL FROM crm_outbox WHERE id = ?", Boolean.class, row);
    }

    private Map<Long, ConsumerRecord<String, String>> queuedByRow(List<Long> rows) {
        Map<Long, ConsumerRecord<String, String>> byRow = new java.util.HashMap<>();
        for (ConsumerRecord<String, String> record : TopicRecords.all(infra.kafkaBrokers(), "herald.crm.events")) {
            try {
                long row = json.readTree(record.value()).path("outboxId").asLong();
                if (rows.contains(row)) {
                    byRow.merge(row, record, (a, b) -> Comparator.<ConsumerRecord<String, String>>comparingLong(ConsumerRecord::offset)
                            .compare(a, b) <= 0 ? a : b);
                }
            } catch (Exception e) {
                // another test's record that is not JSON: not ours
            }
        }
        return byRow;
    }

    private static String contact(String customer, String address, String updatedAt) {
        return Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("jenny.rosen@example.org", customer + "." + address + "@example.net")
                .replace("2026-11-21T08:15:00Z", updatedAt);
    }

    private static String ofAccount(String row, String crmId) {
        return row.replace("0015g00000XyZ1AAA", crmId);
    }

    private static String order(String unique, String customer) {
        return Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique).replace("cus_RkT4aB7cD9eF1g", customer);
    }

    /** Inserts the rows (aggregate, event type, payload) in one statement, in this order, so one claim takes them together. */
    private List<Long> outboxTogether(String[]... rows) {
        String values = String.join(", ", Collections.nCopies(rows.length, "(?, ?, ?)"));
        Object[] args = java.util.Arrays.stream(rows).flatMap(java.util.Arrays::stream).toArray();
        return jdbc.queryForList("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES " + values + " RETURNING id",
                Long.class, args);
    }
}
