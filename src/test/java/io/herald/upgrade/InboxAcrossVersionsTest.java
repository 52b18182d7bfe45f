package io.herald.upgrade;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A rolling upgrade runs instances of the earlier version beside the new one, on the schema the new one migrated (and a
 * rollback runs the earlier version alone on it): their in-app inserts, copied here as they were shipped, must still work.
 * The earlier statements are fixtures: the text of routes/deliver-in-app.camel.yaml at that version.
 */
class InboxAcrossVersionsTest {

    /** Before V58 (git show aa8f8926~1:routes/deliver-in-app.camel.yaml): one row per delivery. */
    private static final String BEFORE_V58 = "INSERT INTO inbox_message (customer_id, delivery_id, type, title, body) VALUES (?, ?, ?, ?, ?)"
            + " ON CONFLICT (delivery_id) DO UPDATE SET delivery_id = EXCLUDED.delivery_id RETURNING id";
    /** V58 to V73 (aa8f8926): a resend's row beside its delivery's. */
    private static final String V58_TO_V73 = "INSERT INTO inbox_message (customer_id, delivery_id, resend_id, type, title, body) VALUES (?, ?, ?, ?, ?, ?)"
            + " ON CONFLICT (delivery_id, (COALESCE(resend_id, 0))) DO UPDATE SET delivery_id = EXCLUDED.delivery_id RETURNING id";

    @Test
    void everyVersionsInAppInsertWorksOnTheMigratedSchemaAndARepeatFindsItsRow() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            JdbcTemplate jdbc = new JdbcTemplate(postgres.getPostgresDatabase());
            migrate(postgres, "69");
            long delivery = delivery(jdbc, "upgrade-1");
            long resend = jdbc.queryForObject("INSERT INTO delivery_resend (delivery_id, requested_by) VALUES (?, 'ops') RETURNING id",
                    Long.class, delivery);
            // Written by a V58..V73 instance before the upgrade: the delivery's own message and its resend's.
            long own = jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, null, "t", "Title", "Body");
            long resent = jdbc.queryForObject(V58_TO_V73, Long.class, "cus_1", delivery, resend, "t", "Title", "Body again");

            migrate(postgres, null);

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
    }

    private static long delivery(JdbcTemplate jdbc, String key) {
        long notification = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'support', ?, 'support.ticket_status_changed', 'cus_1', 'ROUTED', '{"data": {}}') RETURNING id""",
                Long.class, key, key);
        return jdbc.queryForObject("INSERT INTO delivery (notification_id, channel, state, recipient_masked) VALUES (?, 'in_app', 'SENDING', 'cus_1')"
                + " RETURNING id", Long.class, notification);
    }

    private static void migrate(EmbeddedPostgres postgres, String target) {
        var flyway = Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration");
        (target == null ? flyway : flyway.target(target)).load().migrate();
    }
}
