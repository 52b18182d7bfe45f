package io.herald.retention;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.herald.config.RetentionSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The tables partitioned by month, partitions named &lt;table&gt;_pYYYY_MM: the append-only ledger tables (V26: delivery_attempt
 * by attempted_at, inbound_rejection by received_at), dropped with herald.retention.ledger, the payload tables (V38:
 * notification_payload and delivery_content by the notification's received_at), dropped with herald.retention.payloads,
 * and the provider receipts (V43: delivery_receipt by received_at), dropped with herald.retention.receipts.
 * Creates the coming months ahead and drops whole months past retention. Each
 * create or drop is a transaction of its own that waits at most herald.retention.lock-timeout-ms for its lock: a busy
 * table makes it wait for the next run, never makes inserts queue behind it.
 */
@Component
public class MonthlyPartitions {

    /** The partitioned ledger tables (herald.retention.ledger). */
    public static final List<String> TABLES = List.of("delivery_attempt", "inbound_rejection");
    /** The partitioned payload tables (herald.retention.payloads), a month of both dropped together. */
    public static final List<String> PAYLOAD_TABLES = List.of("notification_payload", "delivery_content");
    /** The partitioned provider receipts (V43, by received_at; herald.retention.receipts). */
    public static final String RECEIPTS = "delivery_receipt";
    /** The receipts a month's drop carries to the default partition: those a suppression names as its cause. */
    private static final String RECEIPTS_KEPT = "id IN (SELECT receipt_id FROM suppression WHERE receipt_id IS NOT NULL)";

    private static final Logger log = LoggerFactory.getLogger(MonthlyPartitions.class);
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("'_p'yyyy_MM");

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    /** How long one try of a payload month's drop waits for its locks, well under PostgreSQL's deadlock_timeout (1 s). */
    static final long LOCK_TRY_MS = 100;
    private final RetentionSettings settings;

    public MonthlyPartitions(JdbcTemplate jdbc, TransactionTemplate transaction, RetentionSettings settings) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.settings = settings;
    }

    /** Creates the partitions from this month to herald.retention.months-ahead months ahead that are missing; returns how many. */
    public int createAhead() {
        int created = 0;
        for (String table : java.util.stream.Stream.of(TABLES, PAYLOAD_TABLES, List.of(RECEIPTS)).flatMap(List::stream).toList()) {
            try {
                created += transaction.execute(status -> {
                    lockTimeout();
                    return jdbc.queryForObject("SELECT herald_month_partitions(?, CAST(now() AT TIME ZONE 'UTC' AS DATE), ?)", Integer.class,
                            table, settings.monthsAhead());
                });
            } catch (RuntimeException e) {
                log.warn("Could not create the coming monthly partitions of {} (tried again at the next run): {}", table, e.getMessage());
            }
        }
        return created;
    }

    /**
     * Drops the monthly partitions of the ledger tables (attempts, refused requests) that end at or before the cutoff;
     * returns the names dropped.
     */
    public List<String> dropBefore(Instant cutoff) {
        List<String> dropped = new ArrayList<>();
        for (String table : TABLES) {
            dropped.addAll(dropMonthsBefore(table, cutoff, null));
        }
        return dropped;
    }

    /**
     * Drops the monthly partitions of provider receipts that end at or before the cutoff; returns the names dropped. The
     * receipts a suppression names are carried to the default partition in the same transaction (deleted there once no
     * suppression names them).
     */
    public List<String> dropReceiptsBefore(Instant cutoff) {
        return dropMonthsBefore(RECEIPTS, cutoff, RECEIPTS_KEPT);
    }

    /**
     * Drops the table's monthly partitions that end at or before the cutoff; returns the names dropped. {@code kept}: which
     * of the month's rows outlive it (a condition on the partition's rows; null: none), copied to the default partition
     * in the dropping transaction. Two instances at once: a transaction-scoped advisory lock per partition lets one drop
     * it; the other skips it (not counted, no warning).
     */
    private List<String> dropMonthsBefore(String table, Instant cutoff, String kept) {
        List<String> dropped = new ArrayList<>();
        for (String partition : partitions(table)) {
            YearMonth month = monthOf(table, partition);
            // A month ends at the start of the next: it is past retention once that start is at or before the cutoff.
            if (month == null || startOf(month.plusMonths(1)).isAfter(cutoff)) {
                continue;
            }
            try {
                Integer carried = transaction.execute(status -> {
                    lockTimeout();
                    // One instance drops a partition: another one at the same moment finds the lock taken and leaves it,
                    // instead of queueing behind the drop and failing on a table that is gone. The winner checks it is
                    // still there (an instance that finished just before dropped it).
                    if (!jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(hashtext('herald.ledger-month'), hashtext(?))",
                            Boolean.class, partition)
                            || !jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class, partition)) {
                        return null;
                    }
                    if (kept == null) {
                        jdbc.execute("DROP TABLE " + partition);
                        return 0;
                    }
                    // The rows that outlive the month, read before the drop and written back after it: the month no
                    // longer has a partition, so they land in the default one.
                    jdbc.execute("CREATE TEMPORARY TABLE herald_month_kept ON COMMIT DROP AS SELECT * FROM " + partition + " WHERE " + kept);
                    jdbc.execute("DROP TABLE " + partition);
                    return jdbc.update("INSERT INTO " + table + " SELECT * FROM herald_month_kept");
                });
                if (carried == null) {
                    log.info("Partition {} is being dropped, or was just dropped, by another instance", partition);
                    continue;
                }
                dropped.add(partition);
                log.info("Retention dropped partition {} (older than {}){}", partition, cutoff,
                        carried > 0 ? ", " + carried + " row(s) kept in the default partition" : "");
            } catch (RuntimeException e) {
                log.warn("Could not drop partition {} now (tried again at the next run): {}", partition, e.getMessage());
            }
        }
        return dropped;
    }

    /**
     * Drops the months of payloads (both payload tables) that end at or before the cutoff; returns the months dropped. The
     * payloads of the month's notifications still in progress or held ({@code openOfMonth}: a query of notification ids received
     * in [from, to)) are, in the dropping transaction once the month's partitions are detached, copied into the default
     * partitions (the month no longer has a partition), where retention removes them row by row once they are settled.
     * Detaching waits at most herald.retention.lock-timeout-ms for its locks (both parents and their default partitions)
     * and holds them for the few statements of that transaction. The month is recorded in
     * payload_month_dropped, so a notification without its payload reads "payload removed by retention on ...". Two instances
     * at once: a transaction-scoped advisory lock per month lets one drop it; the other skips that month (not counted, no warning).
     */
    public List<YearMonth> dropPayloadsBefore(Instant cutoff, String openOfMonth) {
        List<YearMonth> dropped = new ArrayList<>();
        for (String partition : partitions(PAYLOAD_TABLES.get(0))) {
            YearMonth month = monthOf(PAYLOAD_TABLES.get(0), partition);
            if (month == null || startOf(month.plusMonths(1)).isAfter(cutoff)) {
                continue;
            }
            try {
                Integer kept = transaction.execute(status -> {
                    lockTimeout();
                    // One instance drops a month: another one at the same moment finds the lock taken and leaves it, instead
                    // of queueing behind the detach and failing on a partition that is gone. The winner checks the month is
                    // still there (an instance that finished just before it dropped it).
                    if (!jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(hashtext('herald.payload-month'), ?)", Boolean.class,
                            month.getYear() * 100 + month.getMonthValue())
                            || PAYLOAD_TABLES.stream().noneMatch(table -> jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL",
                                    Boolean.class, nameOf(table, month)))) {
                        return null;
                    }
                    lockEverythingTheDropNeeds(status);
                    List<String> detached = new ArrayList<>();
                    for (String table : PAYLOAD_TABLES) {
                        String monthly = nameOf(table, month);
                        if (jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class, monthly)) {
                            jdbc.execute("ALTER TABLE " + table + " DETACH PARTITION " + monthly);
                            detached.add(table);
                        }
                    }
                    // Looked up once the payload tables are locked: no payload of the month is written meanwhile.
                    List<Long> open = jdbc.queryForList(openOfMonth, Long.class, java.sql.Timestamp.from(startOf(month)),
                            java.sql.Timestamp.from(startOf(month.plusMonths(1))));
                    String ids = open.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",", "{", "}"));
                    if (detached.contains("notification_payload")) {
                        jdbc.update("INSERT INTO notification_payload SELECT * FROM " + nameOf("notification_payload", month)
                                + " WHERE notification_id = ANY(CAST(? AS BIGINT[]))", ids);
                    }
                    if (detached.contains("delivery_content")) {
                        jdbc.update("INSERT INTO delivery_content SELECT c.* FROM " + nameOf("delivery_content", month)
                                + " c JOIN delivery d ON d.id = c.delivery_id WHERE d.notification_id = ANY(CAST(? AS BIGINT[]))", ids);
                    }
                    for (String table : detached) {
                        jdbc.execute("DROP TABLE " + nameOf(table, month));
                    }
                    jdbc.update("INSERT INTO payload_month_dropped (month) VALUES (?) ON CONFLICT (month) DO NOTHING",
                            java.sql.Date.valueOf(month.atDay(1)));
                    return open.size();
                });
                if (kept == null) {
                    log.info("The payloads of {} are being dropped, or were just dropped, by another instance", month);
                    continue;
                }
                dropped.add(month);
                log.info("Retention dropped the payloads of {} (older than {}), {} notification(s) in progress kept", month, cutoff, kept);
            } catch (RuntimeException e) {
                log.warn("Could not drop the payloads of {} now (tried again at the next run): {}", month, e.getMessage());
            }
        }
        return dropped;
    }

    private static Instant startOf(YearMonth month) {
        return month.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    }

    /** The table's partitions, by name. */
    public List<String> partitions(String table) {
        return jdbc.queryForList("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = CAST(? AS regclass) ORDER BY c.relname""", String.class, table);
    }

    /** The partition's name for a month. */
    public static String nameOf(String table, YearMonth month) {
        return table + month.format(SUFFIX);
    }

    private static YearMonth monthOf(String table, String partition) {
        String suffix = partition.substring(table.length());
        if (!suffix.matches("_p\\d{4}_\\d{2}")) {
            return null;   // the default partition
        }
        return YearMonth.of(Integer.parseInt(suffix.substring(2, 6)), Integer.parseInt(suffix.substring(7, 9)));
    }

    /**
     * Every lock a payload month's drop needs, taken before it starts and all at once: ACCESS EXCLUSIVE on the two payload
     * tables. Until V76 the payload partitions' foreign keys to notification and delivery made the drop take that lock on
     * those two as well, and taken one after the other a drop held one while it waited for the next, and an engine query
     * that held the next and wanted the one held closed a cycle: under a burst (PayloadMonthsDroppedUnderBurstTest,
     * 2026-12-03) PostgreSQL ended the ops-digest poll, dispatch and other pollers with "deadlock detected", up to 29 times
     * while a year of months was dropped. PostgreSQL looks for a cycle once, when a wait passes deadlock_timeout (1 s), and
     * the one that looks is ended. So the drop never waits long holding a lock: each try waits at most {@link #LOCK_TRY_MS}
     * for both, gives back what it got (a savepoint) and tries again, for up to herald.retention.lock-timeout-ms. Not had in
     * time: the month waits for the next run. Since V76 nothing refers to notification or delivery by foreign key, and the
     * engine's ledger statements are not held up by a payload drop at all; its payload reads and writes wait behind it while
     * it holds the locks (a detach, the in-progress rows copied, a drop: milliseconds).
     */
    private void lockEverythingTheDropNeeds(TransactionStatus status) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.lockTimeoutMs());
        while (true) {
            Object savepoint = status.createSavepoint();
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            try {
                jdbc.execute("SET LOCAL lock_timeout = " + Math.max(1, Math.min(LOCK_TRY_MS, left)));
                jdbc.execute("LOCK TABLE " + String.join(", ", PAYLOAD_TABLES) + " IN ACCESS EXCLUSIVE MODE");
                status.releaseSavepoint(savepoint);
                lockTimeout();
                return;
            } catch (PessimisticLockingFailureException busy) {
                status.rollbackToSavepoint(savepoint);
                if (left <= LOCK_TRY_MS) {
                    throw busy;
                }
            }
        }
    }

    private void lockTimeout() {
        jdbc.execute("SET LOCAL lock_timeout = " + settings.lockTimeoutMs());
    }
}
