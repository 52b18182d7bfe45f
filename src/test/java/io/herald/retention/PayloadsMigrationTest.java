package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * V38 moves a running Herald's payloads into the monthly-partitioned tables: the raw event and the canonical data of each
 * notification to notification_payload, each delivery's rendered subject and body to delivery_content, in the partition of
 * the notification's month; a payload retention or erasure had already removed stays removed and still says so; nothing
 * of what readers see changes.
 */
class PayloadsMigrationTest {

    @Test
    void existingPayloadsMoveToTheirMonthAndRemovedOnesStayRemoved() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            JdbcTemplate jdbc = new JdbcTemplate(postgres.getPostgresDatabase());
            migrate(postgres, "37");
            long kept = notification(jdbc, "mig-kept", "20 days", "{\"id\": \"evt_kept\", \"customer_email\": \"jenny.rosen@example.com\"}",
                    "{\"amountDue\": \"49.00\"}", null);
            long removed = notification(jdbc, "mig-removed", "50 days", "payload removed by retention on 2026-11-01", "{}", "retention");
            jdbc.update("""
                    INSERT INTO delivery (notification_id, channel, state, recipient_masked, subject, rendered_body)
                    VALUES (?, 'email', 'SENT', 'j***@example.com', 'Payment failed', 'Dear Jenny, your payment of 49.00 failed.'),
                           (?, 'email', 'SENT', 'j***@example.com', NULL, NULL)""", kept, removed);

            migrate(postgres, "38");

            // The kept payload is in the partition of its notification's month; the row keeps its canonical form without data.
            String month = jdbc.queryForObject("SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY_MM') FROM notification WHERE id = ?",
                    String.class, kept);
            assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification_payload WHERE notification_id = ?",
                    String.class, kept)).isEqualTo("notification_payload_p" + month);
            assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification_payload WHERE notification_id = ?", String.class, kept))
                    .contains("jenny.rosen@example.com");
            assertThat(jdbc.queryForObject("SELECT canonical -> 'data' FROM notification WHERE id = ?", String.class, kept)).isEqualTo("{}");
            assertThat(jdbc.queryForObject("SELECT herald_canonical(id, received_at, canonical) -> 'data' ->> 'amountDue' FROM notification"
                    + " WHERE id = ?", String.class, kept)).isEqualTo("49.00");
            Map<String, Object> content = jdbc.queryForMap("SELECT c.tableoid::regclass::text AS part, c.subject, c.rendered_body"
                    + " FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id WHERE d.notification_id = ?", kept);
            assertThat(content).containsEntry("part", "delivery_content_p" + month).containsEntry("subject", "Payment failed")
                    .containsEntry("rendered_body", "Dear Jenny, your payment of 49.00 failed.");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload_removal WHERE notification_id = ?", Integer.class, kept))
                    .isZero();

            // Removed before: no payload row, no content row, and it still reads as removed by retention.
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id = ?", Integer.class, removed))
                    .isZero();
            assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id"
                    + " WHERE d.notification_id = ?", Integer.class, removed)).isZero();
            assertThat(jdbc.queryForObject("SELECT removed_by FROM notification_payload_removal WHERE notification_id = ?", String.class,
                    removed)).isEqualTo("retention");
            // The bulk columns are gone from the dedup-keyed tables.
            assertThat(jdbc.queryForList("SELECT table_name || '.' || column_name FROM information_schema.columns"
                    + " WHERE table_name IN ('notification', 'delivery') AND column_name IN ('raw_payload', 'subject', 'rendered_body')",
                    String.class)).isEmpty();
        }
    }

    private static long notification(JdbcTemplate jdbc, String key, String age, String raw, String data, String removedBy) {
        return jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, raw_payload,
                                          received_at, payload_removed_at, payload_removed_by)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_1', 'ROUTED', CAST(? AS JSONB), ?, now() - CAST(? AS INTERVAL),
                        CASE WHEN CAST(? AS TEXT) IS NOT NULL THEN now() - interval '10 days' END, ?)
                RETURNING id""", Long.class, key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": " + data + "}", raw, age,
                removedBy, removedBy);
    }

    private static void migrate(EmbeddedPostgres postgres, String target) {
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").target(target).load().migrate();
    }
}
