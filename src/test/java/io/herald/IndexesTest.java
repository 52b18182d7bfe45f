package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import javax.sql.DataSource;

import io.herald.config.RetentionSettings;
import io.herald.console.FailureSearch;
import io.herald.console.WeeklyReport;
import io.herald.ledger.DeliveryLedger;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.ops.FailureAlerts;
import io.herald.retention.MonthlyPartitions;
import io.herald.retention.RetentionJob;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Growth (issue 16 point 5), on a database of its own on the embedded PostgreSQL, migrated by Flyway as Herald would:
 * a year of ledger at a stated, scaled-down rate (NOTIFICATIONS a year: 300,000 by default, about 820 a day; below some 200,000 a year PostgreSQL rightly prefers reading
 * the whole of notification for a type filter, so the volume is not lower; {@code -Dherald-test.growth-notifications=1000000}
 * for about 2,700 a day, one delivery and one attempt
 * each: 2% FAILED, 1% DISMISSED, 0.2% UNCERTAIN, 0.1% PARKED, 0.5% missed their send window; 10 quarantined events a day),
 * in the steady state the retention job keeps (payloads older than 100 days already removed), plus the months of payloads
 * (in their monthly partitions) whose end is past the payloads' 30 days, and a day of ledger 460 days old, in a month of
 * attempts past the ledger's 400 days. Shows, with PostgreSQL's own plans and timings:
 * <ul>
 * <li>every filter of the failures view (FailureSearch) and the weekly review (WeeklyReport), as the console runs them,
 * is served by an index: no sequential scan of delivery or notification in its EXPLAIN;</li>
 * <li>each such query answers within {@link #QUERY_BOUND} on this 2-core machine;</li>
 * <li>one run of the retention job on that year (months of payloads to drop, a day of ledger to delete, a month of
 * attempts to drop) ends within {@link #RETENTION_BOUND}, and its batch queries are served by indexes too.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IndexesTest {

    static final int NOTIFICATIONS = Integer.getInteger("herald-test.growth-notifications", 300_000);
    static final Duration QUERY_BOUND = Duration.ofSeconds(3);
    static final Duration RETENTION_BOUND = Duration.ofSeconds(30);
    /**
     * A sequential scan of the ledger: the working set (delivery, notification) or a month of the archive (V76). One of a
     * month that holds nothing (the test's year has no rows between 365 and 460 days back: its plan costs 0.00..0.00)
     * reads nothing and is not one.
     */
    private static final Pattern SEQ_SCAN = Pattern.compile("Seq Scan on (delivery|notification)(_a\\d{4}_\\d{2})?( \\w+)?  \\(cost=(?!0\\.00\\.\\.0\\.00 )");

    private ExplainingJdbc jdbc;
    private TransactionTemplate transaction;

    @BeforeAll
    void aYearOfLedger() {
        long started = System.nanoTime();
        String url = EmbeddedInfrastructure.start().database("herald_growth");
        DataSource db = new DriverManagerDataSource(url, "postgres", "postgres");
        jdbc = new ExplainingJdbc(db);
        transaction = new TransactionTemplate(new DataSourceTransactionManager(db));
        jdbc.execute("DROP SCHEMA public CASCADE");
        jdbc.execute("CREATE SCHEMA public");
        Flyway.configure().dataSource(db).locations("classpath:db/migration").load().migrate();
        jdbc.queryForObject("SELECT herald_month_partitions('delivery_attempt', CAST(now() - interval '470 days' AS DATE), 3)", Integer.class);
        for (String table : MonthlyPartitions.PAYLOAD_TABLES) {
            jdbc.queryForObject("SELECT herald_month_partitions(?, CAST(now() - interval '100 days' AS DATE), 3)", Integer.class, table);
        }

        // One notification every year/N seconds, the newest now; plus one day of them 460 days old, in a month of attempts
        // that is past the ledger's 400 days (what retention deletes and drops next). As retention leaves them (V76): the
        // last 30 days in the engine's working set, the older ones (all settled) in their months of the archive.
        int day = NOTIFICATIONS / 365;
        jdbc.queryForList("""
                SELECT herald_archive_month(CAST(to_char(m, 'YYYYMM') AS INT))
                FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC' - interval '470 days'),
                                     now() AT TIME ZONE 'UTC' - interval '30 days', interval '1 month') m""");
        jdbc.update("""
                INSERT INTO notification_all (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                              occurred_at, received_at, updated_at, payload_removed_at, payload_removed_by, archived_month)
                SELECT 'growth:' || g, (ARRAY['billing', 'support', 'crm'])[1 + g % 3], 'evt_' || g,
                       (ARRAY['billing.payment_failed', 'billing.invoice_paid', 'support.agent_replied', 'crm.order_confirmed',
                              'billing.trial_will_end', 'support.ticket_status_changed', 'crm.appointment_scheduled',
                              'billing.charge_refunded'])[1 + g % 8],
                       'cus_' || (g % 50000), 'ROUTED',
                       jsonb_build_object('idempotencyKey', 'growth:' || g, 'customerId', 'cus_' || (g % 50000),
                                          'refs', jsonb_build_object('orderId', 'ord_' || g, 'ticketId', 't' || (g % 90000)),
                                          'data', '{}'::jsonb),
                       at, at, at,
                       CASE WHEN at <= now() - interval '100 days' THEN at + interval '61 days' END,
                       CASE WHEN at <= now() - interval '100 days' THEN 'retention' END,
                       CASE WHEN at < now() - interval '30 days' THEN CAST(to_char(at AT TIME ZONE 'UTC', 'YYYYMM') AS INT) ELSE 0 END
                FROM (SELECT g, now() - make_interval(secs => (? - g) * 31536000.0 / ?) AS at FROM generate_series(1, ?) g
                      UNION ALL
                      SELECT ? + g, now() - interval '460 days' - make_interval(secs => g * 86400.0 / ?) FROM generate_series(1, ?) g) s
                """, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, NOTIFICATIONS, day, day);
        jdbc.update("""
                INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
                SELECT id, received_at, '{"id": "evt_' || id || '", "amount_due": 4900}', jsonb_build_object('amountDue', '49.00')
                FROM notification_all WHERE payload_removed_at IS NULL""");
        jdbc.update("""
                INSERT INTO delivery_all (notification_id, channel, state, recipient_masked, provider_message_id, reason, attempts,
                                          created_at, updated_at, sent_at, failed_at, window_missed_at, next_attempt_at, customer_id, archived_month)
                SELECT n.id, (ARRAY['email', 'sms', 'push', 'in_app'])[1 + n.id % 4], st.state, 'j***@example.com',
                       CASE WHEN st.state IN ('SENT', 'DELIVERED') THEN 'msg-' || n.id END,
                       CASE WHEN st.state IN ('FAILED', 'DISMISSED') THEN 'sms provider rejected +1555…0123: not a mobile number; permanent'
                            WHEN st.state = 'UNCERTAIN' THEN 'email outcome unknown: the SMTP server did not answer' END,
                       1, n.received_at, n.received_at + interval '1 minute',
                       CASE WHEN st.state IN ('SENT', 'DELIVERED') THEN n.received_at + interval '1 minute' END,
                       CASE WHEN st.state IN ('FAILED', 'DISMISSED', 'UNCERTAIN') THEN n.received_at + interval '1 minute' END,
                       CASE WHEN n.id % 200 = 5 THEN n.received_at + interval '2 hours' END,
                       CASE WHEN st.state = 'PARKED' THEN now() + interval '1 hour' END, n.customer_id, n.archived_month
                FROM notification_all n CROSS JOIN LATERAL (SELECT CASE WHEN n.id % 100 < 2 THEN 'FAILED' WHEN n.id % 100 = 2 THEN 'DISMISSED'
                     WHEN n.id % 500 = 3 THEN 'UNCERTAIN' WHEN n.id % 1000 = 4 AND n.received_at > now() - interval '2 days' THEN 'PARKED'
                     WHEN n.id % 3 = 0 THEN 'DELIVERED' ELSE 'SENT' END AS state) st""");
        jdbc.update("""
                INSERT INTO delivery_content (delivery_id, received_at, subject, rendered_body)
                SELECT d.id, n.received_at, 'Your invoice', 'Your payment of 49.00 USD failed.'
                FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id WHERE n.payload_removed_at IS NULL""");
        jdbc.update("INSERT INTO delivery_attempt (delivery_id, attempted_at, outcome, provider_status, reason)"
                + " SELECT id, created_at, CASE WHEN state IN ('FAILED', 'DISMISSED') THEN 'FAILED' ELSE 'SENT' END, 200, reason FROM delivery_all");
        jdbc.update("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload, status, created_at, updated_at)
                SELECT 'support', 'zd_' || g, 'QUARANTINED', 'identity', 'names customer ' || g || ', who is not in the directory',
                       '{"detail": {"requester_id": ' || g || '}}', CASE WHEN g % 4 = 0 THEN 'OPEN' ELSE 'DISMISSED' END, at, at
                FROM (SELECT g, now() - make_interval(secs => g * 8640.0) AS at FROM generate_series(1, 3650) g) s""");
        jdbc.execute("ANALYZE");
        System.out.printf("growth: a year of %d notifications, deliveries and attempts written and analysed in %d s%n", NOTIFICATIONS,
                Duration.ofNanos(System.nanoTime() - started).toSeconds());
    }

    @Test
    void everyFilterOfTheFailuresViewAndTheWeeklyReviewIsServedByAnIndex() {
        jdbc.explained.clear();
        FailureSearch search = new FailureSearch(jdbc, new io.herald.notification.NotificationCatalog("config/catalog.yaml"));
        String week = LocalDate.now(ZoneOffset.UTC).minusDays(1).format(java.time.format.DateTimeFormatter.ISO_DATE);
        List<FailureSearch.Filter> filters = new ArrayList<>();
        filters.add(FailureSearch.Filter.none());
        filters.add(filter("source", "billing"));
        filters.add(filter("type", "billing.payment_failed"));
        filters.add(filter("channel", "sms"));
        filters.add(filter("customerId", "cus_4242"));
        filters.add(filter("orderId", "ord_4242"));
        filters.add(filter("ticketId", "t4242"));
        for (String state : List.of("FAILED", "PARKED", "UNCERTAIN", "DISMISSED", "WINDOW_MISSED", "QUARANTINED", "DEAD_LETTER")) {
            filters.add(filter("state", state));
        }
        filters.add(new FailureSearch.Filter(null, null, null, null, null, null, null, week, null));
        filters.add(new FailureSearch.Filter(null, null, null, null, null, null, null, null, week));
        filters.add(new FailureSearch.Filter("billing", "billing.payment_failed", "sms", null, null, null, "FAILED", week, null));
        for (FailureSearch.Filter filter : filters) {
            jdbc.explainNext("failures view, " + filter.describe());
            search.find(filter, 200);
        }
        WeeklyReport weekly = new WeeklyReport(jdbc);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        for (LocalDate day : List.of(today, today.minusMonths(6))) {
            String isoWeek = String.format("%d-W%02d", day.get(IsoFields.WEEK_BASED_YEAR), day.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
            jdbc.explainNext("weekly review " + isoWeek);
            weekly.of(isoWeek);
        }
        jdbc.explainNext(null);

        jdbc.explained.forEach(plan -> System.out.printf("growth: %s answered in %d ms%n", plan.what(), plan.took().toMillis()));
        assertThat(jdbc.explained).hasSizeGreaterThan(filters.size());
        assertThat(jdbc.explained).allSatisfy(plan -> {
            assertThat(SEQ_SCAN.matcher(plan.plan()).find()).as("%s: sequential scan of delivery or notification in%n%s%n%s",
                    plan.what(), plan.sql(), plan.plan()).isFalse();
            assertThat(plan.took()).as("%s took %s", plan.what(), plan.took()).isLessThan(QUERY_BOUND);
        });
    }

    /**
     * The failure alerts' poll of deliveries owing an alert (every 15 s) reads the index made for it, not the year of
     * deliveries: its condition once named late-held deliveries the index did not cover.
     */
    @Test
    void theFailureAlertsPollOfDeliveriesIsServedByItsIndex() {
        jdbc.explained.clear();
        jdbc.explainNext("failure alerts' poll of deliveries");
        jdbc.query(FailureAlerts.UNALERTED_DELIVERIES, (row, n) -> row.getLong("id"), 200);
        jdbc.explainNext(null);
        assertThat(jdbc.explained).singleElement().satisfies(plan -> {
            assertThat(plan.plan()).as(plan.plan()).contains("delivery_unalerted");
            assertThat(SEQ_SCAN.matcher(plan.plan()).find()).as(plan.plan()).isFalse();
        });
    }

    @Test
    void oneRetentionRunOnAYearOfLedgerStaysWithinItsBound() {
        RetentionSettings settings = new RetentionSettings(true, Duration.ofDays(30), Duration.ofDays(400), Duration.ofDays(7),
                Duration.ofDays(400), 1000, 3_600_000, 60_000, Duration.ofMinutes(5), 3, 2000, Duration.ofDays(30));
        MonthlyPartitions partitions = new MonthlyPartitions(jdbc, transaction, settings);
        RetentionJob job = new RetentionJob(jdbc, transaction, new DeliveryLedger(jdbc, transaction, List.of()), partitions,
                new io.herald.ledger.LedgerArchive(jdbc, transaction), settings);
        // Payloads in months that ended before the cutoff (now - 30 days) are dropped with their partitions; the rest stay.
        // The months dropped are those before the cutoff's month: the one of this moment, or the next one should the cutoff
        // pass the start of a month before the run has taken it (the year written is dense, so a month more is thousands of
        // payloads more). What is kept is counted for both, and the run's own cutoff decides which is expected.
        YearMonth cutoffMonth = payloadCutoffMonth();
        Map<YearMonth, List<Integer>> kept = new LinkedHashMap<>();
        for (YearMonth month : List.of(cutoffMonth, cutoffMonth.plusMonths(1))) {
            String droppable = droppable(month);
            kept.put(month, List.of(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE NOT " + droppable, Integer.class),
                    jdbc.queryForObject("SELECT count(*) FROM delivery_content WHERE NOT " + droppable, Integer.class)));
        }
        int toRemove = jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE " + droppable(cutoffMonth), Integer.class);
        int toDelete = jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE received_at < now() - interval '400 days'", Integer.class);
        assertThat(toRemove).isGreaterThan(NOTIFICATIONS / 400);
        assertThat(toDelete).isGreaterThan(NOTIFICATIONS / 400);
        int before = jdbc.queryForObject("SELECT count(*) FROM notification_all", Integer.class);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt WHERE attempted_at < now() - interval '459 days'", Integer.class))
                .isEqualTo(toDelete);

        // The year just written wakes autovacuum, whose lock the payload drop does not wait for (it gives up within its lock
        // timeout and tries again at the next run, as in production after a bulk load): the one run measured here runs
        // without it, so that it is the run that is timed, not a race with the database's housekeeping.
        jdbc.execute("""
                DO $$ DECLARE t regclass; BEGIN
                  FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                           WHERE s.nspname = 'public' AND c.relkind = 'r' LOOP
                    EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', t);
                  END LOOP; END $$""");
        jdbc.queryForList("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                + " AND datname = current_database()");
        Exchange run = new DefaultExchange(new DefaultCamelContext());
        jdbc.explained.clear();
        jdbc.explainNext("retention");
        long started = System.nanoTime();
        job.begin(run);
        job.createPartitionsAhead(run);
        job.removePayloads(run);
        job.clearRejectedExcerpts(run);
        job.archiveSettled(run);
        job.deleteLedgerRows(run);
        job.deleteReceipts(run);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        jdbc.explainNext(null);
        YearMonth cutoffMonthAfter = payloadCutoffMonth();
        assertThat(cutoffMonthAfter).isIn(cutoffMonth, cutoffMonth.plusMonths(1));

        System.out.printf("growth: one retention run on a year of %d notifications (%d payloads to remove, %d notifications to delete)"
                + " took %d ms%n", NOTIFICATIONS, toRemove, toDelete, took.toMillis());
        assertThat(took).as("one retention run on a year of ledger").isLessThan(RETENTION_BOUND);
        // The payloads and contents kept are exactly those of one cutoff month the run can have used (the first one taken
        // above, or the next one when the cutoff passed a month's start while the run went), and none before it is left.
        List<Integer> left = List.of(jdbc.queryForObject("SELECT count(*) FROM notification_payload", Integer.class),
                jdbc.queryForObject("SELECT count(*) FROM delivery_content", Integer.class));
        YearMonth used = kept.entrySet().stream().filter(month -> !month.getKey().isAfter(cutoffMonthAfter))
                .filter(month -> month.getValue().equals(left)).map(Map.Entry::getKey).findFirst().orElse(null);
        assertThat(used).as("payloads and contents left %s; kept for each cutoff month the run can have used %s", left, kept).isNotNull();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE " + droppable(used), Integer.class)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_content WHERE " + droppable(used), Integer.class)).isZero();
        assertThat(partitions.partitions("notification_payload")).doesNotContain(MonthlyPartitions.nameOf("notification_payload",
                java.time.YearMonth.from(LocalDate.now(ZoneOffset.UTC).minusDays(100))));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_all", Integer.class)).isEqualTo(before - toDelete);
        // Dropped as the archive's months (V76), not deleted row by row.
        assertThat(jdbc.queryForList("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                + " WHERE i.inhparent = CAST('notification_all' AS regclass)", String.class))
                .doesNotContain(String.format("notification_a%1$tY_%1$tm", LocalDate.now(ZoneOffset.UTC).minusDays(461)))
                .contains("notification", String.format("notification_a%1$tY_%1$tm", LocalDate.now(ZoneOffset.UTC).minusDays(300)));
        String pastMonth = MonthlyPartitions.nameOf("delivery_attempt", java.time.YearMonth.from(
                LocalDate.now(ZoneOffset.UTC).minusDays(461)));
        assertThat(partitions.partitions("delivery_attempt")).doesNotContain(pastMonth)
                .contains(MonthlyPartitions.nameOf("delivery_attempt", java.time.YearMonth.now(ZoneOffset.UTC)));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt WHERE attempted_at < now() - interval '459 days'", Integer.class))
                .isZero();
        assertThat(jdbc.explained).isNotEmpty().allSatisfy(plan -> assertThat(SEQ_SCAN.matcher(plan.plan()).find())
                .as("retention: sequential scan of delivery or notification in%n%s%n%s", plan.sql(), plan.plan()).isFalse());
    }

    /** The month of the payload cutoff (now - 30 days, UTC): the months before it are the ones retention drops. */
    private static YearMonth payloadCutoffMonth() {
        return YearMonth.from(Instant.now().minus(Duration.ofDays(30)).atOffset(ZoneOffset.UTC));
    }

    /** The condition on received_at of payloads in the months before {@code cutoffMonth}. */
    private static String droppable(YearMonth cutoffMonth) {
        return "received_at < TIMESTAMPTZ '" + cutoffMonth.atDay(1) + " 00:00:00+00'";
    }

    private static FailureSearch.Filter filter(String field, String value) {
        Map<String, String> f = Map.of(field, value);
        return new FailureSearch.Filter(f.get("source"), f.get("type"), f.get("channel"), f.get("customerId"), f.get("orderId"),
                f.get("ticketId"), f.get("state"), f.get("from"), f.get("to"));
    }

    /** One query as it ran: what asked for it, its SQL, PostgreSQL's plan for it (EXPLAIN) and how long it took. */
    record Plan(String what, String sql, String plan, Duration took) {
    }

    /**
     * The JdbcTemplate the console's beans and the retention job run on here: while a label is set, each SELECT they run is
     * also EXPLAINed with the same arguments (the plan PostgreSQL chooses for it on this data) and timed.
     */
    static class ExplainingJdbc extends JdbcTemplate {

        final List<Plan> explained = new ArrayList<>();
        private String label;

        ExplainingJdbc(DataSource db) {
            super(db);
        }

        /** Explains the queries that follow as this (null: none). */
        void explainNext(String what) {
            label = what;
        }

        @Override
        public <T> List<T> query(String sql, RowMapper<T> rowMapper, Object... args) {
            long started = System.nanoTime();
            List<T> result = super.query(sql, rowMapper, args);
            explain(sql, args, started);
            return result;
        }

        @Override
        public List<Map<String, Object>> queryForList(String sql, Object... args) {
            long started = System.nanoTime();
            List<Map<String, Object>> result = super.queryForList(sql, args);
            explain(sql, args, started);
            return result;
        }

        @Override
        public <T> List<T> queryForList(String sql, Class<T> elementType, Object... args) {
            long started = System.nanoTime();
            List<T> result = super.queryForList(sql, elementType, args);
            explain(sql, args, started);
            return result;
        }

        @Override
        public <T> T queryForObject(String sql, Class<T> requiredType, Object... args) {
            long started = System.nanoTime();
            T result = super.queryForObject(sql, requiredType, args);
            explain(sql, args, started);
            return result;
        }

        @Override
        public int update(String sql, Object... args) {
            long started = System.nanoTime();
            int result = super.update(sql, args);
            explain(sql, args, started);
            return result;
        }

        private void explain(String sql, Object[] args, long started) {
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            String what = label;
            if (what == null || sql.startsWith("EXPLAIN") || sql.startsWith("SET") || sql.startsWith("INSERT")) {
                return;
            }
            label = null;   // the EXPLAIN itself is not explained
            try {
                String plan = String.join("\n", super.queryForList("EXPLAIN " + sql, String.class, args));
                explained.add(new Plan(what, sql, plan, took));
            } finally {
                label = what;
            }
        }
    }
}
