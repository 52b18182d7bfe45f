package io.herald.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * V28 seeds identity links from the data a running Herald already has: every Stripe-style customer id is its own
 * Stripe link, and a Zendesk requester or CRM account whose earlier notifications all resolved to one customer is
 * linked to them. Ambiguous ones are not guessed, and a raw payload PostgreSQL cannot read never fails the migration.
 */
class CustomerLinkSeedTest {

    @Test
    void theMigrationLinksWhatTodaysDataImpliesAndGuessesNothing() throws Exception {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            JdbcTemplate jdbc = new JdbcTemplate(postgres.getPostgresDatabase());
            migrate(postgres, "24");
            jdbc.update("INSERT INTO customer (customer_id, email) VALUES ('cus_A1', 'a@example.com'), ('cus_B2', 'b@example.com'),"
                    + " ('legacy-7', 'l@example.com')");
            notification(jdbc, "support", "cus_A1", "{\"detail\": {\"id\": 1, \"requester_id\": 900, \"external_id\": \"cus_A1\"}}");
            notification(jdbc, "support", "cus_A1", "{\"detail\": {\"id\": 2, \"requester_id\": \"900\", \"external_id\": \"cus_A1\"}}");
            // Requester 901's tickets resolved to two customers: not guessed.
            notification(jdbc, "support", "cus_A1", "{\"detail\": {\"id\": 3, \"requester_id\": \"901\"}}");
            notification(jdbc, "support", "cus_B2", "{\"detail\": {\"id\": 4, \"requester_id\": \"901\"}}");
            // Valid JSON for Jackson, refused by PostgreSQL's jsonb (a NUL escape): skipped, the migration goes on.
            notification(jdbc, "support", "cus_B2", "{\"detail\": {\"id\": 5, \"requester_id\": \"902\", \"subject\": \"a\\u0000b\"}}");
            notification(jdbc, "crm", "legacy-7",
                    "{\"outboxId\": 17, \"eventType\": \"order.confirmed\", \"payload\": \"{\\\"account\\\": {\\\"externalId\\\": \\\"legacy-7\\\", \\\"crmId\\\": \\\"0015gAAA\\\"}}\"}");

            migrate(postgres, "28");

            assertThat(jdbc.queryForList("SELECT system || ' ' || external_id || ' -> ' || customer_id FROM customer_link ORDER BY 1", String.class))
                    .isEqualTo(List.of("crm 0015gAAA -> legacy-7", "stripe cus_A1 -> cus_A1", "stripe cus_B2 -> cus_B2", "zendesk 900 -> cus_A1"));
            assertThat(jdbc.queryForObject("SELECT origin FROM customer_link WHERE system = 'zendesk'", String.class))
                    .isEqualTo("seeded: every earlier ticket of this requester resolved to this customer");
        }
    }

    private static void migrate(EmbeddedPostgres postgres, String target) {
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").target(target).load().migrate();
    }

    private long sequence;

    private void notification(JdbcTemplate jdbc, String source, String customer, String raw) {
        sequence++;
        jdbc.update("INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, raw_payload)"
                + " VALUES (?, ?, ?, 'test', ?, 'ROUTED', '{}'::jsonb, ?)", "seed-" + sequence, source, "evt-" + sequence, customer, raw);
    }
}
