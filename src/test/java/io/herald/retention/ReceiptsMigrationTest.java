package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * V43 moves a running Herald's provider receipts into the table partitioned by month: each receipt in the partition of the
 * month it arrived, unchanged, with its id; the suppression it caused still finds it; new receipts go on from the same
 * sequence.
 */
class ReceiptsMigrationTest {

    @Test
    void existingReceiptsMoveToTheirMonthKeepingTheirIdsAndTheSuppressionsThatNameThem() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            JdbcTemplate jdbc = new JdbcTemplate(postgres.getPostgresDatabase());
            migrate(postgres, "42");
            long notification = jdbc.queryForObject("""
                    INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                    VALUES ('mig-receipts', 'billing', 'evt_mig', 'billing.payment_failed', 'cus_1', 'ROUTED', '{"data": {}}')
                    RETURNING id""", Long.class);
            long delivery = jdbc.queryForObject("""
                    INSERT INTO delivery (notification_id, channel, state, recipient_masked, provider_message_id)
                    VALUES (?, 'sms', 'UNDELIVERED', '+1555***0000', 'SM-mig') RETURNING id""", Long.class, notification);
            long old = receipt(jdbc, delivery, "sent", null, "50 days");
            long bad = receipt(jdbc, delivery, "undelivered", "UNDELIVERED", "1 day");
            jdbc.update("""
                    INSERT INTO suppression (channel, address_hash, address_masked, reason, receipt_id)
                    VALUES ('sms', repeat('a', 64), '+1555***0000', 'the number cannot receive SMS', ?)""", bad);

            migrate(postgres, "43");

            for (long receipt : new long[] {old, bad}) {
                String month = jdbc.queryForObject("SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY_MM') FROM delivery_receipt WHERE id = ?",
                        String.class, receipt);
                assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM delivery_receipt WHERE id = ?", String.class, receipt))
                        .isEqualTo("delivery_receipt_p" + month);
            }
            assertThat(jdbc.queryForMap("""
                    SELECT r.status, r.final_state, r.delivery_id, r.outcome, r.provider_event_id FROM suppression s
                    JOIN delivery_receipt r ON r.id = s.receipt_id WHERE s.address_hash = repeat('a', 64)"""))
                    .containsEntry("status", "undelivered").containsEntry("final_state", "UNDELIVERED").containsEntry("delivery_id", delivery)
                    .containsEntry("outcome", "APPLIED").containsEntry("provider_event_id", "evt-undelivered");
            // New receipts go on from the same sequence, into this month's partition.
            Map<String, Object> next = jdbc.queryForMap("""
                    INSERT INTO delivery_receipt (channel, provider_message_id, status, outcome) VALUES ('sms', 'SM-mig', 'delivered', 'KEPT')
                    RETURNING id, tableoid::regclass::text AS part""");
            assertThat(((Number) next.get("id")).longValue()).isGreaterThan(bad);
            assertThat((String) next.get("part")).isEqualTo(jdbc.queryForObject(
                    "SELECT 'delivery_receipt_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')", String.class));
            assertThat(jdbc.queryForObject("SELECT to_regclass('delivery_receipt_unpartitioned') IS NULL", Boolean.class)).isTrue();
        }
    }

    private static long receipt(JdbcTemplate jdbc, long delivery, String status, String finalState, String age) {
        return jdbc.queryForObject("""
                INSERT INTO delivery_receipt (channel, provider_message_id, provider_event_id, status, delivery_id, outcome, reason,
                                              received_at, final_state)
                VALUES ('sms', 'SM-mig', ?, ?, ?, 'APPLIED', 'as the provider said', now() - CAST(? AS INTERVAL), ?) RETURNING id""",
                Long.class, "evt-" + status, status, delivery, age, finalState);
    }

    private static void migrate(EmbeddedPostgres postgres, String target) {
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").target(target).load().migrate();
    }
}
