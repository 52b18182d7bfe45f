package io.herald.testsupport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.herald.local.EmbeddedInfrastructure;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A stream of payment-failed events (email, SMS and ops webhook each) for packaged-Herald tests,
 * on topics of its own, and the tally of what the customer-facing side received per event.
 */
public final class EventStream {

    private final EmbeddedInfrastructure infra;
    private final String name;
    private final int customers;

    public EventStream(EmbeddedInfrastructure infra, String name, int customers) {
        this.infra = infra;
        this.name = name;
        this.customers = customers;
    }

    /** The stream's topics (3 partitions each, so several instances can share them). */
    public void createTopics() throws InterruptedException, ExecutionException {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        try (AdminClient admin = AdminClient.create(config)) {
            for (String topic : List.of("support.events", "billing.events", "crm.events", "notifications", "dead-letters")) {
                try {
                    // 6 partitions: more than one instance's consumers (3), so two instances in one group both get some
                    admin.createTopics(List.of(new NewTopic(name + "." + topic, 6, (short) 1))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Herald's environment for this stream: its topics, no CRM, provider rates that do not throttle the test. */
    public Map<String, String> environment(int port) {
        Map<String, String> env = PackagedHerald.prodEnvironment(infra, port, name);
        env.put("HERALD_TOPICS_SUPPORT_EVENTS", name + ".support.events");
        env.put("HERALD_TOPICS_BILLING_EVENTS", name + ".billing.events");
        env.put("HERALD_TOPICS_CRM_EVENTS", name + ".crm.events");
        env.put("HERALD_TOPICS_NOTIFICATIONS", name + ".notifications");
        env.put("HERALD_TOPICS_DEAD_LETTERS", name + ".dead-letters");
        env.put("HERALD_CRM_ENABLED", "false");
        env.put("HERALD_MAIL_RATE_PER_SECOND", "5000");
        env.put("HERALD_SMS_RATE_PER_SECOND", "5000");
        env.put("HERALD_OPS_WEBHOOK_RATE_PER_SECOND", "5000");
        env.put("HERALD_OPS_WEBHOOK_MAX_IN_FLIGHT", "16");   // a post per event here (ops: each), to a fast sandbox
        // These ITs count one ops post per event (its own Idempotency-Key): the per-notification path, ops: each.
        env.put("HERALD_CATALOG", OpsEachCatalog.file().toString());
        env.put("HERALD_DELIVERY_RETRY_DELAY_MS", "200");
        // A crash's SENDING rows are found soon; the timeouts stay below it, as Herald checks at startup
        // (one try of at most connect + response, one retry).
        env.put("HERALD_DELIVERY_SENDING_TIMEOUT", "PT30S");
        env.put("HERALD_DELIVERY_MAX_RETRIES", "1");
        env.put("HERALD_DELIVERY_MAX_RETRY_DELAY_MS", "1000");
        env.put("HERALD_DELIVERY_TIMEOUTS_CONNECT_MS", "2000");
        env.put("HERALD_DELIVERY_TIMEOUTS_RESPONSE_MS", "10000");   // the sandbox shares 2 cores with two instances
        env.put("HERALD_MAIL_CONNECT_TIMEOUT_MS", "2000");
        env.put("HERALD_MAIL_READ_TIMEOUT_MS", "5000");
        env.put("HERALD_MAIL_WRITE_TIMEOUT_MS", "2000");
        env.put("HERALD_DELIVERY_STALE_POLL_MS", "2000");
        env.put("HERALD_DELIVERY_PARKED_POLL_MS", "1000");
        env.put("HERALD_KAFKA_SESSION_TIMEOUT_MS", "10000");   // a killed instance's partitions move on sooner
        return env;
    }

    public void seedCustomers() throws Exception {
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement insert = db.prepareStatement("INSERT INTO customer (customer_id, display_name, email, phone)"
                     + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (int i = 0; i < customers; i++) {
                insert.setString(1, customer(i));
                insert.setString(2, "Stream Customer " + i);
                insert.setString(3, customer(i) + "@example.net");
                insert.setString(4, "+4477009" + String.format("%05d", i));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /** Publishes the events as the billing system's producer would, keyed by customer. */
    public void publish(int count) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                String customer = customer(i % customers);
                producer.send(new ProducerRecord<>(name + ".billing.events", customer,
                        Samples.paymentFailed(name + i).replace("cus_RkT4aB7cD9eF1g", customer)));
            }
            producer.flush();
        }
    }

    /** The notification key of event i. */
    public String key(int i) {
        return Samples.paymentFailedKey(name + i);
    }

    /** Per channel and state, how many of this stream's deliveries are there. */
    public Map<String, Integer> deliveryStates() throws Exception {
        Map<String, Integer> states = new HashMap<>();
        try (Connection db = PackagedHerald.connect(infra);
             PreparedStatement query = db.prepareStatement("SELECT d.channel || ':' || d.state, count(*) FROM delivery d"
                     + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key LIKE ? GROUP BY 1")) {
            query.setString(1, "billing:invoice.payment_failed:in_test" + name + "%");
            try (ResultSet rows = query.executeQuery()) {
                while (rows.next()) {
                    states.put(rows.getString(1), rows.getInt(2));
                }
            }
        }
        return states;
    }

    /** Provider requests per Idempotency-Key header, for this stream's keys, on a sandbox path. */
    public Map<String, Integer> providerRequestsByKey(String pathPart) {
        Map<String, Integer> byKey = new HashMap<>();
        for (ServeEvent event : infra.providers().getAllServeEvents()) {
            String key = event.getRequest().getHeader("Idempotency-Key");
            if (key != null && key.contains("in_test" + name) && event.getRequest().getUrl().contains(pathPart)) {
                byKey.merge(key, 1, Integer::sum);
            }
        }
        return byKey;
    }

    /** Mails per X-Herald-Idempotency-Key, for this stream's keys. */
    public Map<String, Integer> mailsByKey() throws Exception {
        Map<String, Integer> byKey = new HashMap<>();
        for (MimeMessage mail : infra.mail().getReceivedMessages()) {
            String key = mail.getHeader("X-Herald-Idempotency-Key", null);
            if (key != null && key.contains("in_test" + name)) {
                byKey.merge(key, 1, Integer::sum);
            }
        }
        return byKey;
    }

    private String customer(int i) {
        return "cus_" + name + "_" + i;
    }
}
