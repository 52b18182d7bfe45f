package io.herald.upgrade;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import javax.sql.DataSource;

import io.herald.config.DatabaseMigrations;
import io.herald.config.DatabaseTlsPool;
import io.herald.config.HeraldSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A rolling upgrade runs instances of the earlier version beside the new one, on the schema the new one migrated, and a
 * rollback runs the earlier version alone on it. Each test has a database of its own on one embedded PostgreSQL.
 */
class AcrossVersionsTest {

    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void start() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    /** A database of its own for a test. */
    private static DataSource database(String name) {
        new JdbcTemplate(postgres.getPostgresDatabase()).execute("CREATE DATABASE " + name);
        return postgres.getDatabase("postgres", name);
    }

    /**
     * The in-app inserts of earlier versions, copied here as they were shipped (the text of routes/deliver-in-app.camel.yaml
     * at that version), must still work. Before V58 (git show aa8f8926~1:routes/deliver-in-app.camel.yaml): one row per
     * delivery.
     */
    private static final String BEFORE_V58 = "INSERT INTO inbox_message (customer_id, delivery_id, type, title, body) VALUES (?, ?, ?, ?, ?)"
            + " ON CONFLICT (delivery_id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id RETURNING id";
    /** V58 to V73 (aa8f8926): a resend's row beside its delivery's. */
    private static final String V58_TO_V73 = "INSERT INTO inbox_message (customer_id, delivery_id, resend_id, type, title, body) VALUES (?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (delivery_id, (COALESCE(resend_id, 0))) DO UPDATE SET delivery_id = EXCLUDED.delivery_id RETURNING id";

    @Test
    void everyVersionsInAppInsertWorksOnTheMigratedSchemaAndARepeatFindsItsRow() throws Exception {
        DataSource db = database("inbox_across_versions");
        JdbcTemplate jdbc = new JdbcTemplate(db);
        migrate(db, "69");
        long delivery = delivery(jdbc, "upgrade-1");
        long resend = jdbc.queryForObject("INSERT INTO delivery_resend (delivery_id, requested_by) VALUES (?, 'ops') RETURNING id",
                Long.class, delivery);
        // Written by a V58..V73 instance before the upgrade: the delivery's own message and its resend's.
        long own = jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, null, "t", "Title", "Body");
        long resent = jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, resend, "t", "Title", "Body again");

        migrate(db, null);

        // An instance of a version before V58 (a rollback, or one not yet replaced): its insert works, a repeat finds the row.
        long other = delivery(jdbc, "upgrade-2");
        long first = jdbc.queryForObject(BEFORE_V58, Long.class, "cus_1", other, "t", "Title", "Body");
        assertThat(jdbc.queryForObject(BEFORE_V58, Long.class, "cus_1", other, "t", "Title", "Body")).isEqualTo(first);
        assertThat(jdbc.queryForObject(BEFORE_V58, Long.class, "cus_1", delivery, "t", "Title", "Body")).isEqualTo(own);

        // A V58..V73 instance: its own-row repeat finds the row, and a new resend gets a message of its own.
        assertThat(jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, null, "t", "Title", "Body")).isEqualTo(own);
        long second = jdbc.queryForObject("INSERT INTO delivery_resend (delivery_id, requested_by) VALUES (?, 'ops') RETURNING id",
                Long.class, delivery);
        long resentAgain = jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, second, "t", "Title", "Body once more");
        assertThat(resentAgain).isNotIn(own, resent);

        // Every message of the delivery is there once: its own, and one per resend (named by the resend).
        List<Long> ofTheDelivery = jdbc.queryForList("""
                SELECT m.id FROM inbox_message m WHERE m.delivery_id = ?
                   OR m.resend_id IN (SELECT r.id FROM delivery_resend r WHERE r.delivery_id = ?) ORDER BY m.id""",
                Long.class, delivery, delivery);
        assertThat(ofTheDelivery).containsExactly(own, resent, resentAgain);
    }

    private static long delivery(JdbcTemplate jdbc, String key) {
        long notification = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'support', ?, 'support.ticket_status_changed', 'cus_1', 'ROUTED', '{"data": {}}') RETURNING id""",
                Long.class, key, key);
        return jdbc.queryForObject("INSERT INTO delivery (notification_id, channel, state, recipient_masked) VALUES (?, 'in_app', 'SENDING', 'cus_1')"
                + " RETURNING id", Long.class, notification);
    }

    private static void migrate(DataSource db, String target) {
        var flyway = Flyway.configure().dataSource(db).locations("classpath:db/migration");
        (target == null ? flyway : flyway.target(target)).load().migrate();
    }

    /**
     * A rollback starts the earlier version against a schema a newer version migrated: its Flyway finds applied migrations it
     * does not have. With Herald's settings (config/application.yaml's spring.flyway, Flyway's default ignore-migration-patterns
     * "*:future") it starts, and leaves the newer migrations in place; validate-on-migrate would otherwise stop it with
     * "Detected applied migration not resolved locally".
     */
    @Test
    void heraldStartsOnASchemaANewerVersionMigrated() throws Exception {
        DataSource db = database("rollback_start");
        JdbcTemplate jdbc = new JdbcTemplate(db);
        migrate(db, null);
        // What a newer version's migration leaves in the history: a version this build does not have.
        jdbc.update("""
                INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by,
                                                   execution_time, success)
                SELECT max(installed_rank) + 1, '9999', 'a newer version', 'SQL', 'V9999__a_newer_version.sql', 1, 'herald', 0, true
                FROM flyway_schema_history""");
        String url = postgres.getJdbcUrl("postgres", "rollback_start");

        SpringApplication migrations = new SpringApplication(OnlyMigrations.class);
        migrations.setWebApplicationType(WebApplicationType.NONE);
        try (ConfigurableApplicationContext started = migrations.run(
                "--spring.config.location=file:config/application.yaml,classpath:bad-settings/valid.yaml",
                "--spring.datasource.url=" + url, "--spring.datasource.username=postgres", "--spring.datasource.password=postgres",
                "--herald.db.url=" + url)) {
            assertThat(started.isActive()).isTrue();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM flyway_schema_history WHERE version = '9999' AND success", Integer.class)).isOne();
    }

    /** Herald's database settings and Flyway's migrations on their own: what a start does before anything else connects. */
    @Configuration(proxyBeanMethods = false)
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, FlywayAutoConfiguration.class})
    @EnableConfigurationProperties(HeraldSettings.class)
    @Import({DatabaseMigrations.class, DatabaseTlsPool.class})
    static class OnlyMigrations {
    }
}
