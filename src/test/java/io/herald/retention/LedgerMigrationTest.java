package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * V45 partitions a running Herald's notifications and deliveries by month: the rows so far stay, with their ids, in the
 * legacy partitions, still found by everything that names them; a new notification gets an id that carries its month and
 * lands in that month's partition, its delivery beside it; the references to a notification are still enforced.
 */
class LedgerMigrationTest {

    @Test
    void existingRowsStayWithTheirIdsAndNewOnesGoToTheirMonth() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            JdbcTemplate jdbc = new JdbcTemplate(postgres.getPostgresDatabase());
            migrate(postgres, "44");
            long old = notification(jdbc, "mig-ledger-1");
            long delivery = jdbc.queryForObject("""
                    INSERT INTO delivery (notification_id, channel, state, recipient_masked, provider_message_id)
                    VALUES (?, 'inapp', 'SENT', 'cus_1', 'inbox-1') RETURNING id""", Long.class, old);
            jdbc.update("INSERT INTO inbox_message (delivery_id, customer_id, type, title, body) VALUES (?, 'cus_1', 'billing.invoice_paid', 'Paid', 'Thank you')", delivery);
            jdbc.update("INSERT INTO approval (notification_id, state, rule, expires_at) VALUES (?, 'APPROVED', 'always', now() + interval '1 day')", old);

            migrate(postgres, "45");

            assertThat(jdbc.queryForMap("SELECT tableoid::regclass::text AS part, idempotency_key FROM notification WHERE id = ?", old))
                    .containsEntry("part", "notification_legacy").containsEntry("idempotency_key", "mig-ledger-1");
            assertThat(jdbc.queryForMap("""
                    SELECT d.tableoid::regclass::text AS part, d.provider_message_id, i.title, a.state FROM delivery d
                    JOIN inbox_message i ON i.delivery_id = d.id JOIN approval a ON a.notification_id = d.notification_id
                    WHERE d.id = ?""", delivery))
                    .containsEntry("part", "delivery_legacy").containsEntry("provider_message_id", "inbox-1")
                    .containsEntry("title", "Paid").containsEntry("state", "APPROVED");

            // A new notification: its id carries this month (months since 2000-01 in the bits above 40), below 2^53.
            long fresh = notification(jdbc, "mig-ledger-2");
            int monthsSince2000 = jdbc.queryForObject(
                    "SELECT (EXTRACT(YEAR FROM now() AT TIME ZONE 'UTC') - 2000) * 12 + EXTRACT(MONTH FROM now() AT TIME ZONE 'UTC') - 1",
                    Integer.class);
            assertThat(fresh >> 40).isEqualTo(monthsSince2000);
            assertThat(fresh).isLessThan(1L << 53);
            String month = jdbc.queryForObject("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')", String.class);
            assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification WHERE id = ?", String.class, fresh))
                    .isEqualTo("notification_p" + month);
            Map<String, Object> freshDelivery = jdbc.queryForMap("""
                    INSERT INTO delivery (notification_id, channel, state) VALUES (?, 'email', 'PENDING')
                    RETURNING id, tableoid::regclass::text AS part""", fresh);
            assertThat((String) freshDelivery.get("part")).isEqualTo("delivery_p" + month);
            assertThat(((Number) freshDelivery.get("id")).longValue()).isGreaterThan(delivery);   // the same sequence goes on

            // Still one delivery per notification and channel, and no delivery or approval of a notification that is not there.
            assertThatThrownBy(() -> jdbc.update("INSERT INTO delivery (notification_id, channel, state) VALUES (?, 'email', 'PENDING')", fresh))
                    .isInstanceOf(DataIntegrityViolationException.class);
            assertThatThrownBy(() -> jdbc.update("INSERT INTO delivery (notification_id, channel, state) VALUES (?, 'email', 'PENDING')", fresh + 1))
                    .isInstanceOf(DataIntegrityViolationException.class);
            assertThatThrownBy(() -> jdbc.update(
                    "INSERT INTO approval (notification_id, state, rule, expires_at) VALUES (?, 'AWAITING', 'always', now())", fresh + 1))
                    .isInstanceOf(DataIntegrityViolationException.class);
            // The coming months are there (created again ahead by the retention job), so admission never waits for one.
            assertThat(jdbc.queryForObject("""
                    SELECT count(*) FROM pg_inherits WHERE inhparent = 'notification'::regclass
                      AND inhrelid::regclass::text LIKE 'notification_p%'""", Integer.class)).isEqualTo(4);
        }
    }

    private static long notification(JdbcTemplate jdbc, String key) {
        return jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.invoice_paid', 'cus_1', 'ROUTED', '{"data": {}}') RETURNING id""", Long.class, key, key);
    }

    private static void migrate(EmbeddedPostgres postgres, String target) {
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").target(target).load().migrate();
    }
}
