package io.herald.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.herald.local.EmbeddedInfrastructure;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The senders' claim of due deliveries in the middle of a burst, on a database of its own migrated by Flyway: the
 * table's statistics were gathered before the burst (no delivery in flight then) and not since, as when a burst fills
 * the queue faster than autovacuum analyzes it. Each candidate's check for an earlier delivery of the same customer
 * must stay a lookup by customer; planned as a join on those statistics it compared every candidate with every
 * delivery in flight on the channel (64 x 3,000 rows for one claim; seconds per claim in a benchmark burst).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClaimPlanTest {

    private static final int SETTLED = 20_000;
    private static final int BURST = 3_000;
    private static final int CUSTOMERS = 1_000;
    private static final Pattern REMOVED_BY_JOIN_FILTER = Pattern.compile("Rows Removed by Join Filter: (\\d+)");

    private JdbcTemplate jdbc;
    private TransactionTemplate transaction;
    private DeliveryLedger ledger;

    @BeforeAll
    void aBurstOnStaleStatistics() {
        String url = EmbeddedInfrastructure.start().database("herald_claim_plan");
        DataSource db = new DriverManagerDataSource(url, "postgres", "postgres");
        jdbc = new JdbcTemplate(db);
        jdbc.execute("DROP SCHEMA public CASCADE");
        jdbc.execute("CREATE SCHEMA public");
        Flyway.configure().dataSource(db).locations("classpath:db/migration").load().migrate();
        jdbc.execute("ALTER TABLE delivery SET (autovacuum_enabled = false)");   // the statistics stay as they were before the burst
        transaction = new TransactionTemplate(new DataSourceTransactionManager(db));
        ledger = new DeliveryLedger(jdbc, transaction, List.of());

        insertNotifications(1, SETTLED, "SENT");
        jdbc.execute("ANALYZE delivery");
        // The burst: every customer has three deliveries queued, one in fifty is being sent.
        insertNotifications(SETTLED + 1, SETTLED + BURST, "PENDING");
        jdbc.update("UPDATE delivery SET state = 'SENDING' WHERE state = 'PENDING' AND notification_id % 50 = 0");
    }

    private void insertNotifications(int from, int to, String deliveryState) {
        jdbc.update("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                          occurred_at, received_at, updated_at)
                SELECT 'claim:' || g, 'support', 'evt_' || g, 'support.agent_replied', 'cus_' || (g % ?), 'ROUTED',
                       jsonb_build_object('idempotencyKey', 'claim:' || g, 'customerId', 'cus_' || (g % ?), 'data', '{}'::jsonb),
                       now(), now(), now()
                FROM generate_series(?, ?) g""", CUSTOMERS, CUSTOMERS, from, to);
        jdbc.update("""
                INSERT INTO delivery (notification_id, channel, state, customer_id, next_attempt_at)
                SELECT id, 'email', ?, customer_id, CASE WHEN ? = 'PENDING' THEN now() - make_interval(secs => ? - id) END
                FROM notification WHERE id BETWEEN ? AND ?""", deliveryState, deliveryState, to, from, to);
    }

    @Test
    void eachCandidatesEarlierDeliveryIsLookedUpByCustomerNotComparedWithEveryDeliveryInFlight() {
        // EXPLAIN ANALYZE runs the claim: in a transaction rolled back, so nothing is claimed.
        String plan = transaction.execute(status -> {
            status.setRollbackOnly();
            return String.join("\n", jdbc.queryForList("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + DeliveryLedger.CLAIM_DUE,
                    String.class, 30.0, "email", 64));
        });
        Matcher removed = REMOVED_BY_JOIN_FILTER.matcher(plan);
        long compared = 0;
        while (removed.find()) {
            compared += Long.parseLong(removed.group(1));
        }
        assertThat(compared).as("rows compared and thrown away by a join filter:%n%s", plan).isLessThan(1_000);
        assertThat(plan).as(plan).containsPattern("Index Cond: .*customer_id = \\(?q\\.customer_id");
    }

    @Test
    void theClaimTakesTheOldestDueDeliveriesOfCustomersWithNothingEarlierInFlight() {
        jdbc.update("UPDATE delivery SET next_attempt_at = now() - make_interval(secs => ? - notification_id)"
                + " WHERE state = 'PENDING'", SETTLED + BURST);
        List<Long> claimed = ledger.claimDue("email", 64, Duration.ofSeconds(30), (row, n) -> row.getLong("notification_id"));

        // The first burst deliveries of customers whose first one is not in flight: the burst's first 1,000 notifications
        // are each customer's first, so the oldest 64 of those not SENDING, in order.
        List<Long> expected = jdbc.queryForList("""
                SELECT q.notification_id FROM delivery q WHERE q.state = 'PENDING' AND q.notification_id <= ?
                  AND q.notification_id % 50 <> 0 ORDER BY q.notification_id LIMIT 64""", Long.class, SETTLED + CUSTOMERS);
        assertThat(expected).hasSize(64);
        assertThat(claimed).containsExactlyElementsOf(expected);
    }
}
