package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.sql.DataSource;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Polls;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Two Herald instances dropping the same month of attempts at the same moment (issue 16, retention): both find the month
 * past herald.retention.ledger, and a third session reads the month's partition so that the first drop waits inside its
 * transaction while the second arrives. Shown: the partition is dropped once (one of the two reports it, the other skips
 * it quietly) and no warning is logged. Before, the second queued behind the first's DROP TABLE and failed on a table that
 * was gone, with "Could not drop partition ...".
 */
@ExtendWith(OutputCaptureExtension.class)
class LedgerMonthDropRaceTest extends HeraldIntegrationTest {

    @Autowired
    MonthlyPartitions partitions;
    @Autowired
    DataSource dataSource;
    @Autowired
    CamelContext camel;

    /** The shared Herald's own first retention run would be a third instance dropping the same month. */
    @BeforeEach
    void afterTheFirstRetentionRun() {
        Polls.afterFirstRetentionRun(camel);
    }

    @Test
    void twoInstancesDroppingTheSameMonthOfAttemptsDropItOnceWithoutAWarning(CapturedOutput output) throws Exception {
        // A month of its own, long past, so that no other test's month is in the way.
        YearMonth month = YearMonth.of(2001 + ThreadLocalRandom.current().nextInt(18), 1 + ThreadLocalRandom.current().nextInt(12));
        String partition = MonthlyPartitions.nameOf("delivery_attempt", month);
        jdbc.execute("CREATE TABLE " + partition + " PARTITION OF delivery_attempt FOR VALUES FROM ('"
                + month.atDay(1) + " 00:00:00+00') TO ('" + month.plusMonths(1).atDay(1) + " 00:00:00+00')");
        jdbc.update("INSERT INTO delivery_attempt (delivery_id, attempted_at, outcome) VALUES (0, ?, 'SENT')",
                Timestamp.from(month.atDay(10).atTime(12, 0).toInstant(ZoneOffset.UTC)));
        Instant cutoff = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        try (Connection reader = dataSource.getConnection()) {
            reader.setAutoCommit(false);
            reader.createStatement().execute("LOCK TABLE " + partition + " IN ACCESS SHARE MODE");
            CompletableFuture<List<String>> first = CompletableFuture.supplyAsync(() -> partitions.dropBefore(cutoff));
            CompletableFuture<List<String>> second = CompletableFuture.supplyAsync(() -> partitions.dropBefore(cutoff));
            // Both are in: one waits for the partition's lock in its DROP TABLE, the other has stepped aside (or waits too,
            // as both did before the fix).
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
                int waiting = jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND query = 'DROP TABLE " + partition + "'", Integer.class);
                long done = Stream.of(first, second).filter(CompletableFuture::isDone).count();
                return waiting >= 1 && waiting + done == 2;
            });
            reader.commit();
            List<String> a = first.get(30, TimeUnit.SECONDS);
            List<String> b = second.get(30, TimeUnit.SECONDS);

            assertThat(Stream.concat(a.stream(), b.stream()).filter(partition::equals).toList()).containsExactly(partition);
            assertThat(jdbc.queryForObject("SELECT to_regclass(?) IS NULL", Boolean.class, partition)).isTrue();
            assertThat(output.getAll()).doesNotContain("Could not drop partition " + partition);
        }
    }
}
