package io.herald.local;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.util.FileSystemUtils;

/**
 * PostgreSQL, a KRaft Kafka broker, an SMTP server that keeps what it receives and a provider
 * sandbox (WireMock, which journals every request), all in this JVM. Started once per JVM and
 * shared by the local run and the tests; nothing needs Docker or an installed server.
 */
public final class EmbeddedInfrastructure {

    public static final String[] TOPICS = {"herald.support.events", "herald.billing.events", "herald.crm.events", "herald.notifications", "herald.dead-letters"};

    private static EmbeddedInfrastructure running;

    private final Path postgresData;
    private final int postgresPort;
    private EmbeddedPostgres postgres;
    private final EmbeddedKafkaKraftBroker kafka;
    private final GreenMail mail;
    private final WireMockServer providers;

    private EmbeddedInfrastructure(int smtpPort, int providerPort) throws IOException {
        // A data directory of our own, kept across a stop, so PostgreSQL can be stopped and started
        // again on the same port with the same data (the outage tests do).
        postgresData = Files.createTempDirectory("herald-embedded-pg-");
        postgres = postgresOn(0);
        postgresPort = postgres.getPort();
        kafka = new EmbeddedKafkaKraftBroker(1, 3, TOPICS);
        // As Herald's events topics need in production: room for a webhook body at the limit plus record overhead.
        kafka.brokerProperties(Map.of("message.max.bytes", "2097152"));
        kafka.afterPropertiesSet();
        ServerSetup smtp = new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP);
        smtp = smtpPort == 0 ? smtp.dynamicPort() : smtp;
        smtp.setServerStartupTimeout(30_000);   // GreenMail's default 2 s is short on a loaded machine
        mail = new GreenMail(smtp);
        mail.start();
        providers = new WireMockServer(options().port(providerPort).bindAddress("127.0.0.1"));
        providers.start();
        // Accept anything by default, as a provider sandbox would; tests add stubs of their own.
        providers.stubFor(any(anyUrl()).atPriority(10).willReturn(aResponse().withStatus(202)
                .withHeader("Content-Type", "application/json").withBody("{\"status\":\"accepted\",\"sandbox\":true}")));
        // The SMS and push sandboxes answer like their providers, with a message id.
        providers.stubFor(post(urlPathMatching("/2010-04-01/Accounts/[^/]+/Messages.json")).atPriority(9)
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"sid\": \"SM{{randomValue length=32 type='HEXADECIMAL'}}\", \"status\": \"queued\"}")
                        .withTransformers("response-template")));
        providers.stubFor(post(urlPathMatching("/v1/projects/[^/]+/messages:send")).atPriority(9)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"name\": \"projects/herald-local/messages/{{randomValue length=19 type='NUMERIC'}}\"}")
                        .withTransformers("response-template")));
        // The helpdesk sandbox takes ticket notes like Zendesk (PUT /api/v2/tickets/{id}.json answers the ticket).
        providers.stubFor(put(urlPathMatching("/api/v2/tickets/[^/]+\\.json")).atPriority(9)
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"ticket\": {\"status\": \"open\"}, \"audit\": {\"events\": [{\"type\": \"Comment\", \"public\": false}]}}")));
        Runtime.getRuntime().addShutdownHook(new Thread(this::stop, "embedded-infrastructure-stop"));
    }

    private EmbeddedPostgres postgresOn(int port) throws IOException {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setDataDirectory(postgresData).setCleanDataDirectory(false).setPort(port);
        if (Boolean.getBoolean("herald-test.pg-statements")) {   // the benchmark's statement counts (pg_stat_statements)
            builder.setServerConfig("shared_preload_libraries", "pg_stat_statements");
        }
        return builder.start();
    }

    /**
     * Stops PostgreSQL as an outage would (fast shutdown: open connections are cut). Data and port are
     * kept for {@link #startPostgres()}. A test that calls this must start it again in a finally block.
     */
    public synchronized void stopPostgres() {
        try {
            if (postgres != null) {
                postgres.close();
                postgres = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts PostgreSQL again on the same port with the same data (no-op if it is running). */
    public synchronized void startPostgres() {
        try {
            if (postgres == null) {
                postgres = postgresOn(postgresPort);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts everything on free ports (tests). */
    public static synchronized EmbeddedInfrastructure start() {
        return start(0, 0);
    }

    public static synchronized EmbeddedInfrastructure start(int smtpPort, int providerPort) {
        if (running == null) {
            try {
                running = new EmbeddedInfrastructure(smtpPort, providerPort);
            } catch (IOException e) {
                throw new IllegalStateException("Embedded infrastructure did not start: " + e.getMessage(), e);
            }
        }
        return running;
    }

    /**
     * A database of its own on the embedded PostgreSQL, for a test that runs a Herald configured
     * differently from the shared one: every Herald on one database is an instance of one deployment
     * (their senders take each other's deliveries from the ledger), so a differently configured one
     * needs its own. Returns its JDBC URL (created if missing; Flyway migrates it when Herald starts).
     */
    public String database(String name) {
        if (!name.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("database name " + name);
        }
        try (java.sql.Connection db = java.sql.DriverManager.getConnection(
                "jdbc:postgresql://localhost:" + postgresPort + "/postgres", "postgres", "postgres")) {
            try (var exists = db.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                exists.setString(1, name);
                if (!exists.executeQuery().next()) {
                    db.createStatement().execute("CREATE DATABASE " + name);
                }
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("could not create database " + name + ": " + e.getMessage(), e);
        }
        return "jdbc:postgresql://localhost:" + postgresPort + "/" + name;
    }

    /** The settings that point Herald at this infrastructure (the same ones prod takes from its environment). */
    public Map<String, String> heraldSettings() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("herald.db.url", "jdbc:postgresql://localhost:" + postgresPort + "/postgres");
        settings.put("herald.db.user", "postgres");
        settings.put("herald.db.password", "postgres");
        settings.put("herald.kafka.brokers", kafka.getBrokersAsString());
        settings.put("herald.mail.host", "127.0.0.1");
        settings.put("herald.mail.port", String.valueOf(mail.getSmtp().getPort()));
        settings.put("herald.providers.base-url", providers.baseUrl());
        return settings;
    }

    public GreenMail mail() {
        return mail;
    }

    public WireMockServer providers() {
        return providers;
    }

    public String kafkaBrokers() {
        return kafka.getBrokersAsString();
    }

    private void stop() {
        try {
            providers.stop();
            mail.stop();
            kafka.destroy();
            stopPostgres();
            FileSystemUtils.deleteRecursively(postgresData);
        } catch (Exception ignored) {
            // The JVM is going away; nothing to report to.
        }
    }
}
