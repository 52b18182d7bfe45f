package io.herald.kafka;

import static io.herald.testsupport.OwnHeraldClient.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.herald.HeraldApplication;
import io.herald.config.HealthCheckSettings;
import io.herald.config.IngestSettings;
import io.herald.config.KafkaSecuritySettings;
import io.herald.config.KafkaSettings;
import io.herald.config.TopicSettings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import io.herald.testsupport.StandaloneKafka;
import io.herald.testsupport.WithoutQuietHours;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
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
 * A Kafka cluster that, as Confluent Cloud, Amazon MSK or Aiven do, takes only TLS connections with a login (SASL_SSL,
 * PLAIN): a broker of its own (StandaloneKafka, its certificate made for the test) and a Herald of its own given
 * herald.kafka.security.*. Every Kafka client Herald has must log in: the topics are declared, readiness sees the broker, and
 * an event goes through the webhook's producer, the source's and dispatch's consumers to the customer's inbox. Before these
 * settings Herald could only reach a plaintext broker. A wrong password is told apart from a broker that does not answer.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class SecuredKafkaTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    /** A password with a double quote and a backslash: each must reach the broker as written, not end the login's JAAS option. */
    private static final String PASSWORD = "s3cr\"et\\pass";
    private static final StandaloneKafka kafka = broker();

    private final String run = String.valueOf(System.currentTimeMillis());

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    TopicSettings topics;
    @Autowired
    IngestSettings ingest;

    private static StandaloneKafka broker() {
        try {
            return StandaloneKafka.startWithLogin("herald", PASSWORD);
        } catch (Exception e) {
            throw new IllegalStateException("the test's secured Kafka broker did not start", e);
        }
    }

    @DynamicPropertySource
    static void securedKafka(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "secured-kafka-test");
        registry.add("herald.catalog", () -> WithoutQuietHours.shipped().toString());
        registry.add("herald.kafka.brokers", kafka::brokers);
        registry.add("herald.kafka.security.protocol", () -> "sasl_ssl");
        registry.add("herald.kafka.security.sasl-mechanism", () -> "plain");
        registry.add("herald.kafka.security.username", () -> "herald");
        registry.add("herald.kafka.security.password", () -> PASSWORD);
        registry.add("herald.kafka.security.truststore-file", () -> kafka.certificate().toString());
    }

    @AfterAll
    static void stopBroker() throws InterruptedException {
        kafka.close();
    }

    @Test
    void everyKafkaClientLogsInOverTlsAndAnEventReachesTheCustomer() throws Exception {
        OwnHeraldClient herald = new OwnHeraldClient(infra, port, jdbc);
        // The topics were declared on the secured broker (the admin client logged in).
        try (Admin admin = Admin.create(clientOf("herald", PASSWORD))) {
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            assertThat(names).contains(topics.billingEvents(), topics.notifications(), topics.deadLetters());
        }
        // Readiness sees the broker (its health check logs in).
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> health = herald.as(ADMIN, "GET", "/actuator/health", null);
            assertThat(OwnHeraldClient.json(health).at("/components/kafka/status").asText()).as(health.body()).isEqualTo("UP");
        });
        // A payment failure through the webhook (producer), billing ingest and dispatch (consumers) to the customer's inbox.
        String unique = "sk" + run;
        // Posted as Stripe would, again after a 503: a first TLS connection and login on a busy machine can outlast the
        // webhook's short wait for the broker (herald.ingest.kafka-max-block-ms), which then answers 503 with nothing accepted.
        String event = Samples.paymentFailedNow(unique);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> herald.postBilling(event));
        assertThat(herald.awaitMailFor(Samples.paymentFailedKey(unique)).getSubject()).isEqualTo("Your payment of US$49.00 did not go through");
    }

    @Test
    void aWrongPasswordIsToldApartFromABrokerThatDoesNotAnswer() throws Exception {
        KafkaSettings settings = new KafkaSettings(kafka.brokers(), "herald", 1, 45000);
        KafkaClientSecurity wrong = new KafkaClientSecurity(new KafkaSecuritySettings(KafkaSecuritySettings.Protocol.SASL_SSL,
                KafkaSecuritySettings.Mechanism.PLAIN, "herald", "not-the-password", kafka.certificate().toString(), "", "", ""));
        assertThatThrownBy(() -> new HeraldTopics(settings, wrong, topics, ingest).declare())
                .hasMessage(KafkaLoginRefused.REASON);
        KafkaHealth health = new KafkaHealth(settings, wrong, new HealthCheckSettings(60_000, 60_000));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(health.health().getDetails().get("reason"))
                .isEqualTo(KafkaLoginRefused.REASON + ": webhooks answer 503 (senders retry) and events wait until it is fixed"));
        health.stop();
    }

    private static Properties clientOf(String username, String password) {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.brokers());
        config.put("security.protocol", "SASL_SSL");
        config.put("sasl.mechanism", "PLAIN");
        config.put("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + username
                + "\" password=\"" + password.replace("\\", "\\\\").replace("\"", "\\\"") + "\";");
        config.put("ssl.truststore.location", kafka.certificate().toString());
        config.put("ssl.truststore.type", "PEM");
        return config;
    }
}
