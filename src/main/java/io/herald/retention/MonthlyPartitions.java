package io.herald.retention;

import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import io.herald.config.RetentionSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The append-only tables partitioned by month (V26: delivery_attempt by attempted_at, inbound_rejection by received_at),
 * partitions named &lt;table&gt;_pYYYY_MM. Creates the coming months ahead and drops whole months past retention. Each
 * create or drop is a transaction of its own that waits at most herald.retention.lock-timeout-ms for its lock: a busy
 * table makes it wait for the next run, never makes inserts queue behind it.
 */
@Component
public class MonthlyPartitions {

    /** The partitioned tables. */
    public static final List<String> TABLES = List.of("delivery_attempt", "inbound_rejection");

    private static final Logger log = LoggerFactory.getLogger(MonthlyPartitions.class);
    private static final DateTimeFormatter SUFFIX = DateTimeFormatter.ofPattern("'_p'yyyy_MM");

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final RetentionSettings settings;

    public MonthlyPartitions(JdbcTemplate jdbc, TransactionTemplate transaction, RetentionSettings settings) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.settings = settings;
    }

    /** Creates the partitions from this month to herald.retention.months-ahead months ahead that are missing; returns how many. */
    public int createAhead() {
        int created = 0;
        for (String table : TABLES) {
            try {
                created += transaction.execute(status -> {
                    lockTimeout();
                    return jdbc.queryForObject("SELECT herald_month_partitions(?, CAST(now() AS DATE), ?)", Integer.class,
                            table, settings.monthsAhead());
                });
            } catch (RuntimeException e) {
                log.warn("Could not create the coming monthly partitions of {} (tried again at the next run): {}", table, e.getMessage());
            }
        }
        return created;
    }

    /** Drops the monthly partitions that end at or before the cutoff; returns the names dropped. */
    public List<String> dropBefore(Instant cutoff) {
        List<String> dropped = new ArrayList<>();
        for (String table : TABLES) {
            for (String partition : partitions(table)) {
                YearMonth month = monthOf(table, partition);
                // A month ends at the start of the next: it is past retention once that start is at or before the cutoff.
                if (month != null && !month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).isAfter(cutoff)) {
                    try {
                        transaction.executeWithoutResult(status -> {
                            lockTimeout();
                            jdbc.execute("DROP TABLE " + partition);
                        });
                        dropped.add(partition);
                        log.info("Retention dropped partition {} (older than {})", partition, cutoff);
                    } catch (RuntimeException e) {
                        log.warn("Could not drop partition {} now (tried again at the next run): {}", partition, e.getMessage());
                    }
                }
            }
        }
        return dropped;
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

    private void lockTimeout() {
        jdbc.execute("SET LOCAL lock_timeout = " + settings.lockTimeoutMs());
    }
}
