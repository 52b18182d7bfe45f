package io.herald.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.herald.notification.CanonicalNotification;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Admission keeps a notification once per idempotency key although the table is partitioned by month (V45) and no unique
 * index can hold the key: two consumers admitting the same keys at the same moment keep each once (one NEW, one
 * DUPLICATE), and a key kept in an earlier month is a duplicate now. On a real PostgreSQL with the migrations applied.
 */
class AdmissionKeysTest {

    static EmbeddedPostgres postgres;
    static JdbcTemplate jdbc;
    static NotificationLedger ledger;

    @BeforeAll
    static void database() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").load().migrate();
        javax.sql.DataSource database = postgres.getPostgresDatabase();   // one data source: the ledger's statements join its transactions
        jdbc = new JdbcTemplate(database);
        ledger = new NotificationLedger(jdbc, new TransactionTemplate(new DataSourceTransactionManager(database)));
    }

    @AfterAll
    static void stop() throws Exception {
        postgres.close();
    }

    @Test
    void twoConsumersAdmittingTheSameKeysAtOnceKeepEachOnce() throws Exception {
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 30; round++) {
                List<NotificationLedger.ToAdmit> batch = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    batch.add(toAdmit("race-" + round + "-" + i));
                }
                CyclicBarrier together = new CyclicBarrier(2);
                List<Future<List<NotificationLedger.Admission>>> both = new ArrayList<>();
                for (int consumer = 0; consumer < 2; consumer++) {
                    // The second consumer sees the batch in the other order, as two polls of different partitions might.
                    List<NotificationLedger.ToAdmit> mine = consumer == 0 ? batch : reversed(batch);
                    both.add(two.submit(() -> {
                        together.await();
                        return ledger.admitAll(mine);
                    }));
                }
                List<NotificationLedger.Admission> first = both.get(0).get();
                List<NotificationLedger.Admission> second = reversed(both.get(1).get());
                for (int i = 0; i < 5; i++) {
                    assertThat(List.of(first.get(i), second.get(i)))
                            .as("round %d key %d", round, i)
                            .containsExactlyInAnyOrder(NotificationLedger.Admission.NEW, NotificationLedger.Admission.NOT_YET_ROUTED);
                }
                assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Integer.class,
                        "race-" + round + "-%")).isEqualTo(5);
            }
        } finally {
            two.shutdownNow();
        }
    }

    @Test
    void aKeyKeptInAnEarlierMonthIsADuplicateNow() {
        // A notification of fourteen months ago, in its month's partition (made here as the retention job made it then).
        Map<String, Object> old = jdbc.queryForMap("""
                WITH month AS (SELECT CAST(date_trunc('month', now() AT TIME ZONE 'UTC' - interval '14 months') AS DATE) AS first)
                SELECT herald_id_month_partitions('notification', month.first, 0) AS created,
                       herald_month_id(month.first) + 7 AS id FROM month""");
        long oldId = ((Number) old.get("id")).longValue();
        jdbc.update("""
                INSERT INTO notification (id, idempotency_key, source, source_event_id, type, customer_id, state, canonical, received_at)
                VALUES (?, 'kept-long-ago', 'billing', 'kept-long-ago', 'billing.invoice_paid', 'cus_1', 'ROUTED', '{"data": {}}',
                        now() - interval '14 months')""", oldId);
        assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification WHERE id = ?", String.class, oldId))
                .startsWith("notification_p").isNotEqualTo(jdbc.queryForObject(
                        "SELECT 'notification_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')", String.class));

        NotificationLedger.ToAdmit again = toAdmit("kept-long-ago");
        assertThat(ledger.admit(again.notification(), again.canonicalJson(), again.rawPayload(), again.windowDeadline()))
                .isEqualTo(NotificationLedger.Admission.DUPLICATE);
        assertThat(ledger.admitAll(List.of(again))).containsExactly(NotificationLedger.Admission.DUPLICATE);
        assertThat(ledger.admitDerived(again.notification(), again.canonicalJson(), "{}", again.windowDeadline())).isEqualTo(oldId);
        assertThat(jdbc.queryForMap("SELECT count(*) AS kept, sum(duplicates_suppressed) AS suppressed FROM notification"
                + " WHERE idempotency_key = 'kept-long-ago'")).containsEntry("kept", 1L).containsEntry("suppressed", 2L);
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }

    private static NotificationLedger.ToAdmit toAdmit(String key) {
        CanonicalNotification notification = new CanonicalNotification(key, "billing", key, "billing.invoice_paid", "cus_1",
                Instant.now(), Map.of(), Map.of(), "normal");
        return new NotificationLedger.ToAdmit(notification, "{\"data\": {}}", "{\"id\": \"" + key + "\"}", Instant.now().plusSeconds(3600),
                null);
    }
}
