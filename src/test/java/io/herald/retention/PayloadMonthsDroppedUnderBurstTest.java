package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Polls;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * A year of payload months dropped by retention, one month after the other, while a burst of webhooks is admitted,
 * dispatched and mailed by the same Herald. Each drop takes ACCESS EXCLUSIVE locks on notification, delivery and the
 * payload tables for a moment (MonthlyPartitions). Counted here: every event is one notification, routed, mailed exactly
 * once, none quarantined or dead-lettered; every month is gone (one whose locks were not had in time goes at the next
 * run, as the job would); and PostgreSQL reported no deadlock. Before the drop took its locks all at once, in short tries,
 * the same test saw 29 "deadlock detected" (the ops-digest poll, dispatch and other pollers ended, and tried again).
 */
@ExtendWith(OutputCaptureExtension.class)
class PayloadMonthsDroppedUnderBurstTest extends HeraldIntegrationTest {

    private static final int EVENTS = 150;
    private static final int MONTHS = 12;

    @Autowired
    MonthlyPartitions partitions;
    @Autowired
    CamelContext camel;

    /** The shared Herald's own retention runs would drop these months too (each month is dropped once either way). */
    @BeforeEach
    void afterTheFirstRetentionRun() {
        Polls.afterFirstRetentionRun(camel);
    }

    @Test
    void aYearOfPayloadMonthsDroppedUnderABurstLosesAndDuplicatesNothing(CapturedOutput output) throws Exception {
        // A year of its own, long past, each month holding a settled notification's payload: one of 2007-2018, never one of
        // PayloadMonthDropRaceTest's (2001-2006), whose kept open payload in the default partition would refuse this month.
        int year = 2007 + ThreadLocalRandom.current().nextInt(12);
        String run = "dropburst" + newTicketId();
        List<YearMonth> months = new ArrayList<>();
        for (int m = 1; m <= MONTHS; m++) {
            YearMonth month = YearMonth.of(year, m);
            months.add(month);
            for (String table : MonthlyPartitions.PAYLOAD_TABLES) {
                jdbc.execute("CREATE TABLE IF NOT EXISTS " + MonthlyPartitions.nameOf(table, month) + " PARTITION OF " + table
                        + " FOR VALUES FROM ('" + month.atDay(1) + " 00:00:00+00') TO ('" + month.plusMonths(1).atDay(1) + " 00:00:00+00')");
            }
            settledNotification(run + "-old-" + m, Timestamp.from(month.atDay(10).atTime(12, 0).toInstant(ZoneOffset.UTC)));
        }
        int deadLetters = jdbc.queryForObject("SELECT count(*) FROM dead_letter", Integer.class);
        int deadlocksBefore = deadlocks(output);

        List<String> keys = new ArrayList<>();
        List<String> eventIds = new ArrayList<>();
        long now = Instant.now().getEpochSecond();
        CompletableFuture<List<YearMonth>> drops = null;
        for (int i = 0; i < EVENTS; i++) {
            String unique = run + "_" + i;
            String event = Samples.text("billing/invoice.paid.json").replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique)
                    .replace("evt_1QxS9kLkdIwHu7ixZ5y4X3w2", "evt_test" + unique).replaceFirst("\"created\": \\d+", "\"created\": " + now);
            keys.add("billing:invoice.paid:in_test" + unique);
            eventIds.add("evt_test" + unique);
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
            if (i == EVENTS / 5) {
                // The burst is under way: drop the year, one month after the other, while the rest comes in.
                drops = CompletableFuture.supplyAsync(() -> {
                    List<YearMonth> dropped = new ArrayList<>();
                    for (YearMonth month : months) {
                        dropped.addAll(partitions.dropPayloadsBefore(month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC),
                                RetentionJob.OPEN_OF_MONTH));
                    }
                    return dropped;
                });
            }
        }
        List<YearMonth> droppedInBurst = drops.get(60, TimeUnit.SECONDS);
        await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ANY (?)"
                        + " AND d.state = 'SENT'", Integer.class, (Object) keys.toArray(String[]::new)) == EVENTS);

        // Every event is one notification, routed, its one email sent and mailed once; nothing quarantined or dead-lettered.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ANY (?) AND state = 'ROUTED'",
                Integer.class, (Object) keys.toArray(String[]::new))).isEqualTo(EVENTS);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ANY (?)", Integer.class, (Object) keys.toArray(String[]::new))).isEqualTo(EVENTS);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ANY (?)",
                Integer.class, (Object) eventIds.toArray(String[]::new))).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter", Integer.class)).isEqualTo(deadLetters);
        for (String key : keys) {
            assertThat(mailsFor(key)).as("mails for %s", key).hasSize(1);
        }

        // Every month is gone, recorded once: a drop that lost a deadlock goes at the next run (run here as the job would).
        List<YearMonth> droppedAfter = partitions.dropPayloadsBefore(months.get(MONTHS - 1).plusMonths(1).atDay(1).atStartOfDay()
                .toInstant(ZoneOffset.UTC), RetentionJob.OPEN_OF_MONTH);
        for (YearMonth month : months) {
            for (String table : MonthlyPartitions.PAYLOAD_TABLES) {
                assertThat(jdbc.queryForObject("SELECT to_regclass(?) IS NULL", Boolean.class, MonthlyPartitions.nameOf(table, month)))
                        .as("%s of %s dropped", table, month).isTrue();
            }
            assertThat(jdbc.queryForObject("SELECT count(*) FROM payload_month_dropped WHERE month = ?", Integer.class,
                    java.sql.Date.valueOf(month.atDay(1)))).as("%s recorded", month).isOne();
        }
        int deadlocks = deadlocks(output) - deadlocksBefore;
        System.out.printf("%d payload months dropped under a burst of %d webhooks: %d during it (the rest by the shared Herald's"
                        + " own retention run, or at the next run: %s), %d deadlock(s) reported by PostgreSQL meanwhile%n",
                MONTHS, EVENTS, droppedInBurst.size(), droppedAfter, deadlocks);
        assertThat(deadlocks).as("deadlocks reported by PostgreSQL while the months were dropped").isZero();
    }

    private static int deadlocks(CapturedOutput output) {
        return (int) Pattern.compile("deadlock detected").matcher(output.getAll()).results().count();
    }

    /** A notification received then, routed, with its payload stored in that month's partition. */
    private void settledNotification(String key, Timestamp receivedAt) {
        jdbc.update("""
                WITH n AS (INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                                     received_at, occurred_at, updated_at)
                           VALUES (?, 'billing', ?, 'billing.invoice_paid', 'cus_RkT4aB7cD9eF1g', 'ROUTED', CAST(? AS JSONB), ?, ?, ?)
                           RETURNING id, received_at)
                INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
                SELECT id, received_at, '{"id": "evt"}', '{}' FROM n""",
                key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": {}}", receivedAt, receivedAt, receivedAt);
    }
}
