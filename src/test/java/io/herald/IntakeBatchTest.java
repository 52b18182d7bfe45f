package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;

import io.herald.testsupport.DispatchHold;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TopicRecords;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Issue 17 point 1 (intake): the billing consumer takes a Kafka poll's records as a batch. Each record is
 * still mapped, validated and admitted or quarantined on its own and in order; the batch's notifications
 * reach the notifications topic in source order, and the batch's offsets are committed past all of them.
 */
class IntakeBatchTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    private static final String TOPIC = "herald.billing.events";
    private static final String CUSTOMER = "cus_RkT4aB7cD9eF1g";

    @Test
    void aBatchWithABadRecordInTheMiddleQuarantinesItAloneAndPublishesTheRestInOrder() throws Exception {
        List<String> uniques = new ArrayList<>();
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            String unique = newTicketId();
            uniques.add(unique);
            String event = Samples.paymentFailed(unique);
            events.add(i == 25 ? event.replace("\"amount_due\": 4900", "\"amount_due\": \"49.00\"") : event);
        }
        String badUnique = uniques.get(25);

        // All 50 sent before waiting for any acknowledgement, the way a busy billing system fills one poll.
        Map<TopicPartition, Long> published = new java.util.HashMap<>();
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (String event : events) {
                sent.add(producer.send(new ProducerRecord<>(TOPIC, CUSTOMER, event)));
            }
            for (Future<RecordMetadata> ack : sent) {
                RecordMetadata metadata = ack.get();
                published.merge(new TopicPartition(TOPIC, metadata.partition()), metadata.offset(), Math::max);
            }
        }

        List<String> goodKeys = uniques.stream().filter(u -> !u.equals(badUnique)).map(Samples::paymentFailedKey).toList();
        // Every other event is delivered, once.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(goodKeys)
                .allSatisfy(key -> assertThat(mailsFor(key)).hasSize(1)));
        assertThat(goodKeys).allSatisfy(key -> assertThat(jdbc.queryForList("SELECT d.channel FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email'", key)).hasSize(1));

        // The bad one is quarantined alone, with its reason in words.
        assertThat(jdbc.queryForObject("SELECT reason FROM unrouted_event WHERE outcome = 'QUARANTINED' AND raw_payload LIKE ?",
                String.class, "%in_test" + badUnique + "%"))
                .contains("data.object.amount_due is the text '49.00', expected a number");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Integer.class,
                Samples.paymentFailedKey(badUnique))).isZero();

        // On the notifications topic: keyed by the customer, one partition, in the order the billing system sent them.
        List<ConsumerRecord<String, String>> ours = TopicRecords.all(infra.kafkaBrokers(), "herald.notifications").stream()
                .filter(record -> goodKeys.stream().anyMatch(key -> record.value().contains("\"" + key + "\"")))
                .toList();
        assertThat(ours).hasSize(goodKeys.size());
        assertThat(ours).allSatisfy(record -> assertThat(record.key()).isEqualTo(CUSTOMER));
        assertThat(ours.stream().map(ConsumerRecord::partition).distinct()).hasSize(1);
        List<String> topicOrder = ours.stream()
                .sorted(java.util.Comparator.comparingLong(ConsumerRecord::offset))
                .map(record -> goodKeys.stream().filter(key -> record.value().contains("\"" + key + "\"")).findFirst().orElseThrow())
                .toList();
        assertThat(topicOrder).containsExactlyElementsOf(goodKeys);

        // The consumer group has committed past every one of them.
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("herald.billing-ingest")
                        .partitionsToOffsetAndMetadata().get();
                published.forEach((partition, last) -> assertThat(committed.get(partition))
                        .as("committed offset of %s", partition).isNotNull()
                        .satisfies(offset -> assertThat(offset.offset()).isGreaterThan(last)));
            });
            // And dispatch, a batching consumer too, has committed past their notifications (its deliveries are in the ledger).
            ConsumerRecord<String, String> lastNotification = ours.stream().max(java.util.Comparator.comparingLong(ConsumerRecord::offset))
                    .orElseThrow();
            TopicPartition notifications = new TopicPartition("herald.notifications", lastNotification.partition());
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(admin.listConsumerGroupOffsets("herald.dispatch")
                    .partitionsToOffsetAndMetadata().get().get(notifications)).as("dispatch's committed offset of %s", notifications)
                    .isNotNull().satisfies(offset -> assertThat(offset.offset()).isGreaterThan(lastNotification.offset())));
        }
    }

    /**
     * Issue 17 point 6 at intake: database transactions per notification while 200 billing events are taken in,
     * with dispatch stopped so only intake (and the background timers, measured alone over as long) counts.
     */
    @Test
    void intakeRoundTripsPerNotificationAreMeasured() throws Exception {
        String run = newTicketId();
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            events.add(Samples.paymentFailed(run + "x" + i));
        }
        DispatchHold.hold(camel);
        try {
            long idleStart = committedTransactions();
            long idleFrom = System.nanoTime();
            // Waits of 3 s and 2 s, timed by nanoTime (their margins only keep a busy machine's late wake-up from failing them).
            await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(60)).until(() -> true);
            long idle = committedTransactions() - idleStart;
            double idleSeconds = (System.nanoTime() - idleFrom) / 1e9;

            long before = committedTransactions();
            long from = System.nanoTime();
            Properties config = new Properties();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
                for (String event : events) {
                    producer.send(new ProducerRecord<>(TOPIC, CUSTOMER, event));
                }
                producer.flush();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForObject(
                    "SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Integer.class,
                    "billing:invoice.payment_failed:in_test" + run + "x%") == 200);
            double seconds = (System.nanoTime() - from) / 1e9;
            await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(60)).until(() -> true);
            long xact = committedTransactions() - before;
            double background = idle / idleSeconds * ((System.nanoTime() - from) / 1e9);   // over the time really counted
            System.out.printf("INTAKE-ROUND-TRIPS: 200 billing events admitted in %.2f s; %d transactions committed,"
                    + " about %.0f of them background (%d in %.1f s idle); %.2f per notification at intake%n",
                    seconds, xact, background, idle, idleSeconds, (xact - background) / 200.0);
            // Fewer than before batching (2.7 per notification); PostgreSQL's counters may lag, so this bounds from above only.
            assertThat((xact - background) / 200.0).isLessThan(2.0);
        } finally {
            DispatchHold.release(camel);
        }
        // Their 600 deliveries (one customer, so one after the other per channel) are done before the next test counts anything.
        await().atMost(Duration.ofSeconds(150)).until(() -> jdbc.queryForObject("""
                SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key LIKE ? AND d.state IN ('PENDING', 'SENDING')""", Integer.class,
                "billing:invoice.payment_failed:in_test" + run + "x%") == 0);
    }

    /**
     * A batch's identity lookup, quarantines and admission are one transaction: when the admission hits a database fault
     * (a deadlock, raised once by a trigger), none of it stays, and the retried publish admits the good event and quarantines
     * the event with an unknown customer again, each exactly once: nothing lost with the rollback, nothing written twice.
     */
    @Test
    void aBatchWhoseAdmissionFailsOnceIsAdmittedAndQuarantinedOnceWhenTriedAgain() throws Exception {
        String good = newTicketId();
        String unknown = newTicketId();
        String goodKey = Samples.paymentFailedKey(good);
        // nextval is outside the transaction: the trigger fails the first admission of the good event only.
        jdbc.execute("CREATE SEQUENCE IF NOT EXISTS intake_fault_once");
        jdbc.execute("""
                CREATE OR REPLACE FUNCTION intake_fault_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.idempotency_key = '%s' AND nextval('intake_fault_once') = 1 THEN
                    RAISE EXCEPTION 'deadlock detected (raised once by IntakeBatchTest)' USING ERRCODE = '40P01';
                  END IF;
                  RETURN NEW;
                END $$""".formatted(goodKey));
        jdbc.execute("CREATE TRIGGER intake_fault_once BEFORE INSERT ON notification FOR EACH ROW EXECUTE FUNCTION intake_fault_once()");
        try {
            Properties config = new Properties();
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
            config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
                // One poll: the unknown customer's event first (quarantined at the lookup), then the good one.
                producer.send(new ProducerRecord<>(TOPIC, CUSTOMER, Samples.paymentFailed(unknown)
                        .replace(CUSTOMER, "cus_NotInDirectory" + unknown)));
                producer.send(new ProducerRecord<>(TOPIC, CUSTOMER, Samples.paymentFailed(good)));
                producer.flush();
            }
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(mailsFor(goodKey)).hasSize(1));
        } finally {
            jdbc.execute("DROP TRIGGER IF EXISTS intake_fault_once ON notification");
            jdbc.execute("DROP FUNCTION IF EXISTS intake_fault_once()");
        }
        // The fault happened, and the batch was tried again.
        assertThat(jdbc.queryForObject("SELECT last_value FROM intake_fault_once", Long.class)).isGreaterThanOrEqualTo(2);
        jdbc.execute("DROP SEQUENCE intake_fault_once");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Integer.class, goodKey)).isOne();
        // The unknown customer's event: quarantined once, with its reason, although its first quarantine was rolled back.
        List<String> reasons = jdbc.queryForList("SELECT reason FROM unrouted_event WHERE outcome = 'QUARANTINED' AND raw_payload LIKE ?",
                String.class, "%in_test" + unknown + "%");
        assertThat(reasons).singleElement().asString().contains("cus_NotInDirectory" + unknown);
        await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(mailsFor(goodKey)).hasSize(1));
    }

    private long committedTransactions() {
        return jdbc.queryForObject("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", Long.class);
    }

}
