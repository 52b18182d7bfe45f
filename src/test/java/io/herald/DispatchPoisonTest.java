package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.ReadAgain;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TopicRecords;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Issue 12 point 4 for dispatch: a notification record that cannot be processed is dead-lettered,
 * and the next record of the same customer, behind it in the same partition, is still delivered.
 */
class DispatchPoisonTest extends HeraldIntegrationTest {

    private static final String CUSTOMER = "cus_RkT4aB7cD9eF1g";

    @Autowired
    ObjectMapper json;
    @Autowired
    CamelContext camel;

    @Test
    void theNotificationBehindAnUndispatchableOneInItsPartitionIsDelivered() throws Exception {
        String poison = "{\"idempotencyKey\": \"poison-" + UUID.randomUUID() + "\", \"customerId\": \"" + CUSTOMER + "\", \"type\": [";
        publish("herald.notifications", CUSTOMER, poison);
        String unique = newTicketId();
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)",
                Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique));
        String key = "crm:order.confirmed:ORD-" + unique;

        assertThat(awaitMailFor(key).getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        Map<String, Object> deadLetter = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT stage, reason FROM dead_letter WHERE payload = ?", poison), rows -> rows.size() == 1).get(0);
        assertThat(deadLetter).containsEntry("stage", "dispatch");

        // Both records are the customer's, so they share a partition: the good one was behind the poison one.
        List<ConsumerRecord<String, String>> records = TopicRecords.all(infra.kafkaBrokers(), "herald.notifications");
        ConsumerRecord<String, String> poisonRecord = records.stream().filter(r -> poison.equals(r.value())).findFirst().orElseThrow();
        ConsumerRecord<String, String> goodRecord = records.stream().filter(r -> {
            try {
                return key.equals(json.readTree(r.value()).path("idempotencyKey").asText());
            } catch (Exception e) {
                return false;
            }
        }).findFirst().orElseThrow();
        assertThat(goodRecord.partition()).isEqualTo(poisonRecord.partition());
        assertThat(goodRecord.offset()).isGreaterThan(poisonRecord.offset());
    }

    /**
     * An undispatchable notification near the topic's size limit, full of characters JSON escapes: its dead-letter record (the
     * payload written out inside it) was over the limit, the broker refused it at every try, and the batch was read again for
     * ever, a dead_letter row more each time and nothing behind it dispatched. The topic now gets the payload's start; the table
     * keeps it whole, once.
     */
    @Test
    void anUndispatchableNotificationTooLargeToRepublishIsKeptOnceAndTheOneBehindItIsDelivered() throws Exception {
        String poison = "{\"idempotencyKey\": \"poison-large-" + UUID.randomUUID() + "\", \"customerId\": \"" + CUSTOMER
                + "\", \"note\": \"" + "\u0001".repeat(400_000) + "\", \"type\": [";
        publish("herald.notifications", CUSTOMER, poison);
        String unique = newTicketId();
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)",
                Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique));

        assertThat(awaitMailFor("crm:order.confirmed:ORD-" + unique)).isNotNull();
        assertThat(jdbc.queryForList("SELECT stage FROM dead_letter WHERE payload = ?", String.class, poison)).containsExactly("dispatch");
        String published = TopicRecords.all(infra.kafkaBrokers(), "herald.dead-letters").stream().map(ConsumerRecord::value)
                .filter(value -> value.contains("poison-large-")).findFirst().orElseThrow();
        JsonNode record = json.readTree(published);
        assertThat(record.get("payload").asText()).hasSize(64 * 1024);
        assertThat(record.get("payloadCut").asText()).startsWith("the payload is " + poison.length() + " characters; its first 65536 are here");
    }

    /**
     * The poison record read again, as a consumer group rebalance or a crash before the offset commit makes dispatch read it
     * (here the dispatch consumers are stopped and their group's offset set back to it): one dead_letter row and one record on
     * the dead-letters topic, not one per reading (a full run saw a record read again in the middle of a test).
     */
    @Test
    void anUndispatchableRecordReadAgainIsKeptAndPublishedOnce() throws Exception {
        String key = "poison-reread-" + UUID.randomUUID();
        String poison = "{\"idempotencyKey\": \"" + key + "\", \"customerId\": \"" + CUSTOMER + "\", \"type\": [";
        publish("herald.notifications", CUSTOMER, poison);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM dead_letter WHERE payload = ? AND published_at IS NOT NULL", Integer.class, poison) == 1);
        ConsumerRecord<String, String> record = TopicRecords.all(infra.kafkaBrokers(), "herald.notifications").stream()
                .filter(r -> poison.equals(r.value())).findFirst().orElseThrow();
        TopicPartition partition = new TopicPartition("herald.notifications", record.partition());
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            ReadAgain.fromOffset(camel, admin, "dispatch", "herald.dispatch", partition, record.offset());
        }
        // A notification of the same customer behind it, in the same partition: once it is mailed, the poison was read again.
        String unique = newTicketId();
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)",
                Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique));
        awaitMailFor("crm:order.confirmed:ORD-" + unique);

        assertThat(jdbc.queryForList("SELECT stage FROM dead_letter WHERE payload = ?", String.class, poison)).containsExactly("dispatch");
        assertThat(TopicRecords.all(infra.kafkaBrokers(), "herald.dead-letters").stream().map(ConsumerRecord::value)
                .filter(value -> value.contains(key))).hasSize(1);
    }
}
