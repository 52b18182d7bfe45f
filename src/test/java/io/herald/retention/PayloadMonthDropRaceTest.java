package io.herald.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.Timestamp;
import java.time.Duration;
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
 * Two Herald instances dropping the same month of payloads at the same moment (issue 16, retention): both find the month
 * past retention, and a third session holds a lock on the month's partition so that both are inside their drop before
 * either can finish. Shown: the month is dropped once (one of the two reports it, the other skips it quietly), no warning
 * is logged and nothing reaches the dead letters, and the payload and rendered message of a notification still in
 * progress are carried to the default partitions exactly once, while a settled one's are gone.
 */
@ExtendWith(OutputCaptureExtension.class)
class PayloadMonthDropRaceTest extends HeraldIntegrationTest {

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
    void twoInstancesDroppingTheSameMonthDropItOnceAndKeepTheOpenPayloadOnce(CapturedOutput output) throws Exception {
        // A month of its own, long past, so that no other test's month is in the way: 2001-2006 are this test's alone
        // (PayloadMonthsDroppedUnderBurstTest takes a year of 2007-2018; the open payload this test keeps in the default
        // partitions would stop that test creating its month there).
        YearMonth month = YearMonth.of(2001 + ThreadLocalRandom.current().nextInt(6), 1 + ThreadLocalRandom.current().nextInt(12));
        // Only that month's partitions (herald_month_partitions would create every month from it up to now).
        for (String table : MonthlyPartitions.PAYLOAD_TABLES) {
            jdbc.execute("CREATE TABLE " + MonthlyPartitions.nameOf(table, month) + " PARTITION OF " + table + " FOR VALUES FROM ('"
                    + month.atDay(1) + " 00:00:00+00') TO ('" + month.plusMonths(1).atDay(1) + " 00:00:00+00')");
        }
        Timestamp receivedAt = Timestamp.from(month.atDay(10).atTime(12, 0).toInstant(ZoneOffset.UTC));
        String run = newTicketId();
        long settled = notification("race-settled-" + run, receivedAt, "SENT");
        long open = notification("race-open-" + run, receivedAt, "PARKED");
        int deadLetters = jdbc.queryForObject("SELECT count(*) FROM dead_letter", Integer.class);
        String payloads = MonthlyPartitions.nameOf("notification_payload", month);
        String contents = MonthlyPartitions.nameOf("delivery_content", month);
        java.time.Instant cutoff = month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC);
        try (Connection reader = dataSource.getConnection()) {
            // A reader of the month holds it: both drops start, neither can detach until it lets go.
            reader.setAutoCommit(false);
            reader.createStatement().execute("LOCK TABLE " + payloads + " IN ACCESS SHARE MODE");
            CompletableFuture<List<YearMonth>> first = CompletableFuture.supplyAsync(
                    () -> partitions.dropPayloadsBefore(cutoff, RetentionJob.OPEN_OF_MONTH));
            CompletableFuture<List<YearMonth>> second = CompletableFuture.supplyAsync(
                    () -> partitions.dropPayloadsBefore(cutoff, RetentionJob.OPEN_OF_MONTH));
            // Both are in: one waits for the partition's lock (its up-front lock of the payload tables, which takes
            // the partitions with them, in tries of 100 ms for up to herald.retention.lock-timeout-ms), the other waits too or
            // has already stepped aside.
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
                int waiting = jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        + " AND (query LIKE 'LOCK TABLE notification_payload%' OR query LIKE '%DETACH PARTITION " + payloads + "%')",
                        Integer.class);
                long done = Stream.of(first, second).filter(CompletableFuture::isDone).count();
                return waiting >= 1 && waiting + done == 2;
            });
            reader.commit();
            List<YearMonth> a = first.get(30, TimeUnit.SECONDS);
            List<YearMonth> b = second.get(30, TimeUnit.SECONDS);

            // Dropped once: one of them reports the month, and it is gone from the catalog and recorded once.
            assertThat(Stream.concat(a.stream(), b.stream()).toList()).containsExactly(month);
            assertThat(jdbc.queryForObject("SELECT to_regclass(?) IS NULL AND to_regclass(?) IS NULL", Boolean.class, payloads, contents))
                    .isTrue();
            assertThat(jdbc.queryForObject("SELECT count(*) FROM payload_month_dropped WHERE month = ?", Integer.class,
                    java.sql.Date.valueOf(month.atDay(1)))).isOne();
            // The notification in progress keeps its payload and rendered message once, in the default partitions.
            assertThat(jdbc.queryForList("SELECT raw_payload FROM notification_payload WHERE notification_id = ?", String.class, open))
                    .singleElement().asString().contains("jenny");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload_default WHERE notification_id = ?", Integer.class, open))
                    .isOne();
            assertThat(jdbc.queryForList("SELECT c.rendered_body FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id"
                    + " WHERE d.notification_id = ?", String.class, open)).singleElement().asString().contains("Jenny Rosen");
            // The settled one's went with the month; its rows stay.
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id = ?", Integer.class, settled))
                    .isZero();
            assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE notification_id = ?", String.class, settled)).isEqualTo("SENT");
            // No error anywhere: no warning of a failed drop, no dead letter, the open delivery as it was.
            assertThat(output.getAll()).doesNotContain("Could not drop the payloads of " + month);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter", Integer.class)).isEqualTo(deadLetters);
            assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE notification_id = ?", String.class, open)).isEqualTo("PARKED");
        } finally {
            // Settled afterwards, so the shared Herald's later tests (Quiescence) see nothing in flight.
            jdbc.update("UPDATE delivery SET state = 'SENT', next_attempt_at = NULL WHERE notification_id = ?", open);
        }
    }

    /** A notification received at that time with one email delivery in that state, its payload and rendered message stored. */
    private long notification(String key, Timestamp receivedAt, String state) {
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                          received_at, occurred_at, updated_at)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_RkT4aB7cD9eF1g', 'ROUTED', CAST(? AS JSONB), ?, ?, ?) RETURNING id""",
                Long.class, key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": {}}", receivedAt, receivedAt, receivedAt);
        jdbc.update("""
                INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
                SELECT id, received_at, '{"id": "evt", "customer_email": "jenny.rosen@example.com"}', '{"customerName": "jenny rosen"}'
                FROM notification WHERE id = ?""", id);
        jdbc.update("""
                INSERT INTO delivery (notification_id, channel, state, recipient_masked, provider_message_id, attempts, created_at, updated_at,
                                      next_attempt_at)
                VALUES (?, 'email', ?, 'j***@example.com', ?, 1, ?, ?, CASE WHEN ? = 'PARKED' THEN now() + interval '1 hour' END)""",
                id, state, "msg-" + key, receivedAt, receivedAt, state);
        jdbc.update("""
                INSERT INTO delivery_content (delivery_id, received_at, subject, rendered_body)
                SELECT d.id, n.received_at, 'Payment failed', 'Dear Jenny Rosen, your payment failed.'
                FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.id = ?""", id);
        return id;
    }
}
