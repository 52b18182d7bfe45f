package io.herald.retention;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

import io.herald.config.RetentionSettings;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.LedgerArchive;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies herald.retention.* (routes/retention.camel.yaml), one kind at a time, in batches of herald.retention.batch-size rows:
 * each batch is one short transaction that takes its rows oldest first with FOR UPDATE SKIP LOCKED, so it never waits for a
 * row the engine holds and the engine never waits long for it. A run stops starting batches after herald.retention.run-limit;
 * the next run goes on. Several instances may run it at once (they skip each other's rows).
 */
@Component
public class RetentionJob {

    /** Exchange property: when this run stops starting new batches. */
    public static final String DEADLINE = "heraldRetentionDeadline";
    /** Exchange property: what this run removed, in words, added to by each step (logged at the end). */
    public static final String DONE = "heraldRetentionDone";

    private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);

    private static final String SETTLED_NOTIFICATION = LedgerArchive.SETTLED;

    /**
     * The notifications received in [?, ?) that are not settled (not routed yet, or with a delivery in progress or held):
     * their payloads outlive their month's partitions. Found from the few open rows (indexes on delivery's state and on
     * notifications not routed), not by reading the month.
     */
    static final String OPEN_OF_MONTH = """
            WITH month AS (SELECT CAST(? AS TIMESTAMPTZ) AS starts, CAST(? AS TIMESTAMPTZ) AS ends)
            SELECT n.id FROM notification n, month WHERE n.state = 'RECEIVED' AND n.received_at >= month.starts AND n.received_at < month.ends
            UNION
            SELECT n.id FROM delivery d JOIN notification n ON n.id = d.notification_id, month
            WHERE d.state IN (""" + DeliveryLedger.IN_PROGRESS + """
            , 'AWAITING_APPROVAL', 'SCHEDULED', 'HELD') AND n.received_at >= month.starts AND n.received_at < month.ends
            UNION
            SELECT n.id FROM delivery_resend r JOIN delivery d ON d.id = r.delivery_id JOIN notification n ON n.id = d.notification_id, month
            WHERE r.outcome IN ('PENDING', 'SENDING', 'PARKED') AND n.received_at >= month.starts AND n.received_at < month.ends""";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final DeliveryLedger deliveries;
    private final MonthlyPartitions partitions;
    private final LedgerArchive archive;
    private final RetentionSettings settings;

    public RetentionJob(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger deliveries, MonthlyPartitions partitions,
                        LedgerArchive archive, RetentionSettings settings) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.deliveries = deliveries;
        this.partitions = partitions;
        this.archive = archive;
        this.settings = settings;
    }

    public void begin(Exchange run) {
        run.setProperty(DEADLINE, Instant.now().plus(settings.runLimit()));
        run.setProperty(DONE, new StringBuilder());
    }

    /** Monthly partitions for the coming months (also while retention is off: inserts must find their month). */
    public void createPartitionsAhead(Exchange run) {
        note(run, "partitions created", partitions.createAhead());
    }

    /**
     * Raw payloads, canonical data and rendered bodies past herald.retention.payloads; the rows stay. A month of them goes
     * as whole partitions once the month's end is past the period (MonthlyPartitions.dropPayloadsBefore), those of the
     * month's notifications still in progress moving to the default partitions; payloads in the default partitions go in
     * batches once their notification is settled, marking it (payload_removed_at) as removed by retention.
     */
    public void removePayloads(Exchange run) {
        Timestamp cutoff = cutoff(settings.payloads());
        String removed = PayloadRemoved.sentence(PayloadRemoved.RETENTION, Instant.now());
        note(run, "months of payloads dropped", partitions.dropPayloadsBefore(cutoff.toInstant(), OPEN_OF_MONTH).size());
        note(run, "notification payloads removed", batches(run, () -> transaction.execute(status -> {
            List<Long> ids = jdbc.queryForList("""
                    WITH picked AS (
                      SELECT n.id, n.received_at FROM notification_payload_default p
                      JOIN notification_all n ON n.id = p.notification_id AND n.received_at = p.received_at
                      WHERE p.received_at < ? AND\s""" + SETTLED_NOTIFICATION + """
                      ORDER BY p.received_at LIMIT ? FOR UPDATE OF n SKIP LOCKED),
                         marked AS (
                      UPDATE notification_all n SET payload_removed_at = now(), payload_removed_by = 'retention'
                      FROM picked WHERE n.id = picked.id RETURNING n.id, n.received_at)
                    DELETE FROM notification_payload p USING marked
                    WHERE p.notification_id = marked.id AND p.received_at = marked.received_at RETURNING p.notification_id""",
                    Long.class, cutoff, settings.batchSize());
            if (!ids.isEmpty()) {
                deliveries.removeBodies(ids);
            }
            return ids.size();
        })));
        note(run, "quarantined event payloads removed", batches(run, () -> jdbc.update("""
                UPDATE unrouted_event SET raw_payload = ?, payload_removed_at = now(), payload_removed_by = 'retention'
                WHERE id IN (SELECT id FROM unrouted_event WHERE created_at < ? AND payload_removed_at IS NULL
                             ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)""", removed, cutoff, settings.batchSize())));
        note(run, "dead letter payloads removed", batches(run, () -> jdbc.update("""
                UPDATE dead_letter SET payload = ?, payload_removed_at = now(), payload_removed_by = 'retention'
                WHERE id IN (SELECT id FROM dead_letter WHERE created_at < ? AND payload_removed_at IS NULL
                             ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)""", removed, cutoff, settings.batchSize())));
    }

    /**
     * Settled notifications past herald.retention.archive-after leave the engine's working set with their deliveries for
     * their month of the archive (LedgerArchive), in batches.
     */
    public void archiveSettled(Exchange run) {
        Instant cutoff = Instant.now().minus(settings.archiveAfter());
        int limit = Math.min(settings.batchSize(), LedgerArchive.MOVE_BATCH);
        note(run, "settled notifications archived", batches(run, limit, () -> archive.archive(cutoff, limit, settings.lockTimeoutMs())));
    }

    /** Body excerpts of refused webhook requests past herald.retention.rejected-excerpts. */
    public void clearRejectedExcerpts(Exchange run) {
        Timestamp cutoff = cutoff(settings.rejectedExcerpts());
        note(run, "refused request excerpts cleared", batches(run, () -> jdbc.update("""
                UPDATE inbound_rejection SET body_excerpt = NULL
                WHERE (id, received_at) IN (SELECT id, received_at FROM inbound_rejection WHERE received_at < ? AND body_excerpt IS NOT NULL
                                            ORDER BY received_at LIMIT ? FOR UPDATE SKIP LOCKED)""", cutoff, settings.batchSize())));
    }

    /**
     * Ledger rows past herald.retention.ledger: notifications with their deliveries, and the tables that grow beside them,
     * including the incidents (a resolved alert group not heard of since, and who was named in its past firings).
     */
    public void deleteLedgerRows(Exchange run) {
        Timestamp cutoff = cutoff(settings.ledger());
        note(run, "notifications deleted", batches(run, () -> transaction.execute(status -> {
            List<Long> ids = jdbc.queryForList("SELECT n.id FROM notification n WHERE n.received_at < ? AND " + SETTLED_NOTIFICATION
                    + " ORDER BY n.received_at LIMIT ? FOR UPDATE SKIP LOCKED", Long.class, cutoff, settings.batchSize());
            if (ids.isEmpty()) {
                return 0;
            }
            archive.forgetBeside(ids, "delivery");
            deliveries.forget(ids);
            return jdbc.update("DELETE FROM notification WHERE id = ANY(CAST(? AS BIGINT[]))",
                    ids.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(",", "{", "}")));
        })));
        note(run, "quarantined and ignored events deleted", batches(run, () -> jdbc.update("""
                DELETE FROM unrouted_event WHERE id IN (SELECT id FROM unrouted_event WHERE created_at < ?
                                                        ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)""", cutoff, settings.batchSize())));
        note(run, "dead letters deleted", batches(run, () -> jdbc.update("""
                DELETE FROM dead_letter WHERE id IN (SELECT id FROM dead_letter WHERE created_at < ?
                                                     ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)""", cutoff, settings.batchSize())));
        note(run, "texts to Herald's number deleted", batches(run, () -> jdbc.update("""
                DELETE FROM inbound_sms WHERE id IN (SELECT id FROM inbound_sms WHERE received_at < ?
                                                     ORDER BY received_at LIMIT ? FOR UPDATE SKIP LOCKED)""", cutoff, settings.batchSize())));
        note(run, "posted ops digests deleted", batches(run, () -> jdbc.update("""
                DELETE FROM ops_digest WHERE id IN (SELECT id FROM ops_digest WHERE posted_at < ?
                  AND NOT EXISTS (SELECT 1 FROM delivery_all d WHERE d.digest_id = ops_digest.id) ORDER BY posted_at LIMIT ? FOR UPDATE SKIP LOCKED)""",
                cutoff, settings.batchSize())));
        // Incidents: who was named in a firing that is over (the group resolved, or firing again since), then resolved groups
        // with nothing named left. The notices themselves are notifications, deleted above with the rest of the ledger.
        note(run, "incident notice records deleted", batches(run, () -> jdbc.update("""
                DELETE FROM incident_notice WHERE (incident_id, episode, customer_id) IN (
                  SELECT n.incident_id, n.episode, n.customer_id FROM incident_notice n WHERE n.updated_at < ?
                    AND NOT EXISTS (SELECT 1 FROM incident i WHERE i.id = n.incident_id AND i.status = 'firing' AND i.fired_at = n.episode)
                  ORDER BY n.updated_at LIMIT ? FOR UPDATE SKIP LOCKED)""", cutoff, settings.batchSize())));
        note(run, "resolved incidents deleted", batches(run, () -> jdbc.update("""
                DELETE FROM incident WHERE id IN (SELECT i.id FROM incident i WHERE i.status = 'resolved' AND i.updated_at < ?
                  AND NOT EXISTS (SELECT 1 FROM incident_notice n WHERE n.incident_id = i.id) ORDER BY i.updated_at LIMIT ? FOR UPDATE SKIP LOCKED)""",
                cutoff, settings.batchSize())));
        note(run, "monthly partitions dropped", partitions.dropBefore(cutoff.toInstant()).size());
        note(run, "months of the archive dropped", archive.dropMonthsBefore(cutoff.toInstant(), settings.batchSize(),
                settings.lockTimeoutMs()).size());
    }

    /**
     * Provider receipts past herald.retention.receipts (one a suppression points to stays): a month goes as a whole partition
     * once the month's end is past the period, those a suppression names moving to the default partition; receipts in the
     * default partition go in batches.
     */
    public void deleteReceipts(Exchange run) {
        Timestamp cutoff = cutoff(settings.receipts());
        note(run, "months of receipts dropped", partitions.dropReceiptsBefore(cutoff.toInstant()).size());
        note(run, "receipts deleted", batches(run, () -> jdbc.update("""
                DELETE FROM delivery_receipt_default WHERE id IN (SELECT r.id FROM delivery_receipt_default r WHERE r.received_at < ?
                  AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.receipt_id = r.id) ORDER BY r.received_at LIMIT ? FOR UPDATE SKIP LOCKED)""",
                cutoff, settings.batchSize())));
    }

    public void end(Exchange run) {
        String done = run.getProperty(DONE, StringBuilder.class).toString();
        if (!done.isEmpty()) {
            log.info("Retention run: {}", done);
        }
    }

    /** Runs batches until one removes fewer rows than a batch or the run's deadline passed; returns the rows removed. */
    private int batches(Exchange run, Supplier<Integer> batch) {
        return batches(run, settings.batchSize(), batch);
    }

    /** The same, for batches of at most {@code size} rows. */
    private int batches(Exchange run, int size, Supplier<Integer> batch) {
        Instant deadline = run.getProperty(DEADLINE, Instant.class);
        int total = 0;
        int removed;
        do {
            removed = batch.get();
            total += removed;
        } while (removed >= size && (deadline == null || Instant.now().isBefore(deadline)));
        return total;
    }

    private static void note(Exchange run, String what, int count) {
        StringBuilder done = run.getProperty(DONE, StringBuilder.class);
        if (count > 0 && done != null) {
            done.append(done.isEmpty() ? "" : ", ").append(count).append(' ').append(what);
        }
    }

    private static Timestamp cutoff(Duration kept) {
        return Timestamp.from(Instant.now().minus(kept));
    }
}
