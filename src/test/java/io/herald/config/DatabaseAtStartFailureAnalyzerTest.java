package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.net.ServerSocket;

import io.herald.local.EmbeddedInfrastructure;
import org.flywaydb.core.Flyway;
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
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * A start against a PostgreSQL that refuses Herald (Flyway's migrations are its first connection and first writes) is told in
 * words naming the setting or the server's limit, read from the SQLSTATE; it was Flyway's "Unable to create table" or
 * "Unable to obtain connection from database" and a stack trace. Each failure here is Flyway's own, from a real PostgreSQL:
 * the embedded infrastructure's (started once per test JVM), in databases and roles of this class's own ("analyzer_"),
 * rather than a PostgreSQL of its own started for six tests.
 */
@ExtendWith(OutputCaptureExtension.class)
class DatabaseAtStartFailureAnalyzerTest {

    private static EmbeddedInfrastructure infra;
    private static JdbcTemplate admin;

    @BeforeAll
    static void start() {
        infra = EmbeddedInfrastructure.start();
        admin = new JdbcTemplate(new DriverManagerDataSource(url("postgres"), "postgres", "postgres"));
    }

    /**
     * The analysis is read from what the start prints (Spring Boot's report: "Description:" and "Action:", each followed by a
     * blank line). Flyway tried to create its history table ten times, a second apart, before it gave up on a read-only
     * database; the start now stops before Flyway's first write (MigrationPreflight).
     */
    @Test
    void aReadOnlyDatabaseSaysToPointTheUrlAtThePrimary(CapturedOutput output) {
        String standby = infra.database("analyzer_standby");
        admin.execute("ALTER DATABASE analyzer_standby SET default_transaction_read_only = on");
        // As a start prints it: Herald's database settings and Flyway, what a start does before anything else connects.
        SpringApplication migrations = new SpringApplication(OnlyMigrations.class);
        migrations.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> migrations.run("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--spring.datasource.url=" + standby, "--spring.datasource.username=postgres", "--spring.datasource.password=",
                "--herald.db.url=" + standby,
                // Flyway says each of its tries to create the history table at debug level.
                "--logging.level.org.flywaydb.core.internal.schemahistory=debug")).isNotNull();
        String n = System.lineSeparator();
        assertThat(output.getOut() + output.getErr()).contains("APPLICATION FAILED TO START")
                .contains("Description:" + n + n + "Herald cannot start: PostgreSQL at herald.db.url refuses writes: it is read-only")
                .contains("Action:" + n + n + "Point herald.db.url (HERALD_DB_URL) at the primary")
                .doesNotContain("Schema History table creation failed");
    }

    /**
     * A database already up to date is not written by Flyway: a standby after a failover still lets Herald start (not ready,
     * saying why), and it is used once the standby is promoted.
     */
    @Test
    void aReadOnlyDatabaseAlreadyUpToDateIsNotRefusedByThePreflight() {
        String standby = infra.database("analyzer_uptodate");
        Flyway flyway = Flyway.configure().dataSource(standby, "postgres", "").locations("classpath:db/migration").load();
        flyway.migrate();
        admin.execute("ALTER DATABASE analyzer_uptodate SET default_transaction_read_only = on");
        Flyway again = Flyway.configure().dataSource(standby, "postgres", "").locations("classpath:db/migration").load();
        assertThat(catchThrowable(() -> new MigrationPreflight().migrate(again))).isNull();
        assertThat(again.info().pending()).isEmpty();
    }

    /** Herald's database settings and Flyway's migrations on their own, as SecuredKafkaTest starts them. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class})
    @EnableConfigurationProperties(HeraldSettings.class)
    @Import({DatabaseMigrations.class, DatabaseTlsPool.class, MigrationPreflight.class})
    static class OnlyMigrations {
    }

    @Test
    void aConnectionLimitReachedNamesTheLimitAndThePoolSize() {
        role("analyzer_limited", "LOGIN CONNECTION LIMIT 0");
        FailureAnalysis analysis = analysisOfMigrating(url("postgres"), "analyzer_limited");
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
        String locked = infra.database("analyzer_locked");
        new JdbcTemplate(new DriverManagerDataSource(locked, "postgres", "postgres")).execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
        role("analyzer_newcomer", "LOGIN");
        FailureAnalysis analysis = analysisOfMigrating(locked, "analyzer_newcomer");
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

    /** A database on the embedded infrastructure's PostgreSQL (herald.db.url there names its "postgres" database). */
    private static String url(String database) {
        return infra.heraldSettings().get("herald.db.url").replaceAll("/[^/]*$", "/" + database);
    }

    /** A role of this class's own on the shared PostgreSQL (roles are the cluster's), made afresh. */
    private static void role(String name, String options) {
        admin.execute("DROP ROLE IF EXISTS " + name);
        admin.execute("CREATE ROLE " + name + " " + options);
    }

    private static FailureAnalysis analysisOfMigrating(String url, String user) {
        // As Herald migrates: its preflight first (MigrationPreflight), then Flyway.
        Throwable failure = catchThrowable(() -> new MigrationPreflight().migrate(Flyway.configure().dataSource(url, user, "")
                .connectRetries(0).locations("classpath:db/migration").load()));
        assertThat(failure).as("Flyway's migration against " + url + " as " + user).isNotNull();
        FailureAnalysis analysis = new DatabaseAtStartFailureAnalyzer().analyze(failure);
        assertThat(analysis).as("the analysis of " + failure).isNotNull();
        return analysis;
    }
}
