package io.herald.kafka;

import static io.herald.testsupport.OwnHeraldClient.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import io.herald.HeraldApplication;
import io.herald.config.AlertSettings;
import io.herald.config.DatabaseHealth;
import io.herald.config.DatabaseMigrations;
import io.herald.config.DatabaseTls;
import io.herald.config.DatabaseTlsPool;
import io.herald.config.DatabaseTlsRefused;
import io.herald.config.HealthCheckSettings;
import io.herald.config.HeraldSettings;
import io.herald.config.IngestSettings;
import io.herald.config.KafkaSecuritySettings;
import io.herald.config.KafkaSettings;
import io.herald.config.TopicSettings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.ops.OpsKafkaAdmin;
import io.herald.ops.OutageAlerts;
import io.herald.ops.ProviderBreakers;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import io.herald.testsupport.StandaloneKafka;
import io.herald.testsupport.TlsPostgres;
import io.herald.testsupport.WithoutQuietHours;
import org.apache.kafka.clients.admin.Admin;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
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
 * <p>
 * Its PostgreSQL is managed-style too (TlsPostgres: a CA and a server certificate made for the test), reached with
 * herald.db.ssl-mode verify-full and the CA in herald.db.ssl-root-cert: Flyway's migrations, the pool and readiness go over
 * TLS, and the event above is recorded through it. A CA that did not sign the server's certificate, a host the certificate
 * does not name and a server without TLS are each named in words by readiness and by a failed start.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class SecuredKafkaTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    /** A password with a double quote and a backslash: each must reach the broker as written, not end the login's JAAS option. */
    private static final String PASSWORD = "s3cr\"et\\pass";
    /** Made and started while the broker starts (by TlsPostgres's own method: this class is not initialised until both are). */
    private static final CompletableFuture<TlsPostgres> postgresStarting = CompletableFuture.supplyAsync(TlsPostgres::startForTest);
    private static final StandaloneKafka kafka = broker();
    private static final TlsPostgres postgres = postgresStarting.join();

    private final String run = String.valueOf(System.currentTimeMillis());

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    TopicSettings topics;
    @Autowired
    IngestSettings ingest;
    @Autowired
    ObjectMapper json;
    @Autowired
    AlertSettings alertSettings;
    @Autowired
    ProviderBreakers breakers;
    @Autowired
    OpsKafkaAdmin opsKafka;
    @Autowired
    Clock clock;
    @Autowired
    CamelContext camel;

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
        registry.add("herald.db.url", postgres::url);
        registry.add("herald.db.ssl-mode", () -> "verify-full");
        registry.add("herald.db.ssl-root-cert", () -> postgres.ca().toString());
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
        postgres.close();
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
        // ... recorded in a PostgreSQL reached over TLS only, its certificate checked (verify-full): readiness sees it too.
        assertThat(jdbc.queryForObject("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", Boolean.class)).isTrue();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(herald.delivery(Samples.paymentFailedKey(unique), "email").get("state")).isEqualTo("SENT"));
        HttpResponse<String> health = herald.as(ADMIN, "GET", "/actuator/health", null);
        assertThat(OwnHeraldClient.json(health).at("/components/db/status").asText()).as(health.body()).isEqualTo("UP");
    }

    /**
     * A PostgreSQL that refuses Herald's TLS connection is named in words, with the setting to correct: by readiness (it said
     * "PostgreSQL did not answer", as for a server that is down, which waiting does not fix), by the outage alert (it said
     * "PostgreSQL unreachable") and by a start that stops at Flyway's first connection (it printed Flyway's "Unable to obtain
     * connection" over the driver's stack trace).
     */
    @Test
    void aPostgresThatRefusesHeraldsTlsConnectionIsNamedInWords(CapturedOutput output) {
        String serverWithoutTls = infra.heraldSettings().get("herald.db.url");
        Map<String, String> refusals = Map.of(
                postgres.url() + "|" + postgres.unrelatedCa(), DatabaseTlsRefused.UNTRUSTED,
                postgres.urlByAddress() + "|" + postgres.ca(), DatabaseTlsRefused.WRONG_HOST,
                serverWithoutTls + "|" + postgres.ca(), DatabaseTlsRefused.NO_TLS);
        refusals.forEach((server, reason) -> {
            String[] urlAndCa = server.split("\\|");
            try (HikariDataSource pool = new HikariDataSource()) {
                pool.setJdbcUrl(urlAndCa[0]);
                pool.setUsername("postgres");
                pool.setPassword("postgres");
                pool.setConnectionTimeout(1000);
                DatabaseTls.driverProperties(new HeraldSettings.Db(urlAndCa[0], "postgres", "postgres", DatabaseTls.SslMode.VERIFY_FULL,
                        urlAndCa[1])).forEach((key, value) -> pool.addDataSourceProperty((String) key, value));
                DatabaseHealth health = new DatabaseHealth(pool, new HealthCheckSettings(60_000, 60_000));
                try {
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(health.health().getDetails().get("reason"))
                            .as(urlAndCa[0]).isEqualTo(reason + ": Herald waits (nothing is skipped) until it is fixed"));
                } finally {
                    health.stop();
                }
                if (reason.equals(DatabaseTlsRefused.UNTRUSTED)) {
                    // The ops webhook's outage alert, composed over that pool, says the same.
                    OutageAlerts alerts = new OutageAlerts(new JdbcTemplate(pool), json, alertSettings, breakers, opsKafka,
                            new io.herald.ops.StoppedRoutes(camel, new JdbcTemplate(pool), alertSettings),
                            new io.herald.ops.MissingTopics(opsKafka, java.util.List.of(), 1, 1, 0), clock);
                    Exchange exchange = new DefaultExchange(camel);
                    try {
                        alerts.compose(exchange);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    assertThat(exchange.getMessage().getBody(String.class)).containsPattern("PostgreSQL refused Herald's TLS connection since"
                            + " \\d\\d:\\d\\d UTC: PostgreSQL's certificate is not signed by a CA Herald trusts");
                }
            }
        });
        // A start against the wrong CA stops at Flyway's first connection, saying so in words.
        SpringApplication migrations = new SpringApplication(OnlyMigrations.class);
        migrations.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> migrations.run("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--spring.datasource.url=" + postgres.url(), "--spring.datasource.username=postgres", "--spring.datasource.password=postgres",
                "--herald.db.url=" + postgres.url(), "--herald.db.ssl-mode=verify-full", "--herald.db.ssl-root-cert=" + postgres.unrelatedCa()))
                .isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Herald cannot start: it could not connect to PostgreSQL over TLS.").contains(DatabaseTlsRefused.UNTRUSTED);
    }

    /** Herald's database settings and Flyway's migrations on their own: what a start does before anything else connects. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class})
    @EnableConfigurationProperties(HeraldSettings.class)
    @Import({DatabaseMigrations.class, DatabaseTlsPool.class})
    static class OnlyMigrations {
    }

    @Test
    void aWrongPasswordIsToldApartFromABrokerThatDoesNotAnswer() throws Exception {
        KafkaSettings settings = new KafkaSettings(kafka.brokers(), "herald", 1, 45000);
        KafkaClientSecurity wrong = new KafkaClientSecurity(new KafkaSecuritySettings(KafkaSecuritySettings.Protocol.SASL_SSL,
                KafkaSecuritySettings.Mechanism.PLAIN, "herald", "not-the-password", kafka.certificate().toString(), "", "", ""));
        assertThatThrownBy(() -> new HeraldTopics(settings, wrong, topics, ingest, new org.springframework.core.env.StandardEnvironment()).declare())
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
