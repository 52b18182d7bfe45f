package io.herald.ledger;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The one owner of where a ledger row lives (V76): the engine's working set ({@code notification}, {@code delivery},
 * archived_month = 0) or its month of the archive ({@code notification_aYYYY_MM}, {@code delivery_aYYYY_MM}), both read
 * together as {@code notification_all} and {@code delivery_all}. Retention moves a settled notification with its deliveries
 * to the archive once it is past herald.retention.archive-after ({@link #archive}) and drops a month of the archive whole
 * once it is past herald.retention.ledger ({@link #dropMonthsBefore}); anything that changes an archived row (an operator's
 * retry, resend or dismissal, a late provider receipt) brings it back to the working set first ({@link #bringBackDelivery}, {@link #bringBackSent}), where
 * the engine's statements find it, and it is archived again once settled.
 */
@Component
public class LedgerArchive {

    /**
     * A notification (alias n) whose deliveries may still be sent, or that is not routed yet, is not settled: in progress, or
     * held (awaiting approval, scheduled for later, held for an operator), or with an operator's resend in progress.
     */
    public static final String SETTLED = "n.state <> 'RECEIVED' AND NOT EXISTS"
            + " (SELECT 1 FROM delivery d WHERE d.notification_id = n.id AND d.state IN (" + DeliveryLedger.IN_PROGRESS
            + ", 'AWAITING_APPROVAL', 'SCHEDULED', 'HELD'))"
            // An operator's resend in progress (awaiting approval, parked) renders the notification again when it is sent.
            + " AND NOT EXISTS (SELECT 1 FROM delivery_resend r JOIN delivery d ON d.id = r.delivery_id WHERE d.notification_id = n.id"
            + " AND r.outcome IN ('PENDING', 'SENDING', 'PARKED'))";

    /** Taken exclusively by a move to the archive, shared by every insert into the working set (V76's trigger). */
    private static final String MOVE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('herald.ledger-archive'))";

    /**
     * Notifications one move takes at most (with their deliveries), whatever herald.retention.batch-size: inserts into the
     * working set wait while a move runs, and 1,000 notifications with 3,000 deliveries took about 80 ms on a quiet 2-core
     * machine (PostgreSQL 15, 2026-12-08), 250 about a quarter of that.
     */
    public static final int MOVE_BATCH = 250;

    /** How long one try of a month's drop waits for its locks; tried again until herald.retention.lock-timeout-ms. */
    static final long LOCK_TRY_MS = 100;

    private static final Logger log = LoggerFactory.getLogger(LedgerArchive.class);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;

    public LedgerArchive(JdbcTemplate jdbc, TransactionTemplate transaction) {
        this.jdbc = jdbc;
        this.transaction = transaction;
    }

    /**
     * Moves up to {@code limit} settled notifications received before the cutoff, oldest first, with their deliveries, to
     * their month of the archive (its partitions created if missing), in one transaction; returns how many moved. Rows the
     * engine holds are skipped (SKIP LOCKED) and moved at a later run. Inserts into the working set wait while it runs (the
     * move lock): an event's key is always in one of the two places when its repeat is looked up.
     */
    public int archive(Instant cutoff, int limit, long lockTimeoutMs) {
        return transaction.execute(status -> {
            jdbc.execute("SET LOCAL lock_timeout = " + lockTimeoutMs);
            // First, before any row is held: an insert waiting for a row this move holds must not hold the lock it waits for.
            jdbc.execute(MOVE_LOCK);
            List<Long> ids = jdbc.queryForList("SELECT n.id FROM notification n WHERE n.received_at < ? AND " + SETTLED
                    + " ORDER BY n.received_at LIMIT ? FOR UPDATE SKIP LOCKED", Long.class, Timestamp.from(cutoff), limit);
            if (ids.isEmpty()) {
                return 0;
            }
            // A notification moves only with every one of its deliveries (a delivery the engine holds, e.g. a late receipt
            // being recorded, keeps it here until a later run).
            Map<Long, List<Long>> deliveries = new HashMap<>();
            jdbc.query("SELECT notification_id, id FROM delivery WHERE notification_id = ANY(CAST(? AS BIGINT[]))",
                    row -> { deliveries.computeIfAbsent(row.getLong(1), n -> new ArrayList<>()).add(row.getLong(2)); }, idArray(ids));
            Set<Long> held = new HashSet<>(jdbc.queryForList("SELECT id FROM delivery WHERE id = ANY(CAST(? AS BIGINT[])) FOR UPDATE SKIP LOCKED",
                    Long.class, idArray(deliveries.values().stream().flatMap(List::stream).toList())));
            List<Long> moving = ids.stream().filter(id -> held.containsAll(deliveries.getOrDefault(id, List.of()))).toList();
            if (moving.isEmpty()) {
                return 0;
            }
            String array = idArray(moving);
            // Their months' partitions, created if missing (ATTACH takes SHARE UPDATE EXCLUSIVE on the parents: readers and
            // writers go on).
            jdbc.queryForList("""
                    SELECT herald_archive_month(m) FROM (SELECT DISTINCT CAST(to_char(received_at AT TIME ZONE 'UTC', 'YYYYMM') AS INT) AS m
                                                         FROM notification WHERE id = ANY(CAST(? AS BIGINT[]))) months""", Integer.class, array);
            int moved = jdbc.update("""
                    UPDATE notification_all SET archived_month = CAST(to_char(received_at AT TIME ZONE 'UTC', 'YYYYMM') AS INT)
                    WHERE archived_month = 0 AND id = ANY(CAST(? AS BIGINT[]))""", array);
            jdbc.update("""
                    UPDATE delivery_all d SET archived_month = n.archived_month FROM notification_all n
                    WHERE d.archived_month = 0 AND d.notification_id = ANY(CAST(? AS BIGINT[])) AND n.id = d.notification_id
                      AND n.archived_month <> 0""", array);
            return moved;
        });
    }

    /** An operator's action on a delivery, or a receipt for it: its notification and deliveries back in the working set. */
    public boolean bringBackDelivery(long deliveryId) {
        return bringBack("SELECT notification_id FROM delivery_all WHERE id = ? AND archived_month <> 0", deliveryId);
    }

    /** A provider's receipt for an archived send (by the id the provider gave it): back in the working set. */
    public boolean bringBackSent(String channel, String providerMessageId) {
        return bringBack("SELECT notification_id FROM delivery_all WHERE provider_message_id = ? AND channel = ? AND archived_month <> 0",
                providerMessageId, channel);
    }

    private boolean bringBack(String whichNotifications, Object... args) {
        return jdbc.queryForObject("""
                WITH back AS (UPDATE notification_all SET archived_month = 0 WHERE archived_month <> 0 AND id IN (%s) RETURNING id),
                     deliveries AS (UPDATE delivery_all SET archived_month = 0 WHERE archived_month <> 0
                                      AND notification_id IN (SELECT id FROM back) RETURNING id)
                SELECT count(*) > 0 FROM back""".formatted(whichNotifications), Boolean.class, args);
    }

    /**
     * Deletes what belongs to these notifications in the tables beside the ledger, before the notifications themselves go:
     * their payloads, approvals, the digests they opened or are in, their scheduled sends, and what belongs to their
     * deliveries (found in {@code deliveries}, the table they are in; see {@link #forgetBesideDeliveries}).
     */
    public void forgetBeside(Collection<Long> notificationIds, String deliveries) {
        String array = idArray(notificationIds);
        forgetBesideDeliveries(jdbc.queryForList("SELECT id FROM " + deliveries + " WHERE notification_id = ANY(CAST(? AS BIGINT[]))",
                Long.class, array));
        forgetBesideNotifications(notificationIds);
    }

    private void forgetBesideNotifications(Collection<Long> notificationIds) {
        String array = idArray(notificationIds);
        for (String table : List.of("notification_payload", "approval", "customer_digest_member", "scheduled_send")) {
            jdbc.update("DELETE FROM " + table + " WHERE notification_id = ANY(CAST(? AS BIGINT[]))", array);
        }
        jdbc.update("DELETE FROM customer_digest WHERE opened_by = ANY(CAST(? AS BIGINT[]))", array);
    }

    /**
     * Deletes what belongs to these deliveries beside the ledger: resends (their approvals with them) and their inbox
     * messages, inbox messages, rendered messages, device sends, ticket notes, receipts (one a suppression points to stays,
     * without its delivery).
     */
    public void forgetBesideDeliveries(Collection<Long> deliveryIds) {
        if (deliveryIds.isEmpty()) {
            return;
        }
        String array = idArray(deliveryIds);
        String ofThese = "delivery_id = ANY(CAST(? AS BIGINT[]))";
        // An operator's resend has its own inbox message, named by the resend (V74)
        jdbc.update("DELETE FROM inbox_message WHERE " + ofThese + " OR resend_id IN (SELECT id FROM delivery_resend WHERE " + ofThese + ")",
                array, array);
        jdbc.update("DELETE FROM delivery_resend WHERE " + ofThese, array);
        jdbc.update("DELETE FROM delivery_receipt r WHERE " + ofThese + " AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.receipt_id = r.id)",
                array);
        jdbc.update("UPDATE delivery_receipt SET delivery_id = NULL WHERE " + ofThese, array);
        for (String table : List.of("delivery_content", "push_device_send", "ticket_note")) {
            jdbc.update("DELETE FROM " + table + " WHERE " + ofThese, array);
        }
    }

    /**
     * Drops the archive's months that end at or before the cutoff: what lies beside their notifications is deleted in
     * batches of {@code batchSize}, then both partitions of the month in one transaction, which waits for its locks in tries
     * of {@link #LOCK_TRY_MS} for up to lockTimeoutMs (a drop takes ACCESS EXCLUSIVE on notification_all and delivery_all,
     * which the console reads and the working set's inserts look in; not had in time, the month waits for the next run).
     * Two instances at once: a transaction-scoped advisory lock per month lets one drop it. Returns the months dropped.
     */
    public List<YearMonth> dropMonthsBefore(Instant cutoff, int batchSize, long lockTimeoutMs) {
        List<YearMonth> dropped = new ArrayList<>();
        for (String partition : jdbc.queryForList("""
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = CAST('notification_all' AS regclass) AND c.relname ~ '^notification_a[0-9]{4}_[0-9]{2}$'
                ORDER BY c.relname""", String.class)) {
            YearMonth month = YearMonth.of(Integer.parseInt(partition.substring(14, 18)), Integer.parseInt(partition.substring(19, 21)));
            if (month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).isAfter(cutoff)) {
                continue;
            }
            String deliveries = "delivery" + partition.substring("notification".length());
            forgetBesideInBatches(deliveries, batchSize, this::forgetBesideDeliveries);
            forgetBesideInBatches(partition, batchSize, this::forgetBesideNotifications);
            if (dropMonth(partition, deliveries, month, lockTimeoutMs)) {
                dropped.add(month);
                log.info("Retention dropped the archive's month {} (older than {}): {} and {}", month, cutoff, partition, deliveries);
            }
        }
        return dropped;
    }

    /** Runs {@code forget} on the ids of the table's rows, in order, {@code batchSize} at a time, each batch a transaction. */
    private void forgetBesideInBatches(String table, int batchSize, java.util.function.Consumer<List<Long>> forget) {
        long after = 0;
        List<Long> ids;
        do {
            ids = jdbc.queryForList("SELECT id FROM " + table + " WHERE id > ? ORDER BY id LIMIT ?", Long.class, after, batchSize);
            if (!ids.isEmpty()) {
                List<Long> batch = ids;
                transaction.executeWithoutResult(status -> forget.accept(batch));
                after = ids.get(ids.size() - 1);
            }
        } while (ids.size() == batchSize);
    }

    private boolean dropMonth(String partition, String deliveries, YearMonth month, long lockTimeoutMs) {
        long deadline = System.currentTimeMillis() + lockTimeoutMs;
        while (true) {
            try {
                Boolean done = transaction.execute(status -> {
                    jdbc.execute("SET LOCAL lock_timeout = " + LOCK_TRY_MS);
                    if (!jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(hashtext('herald.archive-month'), ?)", Boolean.class, key(month))
                            || !jdbc.queryForObject("SELECT to_regclass(?) IS NOT NULL", Boolean.class, partition)) {
                        return false;
                    }
                    // Both parents first, in the order the console reads them, then the partitions go. ONLY: not the working
                    // set's partitions, which the engine uses without going through the parents.
                    jdbc.execute("LOCK TABLE ONLY notification_all, delivery_all IN ACCESS EXCLUSIVE MODE");
                    jdbc.execute("DROP TABLE " + partition + ", " + deliveries);
                    return true;
                });
                return Boolean.TRUE.equals(done);
            } catch (PessimisticLockingFailureException busy) {
                if (System.currentTimeMillis() >= deadline) {
                    log.warn("Could not drop the archive's month {} now (tried again at the next run): the ledger stayed busy for {} ms",
                            month, lockTimeoutMs);
                    return false;
                }
            }
        }
    }

    private static int key(YearMonth month) {
        return month.getYear() * 100 + month.getMonthValue();
    }

    private static String idArray(Collection<Long> ids) {
        return ids.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
    }
}
