package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.ServerSocket;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A start against a PostgreSQL that refuses Herald (Flyway's migrations are its first connection and first writes) is told in
 * words naming the setting or the server's limit, read from the SQLSTATE; it was Flyway's "Unable to create table" or
 * "Unable to obtain connection from database" and a stack trace. Each failure here is Flyway's own, from a real PostgreSQL.
 */
@ExtendWith(OutputCaptureExtension.class)
class DatabaseAtStartFailureAnalyzerTest {

    private static EmbeddedPostgres postgres;
    private static JdbcTemplate admin;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        admin = new JdbcTemplate(postgres.getPostgresDatabase());
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void aReadOnlyDatabaseSaysToPointTheUrlAtThePrimary(CapturedOutput output) {
        admin.execute("CREATE DATABASE standby");
        admin.execute("ALTER DATABASE standby SET default_transaction_read_only = on");
        FailureAnalysis analysis = analysisOfMigrating(url("standby"), "postgres");
        assertThat(analysis.getDescription()).startsWith("Herald cannot start: PostgreSQL at herald.db.url refuses writes: it is read-only");
        assertThat(analysis.getAction()).startsWith("Point herald.db.url (HERALD_DB_URL) at the primary");
        // As a start prints it: Herald's database settings and Flyway, what a start does before anything else connects.
        SpringApplication migrations = new SpringApplication(OnlyMigrations.class);
        migrations.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> migrations.run("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--spring.datasource.url=" + url("standby"), "--spring.datasource.username=postgres", "--spring.datasource.password=",
                "--herald.db.url=" + url("standby"))).isNotNull();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Herald cannot start: PostgreSQL at herald.db.url refuses writes: it is read-only");
    }

    /** Herald's database settings and Flyway's migrations on their own, as SecuredKafkaTest starts them. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class})
    @EnableConfigurationProperties(HeraldSettings.class)
    @Import({DatabaseMigrations.class, DatabaseTlsPool.class})
    static class OnlyMigrations {
    }

    @Test
    void aConnectionLimitReachedNamesTheLimitAndThePoolSize() {
        admin.execute("CREATE ROLE limited LOGIN CONNECTION LIMIT 0");
        FailureAnalysis analysis = analysisOfMigrating(url("postgres"), "limited");
        assertThat(analysis.getDescription()).contains("too many connections").contains("herald.db.user");
        assertThat(analysis.getAction()).contains("spring.datasource.hikari.maximum-pool-size");
    }

    @Test
    void aDatabaseThatDoesNotExistNamesTheUrl() {
        FailureAnalysis analysis = analysisOfMigrating(url("no_such_database"), "postgres");
        assertThat(analysis.getDescription()).isEqualTo("Herald cannot start: the database named in herald.db.url does not exist on that PostgreSQL.");
    }

    @Test
    void aUserThatMayNotCreateTablesIsToldWhatToGrant() {
        admin.execute("CREATE DATABASE locked");
        JdbcTemplate locked = new JdbcTemplate(new org.springframework.jdbc.datasource.DriverManagerDataSource(url("locked"), "postgres", ""));
        locked.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        admin.execute("CREATE ROLE newcomer LOGIN");
        FailureAnalysis analysis = analysisOfMigrating(url("locked"), "newcomer");
        assertThat(analysis.getDescription()).contains("may not create its tables");
        assertThat(analysis.getAction()).contains("GRANT CREATE ON SCHEMA public");
    }

    @Test
    void nothingListeningNamesTheAddressInTheUrl() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        FailureAnalysis analysis = analysisOfMigrating("jdbc:postgresql://localhost:" + port + "/herald", "postgres");
        assertThat(analysis.getDescription()).contains("PostgreSQL did not answer at the host and port in herald.db.url");
    }

    @Test
    void otherFailuresAreLeftToSpringBoot() {
        assertThat(new DatabaseAtStartFailureAnalyzer().analyze(new IllegalStateException("something else"))).isNull();
        // A permission refused outside the migrations (a startup check reading another table) is not taken for one.
        assertThat(new DatabaseAtStartFailureAnalyzer().analyze(new RuntimeException(new java.sql.SQLException("denied", "42501"))))
                .isNull();
    }

    private static String url(String database) {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/" + database;
    }

    private static FailureAnalysis analysisOfMigrating(String url, String user) {
        Throwable failure = catchThrowable(() -> Flyway.configure().dataSource(url, user, "").connectRetries(0)
                .locations("classpath:db/migration").load().migrate());
        assertThat(failure).as("Flyway's migration against " + url + " as " + user).isNotNull();
        FailureAnalysis analysis = new DatabaseAtStartFailureAnalyzer().analyze(failure);
        assertThat(analysis).as("the analysis of " + failure).isNotNull();
        return analysis;
    }
}
