package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.zaxxer.hikari.HikariDataSource;
import io.herald.ledger.DeliveryLedger;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The rate-limit permits of deliveries claimed for sending come with their claims (issue 17: at most one transaction per
 * notification): the ledger's group commit reserves them in the claims' transaction, and the deliveries' rate-limit step
 * finds them without a transaction of its own. On the real schema (Flyway) of an embedded PostgreSQL.
 */
class PermitsWithClaimsTest {

    private static EmbeddedPostgres postgres;
    private static HikariDataSource pool;
    private static JdbcTemplate jdbc;

    @BeforeAll
    static void database() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
        Flyway.configure().dataSource(postgres.getPostgresDatabase()).locations("classpath:db/migration").load().migrate();
        pool = new HikariDataSource();
        pool.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
        pool.setMaximumPoolSize(8);
        jdbc = new JdbcTemplate(pool);
    }

    @AfterAll
    static void stop() throws IOException {
        pool.close();
        postgres.close();
    }

    @Test
    void deliveriesClaimedForSendingFindTheirPermitsWithoutATransactionOfTheirOwn() throws Exception {
        ProviderRateLimits rateLimits = new ProviderRateLimits(pool, rates());
        ProviderPermits permits = new ProviderPermits(rateLimits);
        DeliveryLedger ledger = new DeliveryLedger(jdbc, new TransactionTemplate(new DataSourceTransactionManager(pool)), List.of(permits));
        int deliveries = 24;
        List<Long> notifications = new ArrayList<>();
        for (int i = 0; i < deliveries; i++) {
            notifications.add(notification("permits-" + i));
        }

        // Sender threads as the channel routes run them: claim for sending (group commit), then the rate-limit step.
        ExecutorService senders = Executors.newFixedThreadPool(8);
        List<Future<Boolean>> claimed = new ArrayList<>();
        for (long notification : notifications) {
            claimed.add(senders.submit(() -> {
                boolean claim = ledger.claimForSending(notification, "push", "tok…", null, "Your ticket was answered").isPresent();
                permits.acquire("push");
                return claim;
            }));
        }
        for (Future<Boolean> each : claimed) {
            assertThat(each.get()).as("claimed").isTrue();
        }
        senders.shutdown();

        long ownTransactions = rateLimits.databaseRoundTrips();
        System.out.printf("%d deliveries claimed and through the rate-limit step: %d reservations in a transaction of their own,"
                + " %d permits dropped unused%n", deliveries, ownTransactions, permits.droppedUnused());
        // Without the claims' reservations the senders reserve for as many as wait: 7 transactions for these 24 in a run.
        assertThat(ownTransactions).as("permits reserved in transactions of their own (a permit older than %d ms when its sender"
                + " came would cost one)", ProviderPermits.USE_WITHIN_MS).isLessThan(deliveries / 8);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery WHERE channel = 'push' AND state = 'SENDING'", Integer.class))
                .isEqualTo(deliveries);
        assertThat(jdbc.queryForObject("SELECT tat_nanos FROM rate_limit_gcra WHERE channel = 'push'", Long.class))
                .as("the bucket's row, written by the claims' transactions").isPositive();
    }

    @Test
    void aSettledDeliveryIsNotClaimedAndReservesNoPermit() {
        ProviderRateLimits rateLimits = new ProviderRateLimits(pool, rates());
        ProviderPermits permits = new ProviderPermits(rateLimits);
        DeliveryLedger ledger = new DeliveryLedger(jdbc, new TransactionTemplate(new DataSourceTransactionManager(pool)), List.of(permits));
        long notification = notification("settled");
        jdbc.update("INSERT INTO delivery (notification_id, channel, state) VALUES (?, 'sms', 'SENT')", notification);
        jdbc.update("DELETE FROM rate_limit_gcra WHERE channel = 'sms'");

        assertThat(ledger.claimForSending(notification, "sms", "+1 •••• 0100", null, "Hello")).isEmpty();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM rate_limit_gcra WHERE channel = 'sms'", Integer.class))
                .as("no reservation was made for it: the bucket's row was not even created").isZero();
    }

    private static long notification(String key) {
        return jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'support', ?, 'support.agent_replied', 'cus_permits', 'ROUTED', '{"data": {}}') RETURNING id""",
                Long.class, key, key);
    }

    private static MockEnvironment rates() {
        MockEnvironment env = new MockEnvironment();
        Map<String, Integer> rates = Map.of("email", 20, "sms", 10, "push", 500, "ops_webhook", 1, "in_app", 200);
        ProviderRateLimits.SETTINGS.forEach((channel, prefix) -> env.setProperty(prefix + ".rate-per-second", String.valueOf(rates.get(channel))));
        return env;
    }
}
