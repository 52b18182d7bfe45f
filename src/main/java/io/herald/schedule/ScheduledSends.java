package io.herald.schedule;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.exceptions.TaskInstanceException;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import io.herald.console.ActionRefused;
import io.herald.console.AuditTrail;
import io.herald.dispatch.ChannelSenders;
import io.herald.ledger.DeliveryLedger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Notifications that wait before they are sent (issue 14), and the one owner of the scheduled_send table's state machine.
 * A notification waits SCHEDULED until a time (quiet hours, a reminder before an appointment, a digest window) or HELD
 * until an operator decides (a late message whose type's policy is hold); its deliveries wait in the same state in the
 * ledger, so no sender takes them. From there it is, each step one conditional UPDATE so that two instances, a double
 * click or a firing racing a cancellation decide once:
 * <ul>
 *   <li>FIRED: its time came (db-scheduler, {@link SchedulerSetup}); its deliveries are queued as dispatch queues them;</li>
 *   <li>SENT_NOW: an operator sent it before its time, or sent a held one (audited, with a comment);</li>
 *   <li>CANCELLED: an operator, a cancellation at the source or a superseding event cancelled it (never sent);</li>
 *   <li>DISMISSED: an operator dismissed a held one (never sent).</li>
 * </ul>
 * Every step is an attempt on each of its deliveries, so the notification's timeline shows scheduled, moved, fired,
 * cancelled.
 */
@Component
public class ScheduledSends {

    /** The actor recorded when Herald itself decides (a cancellation at the source, a superseding event). */
    public static final String HERALD = "Herald";

    /**
     * One notification to hold: its deliveries (as dispatch would have queued them), when it goes out by itself (null: held
     * for an operator), why, in words, and what a cancelling event names (null: nothing cancels it but an operator).
     */
    public record Schedule(long notificationId, Instant fireAt, String reason, String matchKey, List<DeliveryLedger.Queued> deliveries) {
    }

    /** A waiting notification as the console and the API show it. */
    public record Waiting(long notificationId, String type, String customerId, String state, Instant fireAt, String reason,
                          String matchKey, Instant createdAt, List<String> channels) {
    }

    private static final Logger log = LoggerFactory.getLogger(ScheduledSends.class);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final DeliveryLedger ledger;
    private final AuditTrail audit;
    private final ChannelSenders senders;
    private final SchedulerClient scheduler;
    private final Clock clock;
    /** Savepoints inside the caller's transaction (the senders' claim). */
    private final TransactionTemplate nested;

    public ScheduledSends(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger ledger, AuditTrail audit,
                          ChannelSenders senders, SchedulerClient scheduler, Clock clock) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.ledger = ledger;
        this.audit = audit;
        this.senders = senders;
        this.scheduler = scheduler;
        this.clock = clock;
        this.nested = new TransactionTemplate(transaction.getTransactionManager());
        this.nested.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
    }

    /**
     * Holds these notifications: their deliveries wait SCHEDULED (or HELD when no time is given), each notification gets
     * its scheduled_send row and, when it has a time, its timer, all in one transaction (the timer shares it). Safe to run
     * again for the same notifications (a batch read again): what is already waiting stays as it is.
     */
    public void schedule(List<Schedule> sends) {
        if (sends.isEmpty()) {
            return;
        }
        transaction.executeWithoutResult(status -> {
            for (Schedule send : sends) {
                String state = send.fireAt() == null ? "HELD" : "SCHEDULED";
                int added = jdbc.update("""
                        INSERT INTO scheduled_send (notification_id, state, fire_at, reason, match_key) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (notification_id) DO NOTHING""",
                        send.notificationId(), state, timestamp(send.fireAt()), send.reason(), send.matchKey());
                if (added == 0) {
                    continue;
                }
                ledger.hold(send.deliveries(), state, send.fireAt() == null ? send.reason()
                        : "scheduled for " + QuietHours.UTC_TIME.format(send.fireAt()) + ": " + send.reason());
                if (send.fireAt() != null) {
                    scheduler.scheduleIfNotExists(timer(send.notificationId(), 0), send.fireAt());
                }
            }
        });
    }

    /**
     * Deliveries already held in {@code fromState} (an approval given inside the customer's quiet hours) wait SCHEDULED
     * until {@code fireAt} instead: the notification gets its scheduled_send row (listed on the Scheduled page, sent now or
     * cancelled there, cancelled by a superseding event through {@code matchKey}) and its timer, in the caller's transaction.
     * False, and nothing changes, when the notification already has a scheduled send.
     */
    public boolean scheduleHeld(long notificationId, Instant fireAt, String reason, String matchKey, String fromState, Collection<String> channels) {
        return Boolean.TRUE.equals(transaction.execute(status -> {
            if (jdbc.update("""
                    INSERT INTO scheduled_send (notification_id, state, fire_at, reason, match_key) VALUES (?, 'SCHEDULED', ?, ?, ?)
                    ON CONFLICT (notification_id) DO NOTHING""", notificationId, timestamp(fireAt), reason, matchKey) == 0) {
                return false;
            }
            ledger.moveHeld(notificationId, fromState, "SCHEDULED", channels, "scheduled for " + QuietHours.UTC_TIME.format(fireAt) + ": " + reason);
            scheduler.scheduleIfNotExists(timer(notificationId, 0), fireAt);
            return true;
        }));
    }

    /**
     * A claimed delivery that came due inside its customer's quiet hours (a parked retry, a fired scheduled send, an approved
     * one: io.herald.dispatch.QuietHoursBeforeSend) waits SCHEDULED until they end, like a quiet-hours hold at dispatch: its
     * notification is on the Scheduled page, sent now or cancelled there, cancelled by a superseding event through
     * {@code matchKey}. In the caller's transaction (the senders' claim), the notification's scheduled send is:
     * <ul>
     *   <li>made, with its timer, when it has none;</li>
     *   <li>made again when it FIRED, with a timer of the next generation (the one that fired may still be running, and
     *   db-scheduler removes it when it ends), a match key it had kept; the notification's other customer deliveries still
     *   waiting for a sender (PENDING or PARKED, released by that firing, not among {@code claimedDeliveries}, which the
     *   caller writes) wait SCHEDULED with it, since once it is no longer FIRED the senders would take them for first
     *   sends and not judge them;</li>
     *   <li>joined when it is SCHEDULED: the delivery goes at its time (judged again then).</li>
     * </ul>
     * Returns when it fires; empty, writing nothing, when it was sent now by an operator (the row is what tells the late
     * policy an operator overrode it), is HELD for an operator or decided for good, or its row is locked by another
     * transaction right now: the caller parks the delivery until the quiet hours end instead (judged again then).
     */
    public Optional<Instant> scheduleAfterClaim(long notificationId, Instant fireAt, String reason, String matchKey,
                                                Collection<Long> claimedDeliveries) {
        return transaction.execute(status -> {
            Map<String, Object> row = lockedNow(notificationId);
            if (row != null && row.isEmpty() && jdbc.update("""
                    INSERT INTO scheduled_send (notification_id, state, fire_at, reason, match_key) VALUES (?, 'SCHEDULED', ?, ?, ?)
                    ON CONFLICT (notification_id) DO NOTHING""", notificationId, timestamp(fireAt), reason, matchKey) == 1) {
                scheduler.scheduleIfNotExists(timer(notificationId, 0), fireAt);
                return Optional.of(fireAt);
            }
            if (row != null && row.isEmpty()) {   // made meanwhile by another instance's claim: as it is now
                row = lockedNow(notificationId);
            }
            if (row == null || row.isEmpty()) {
                return Optional.<Instant>empty();
            }
            if ("SCHEDULED".equals(row.get("state"))) {
                return Optional.of(instant(row.get("fire_at")));
            }
            if (!"FIRED".equals(row.get("state"))) {
                return Optional.<Instant>empty();
            }
            int generation = jdbc.queryForObject("""
                    UPDATE scheduled_send SET state = 'SCHEDULED', fire_at = ?, reason = ?, match_key = COALESCE(match_key, ?),
                           decided_by = NULL, decided_at = NULL, comment = NULL, timer = timer + 1
                    WHERE notification_id = ? RETURNING timer""", Integer.class, timestamp(fireAt), reason, matchKey, notificationId);
            ledger.scheduleOthers(notificationId, claimedDeliveries, "waits with its notification, scheduled for " + QuietHours.UTC_TIME.format(fireAt) + ": " + reason);
            scheduler.scheduleIfNotExists(timer(notificationId, generation), fireAt);
            return Optional.of(fireAt);
        });
    }

    /**
     * The notification's scheduled_send row (state, fire_at), locked for the caller's transaction; empty when it has none;
     * null when another transaction holds it right now (another instance's claim of a sibling, the late sweep, a firing).
     * NOWAIT, in a savepoint: a claim holds its deliveries' rows, and the others lock this row before a delivery's, so
     * waiting here could close a cycle that PostgreSQL would break by ending the claim.
     */
    private Map<String, Object> lockedNow(long notificationId) {
        try {
            return nested.execute(status -> jdbc.queryForList("SELECT state, fire_at FROM scheduled_send WHERE notification_id = ? FOR UPDATE NOWAIT",
                    notificationId).stream().findFirst().orElse(Map.of()));
        } catch (PessimisticLockingFailureException busy) {
            return null;
        }
    }

    /**
     * What {@link #holdLate} did: the notification's state after it ({@link #NOT_WAITING}: nothing done, the delivery no longer
     * waited), and the channels that waited SCHEDULED and are HELD with it.
     */
    public record LateHold(String state, List<String> heldWith) {
    }

    /** {@link #holdLate}: the delivery was no longer waiting to be sent, so nothing was held. */
    public static final String NOT_WAITING = "NOT_WAITING";

    /**
     * A delivery that became late while it waited to be sent (queued, parked, or queued when its scheduled time came) and
     * whose type's policy is hold (io.herald.ops.LateMessages): the notification is HELD for an operator (a row added, a
     * FIRED one held again: it fired, then waited too long, or a SCHEDULED one: it waits for a time, quiet hours after a
     * claim, and its deliveries waiting for that time are as late as this one, so they are HELD with it, and its timer finds
     * nothing to do when it fires) and this delivery waits HELD with it. Returns the notification's state after the step:
     * HELD (held now), the decision already taken (SENT_NOW: an operator said send it, so it is sent; DISMISSED, CANCELLED),
     * which this step leaves as it is, or NOT_WAITING (the delivery was claimed for sending or settled meanwhile: nothing held).
     * {@code matchKey}: what a newer event cancels it by (catalog cancelled-by; null: none), kept with a row that had none.
     */
    public LateHold holdLate(long notificationId, String channel, String reason, String matchKey) {
        return transaction.execute(status -> {
            jdbc.update("""
                    INSERT INTO scheduled_send (notification_id, state, fire_at, reason, match_key) VALUES (?, 'HELD', NULL, ?, ?)
                    ON CONFLICT (notification_id) DO UPDATE SET state = 'HELD', fire_at = NULL, reason = EXCLUDED.reason,
                           decided_by = NULL, decided_at = NULL, comment = NULL,
                           match_key = coalesce(scheduled_send.match_key, EXCLUDED.match_key)
                    WHERE scheduled_send.state IN ('FIRED', 'SCHEDULED')""", notificationId, reason, matchKey);
            String state = jdbc.queryForObject("SELECT state FROM scheduled_send WHERE notification_id = ? FOR UPDATE", String.class,
                    notificationId);
            if (!"HELD".equals(state)) {
                return new LateHold(state, List.of());
            }
            if (!ledger.stopLate(notificationId, channel, "HELD", reason)) {
                // Not waiting any more (a sender claimed it after this check began, or it settled): it is not held, nor is its
                // notification because of it.
                status.setRollbackOnly();
                return new LateHold(NOT_WAITING, List.of());
            }
            // No timer releases a HELD notification's SCHEDULED deliveries: they wait for the operator with it.
            return new LateHold(state, ledger.holdScheduledLate(notificationId, reason));
        });
    }

    /**
     * A timer fired (the route direct:fire-scheduled-send, called by db-scheduler with its task instance id: the
     * notification id, and its generation after a dot when it was scheduled again after it fired): {@link #fire}.
     */
    public boolean fireTimer(String timerId) {
        int dot = timerId.indexOf('.');
        return dot < 0 ? fire(Long.parseLong(timerId), 0)
                : fire(Long.parseLong(timerId.substring(0, dot)), Integer.parseInt(timerId.substring(dot + 1)));
    }

    /** {@link #fire(long, int)} by its first timer. */
    public boolean fire(long notificationId) {
        return fire(notificationId, 0);
    }

    /**
     * Its time came: SCHEDULED becomes FIRED and its deliveries are queued now. False, doing nothing, when it is no longer
     * scheduled (sent, cancelled, or fired by another instance after a crash), was moved to a later time (its timer is
     * moved with it), or the timer is of an earlier generation than the one its scheduled send has now.
     */
    public boolean fire(long notificationId, int generation) {
        Instant now = clock.instant();
        Instant[] movedTo = new Instant[1];
        List<String> channels = transaction.execute(status -> {
            Map<String, Object> row = jdbc.queryForList("SELECT state, fire_at, reason, timer FROM scheduled_send WHERE notification_id = ? FOR UPDATE",
                    notificationId).stream().findFirst().orElse(null);
            if (row == null || !"SCHEDULED".equals(row.get("state")) || ((Number) row.get("timer")).intValue() != generation) {
                return List.<String>of();
            }
            Instant fireAt = ((Timestamp) row.get("fire_at")).toInstant();
            if (fireAt.isAfter(now.plusSeconds(1))) {
                // Moved meanwhile: wait for the new time. A timer cannot be set while this one runs (a move that came while it
                // was being picked); then this firing ends in FireLater, and the timer is set again for the new time.
                if (!scheduler.scheduleIfNotExists(timer(notificationId, generation), fireAt)) {
                    movedTo[0] = fireAt;
                }
                return List.<String>of();
            }
            jdbc.update("UPDATE scheduled_send SET state = 'FIRED', decided_by = ?, decided_at = ? WHERE notification_id = ? AND state = 'SCHEDULED'",
                    HERALD, Timestamp.from(now), notificationId);
            return ledger.releaseHeld(notificationId, "SCHEDULED", "FIRED", "its scheduled time " + fireAt + " came (" + row.get("reason")
                    + "): queued for sending");
        });
        if (movedTo[0] != null) {
            throw new FireLater(notificationId, movedTo[0]);
        }
        senders.wake(channels);
        return !channels.isEmpty();
    }

    /** An operator sends it now: a scheduled one before its time, or a held one. Audited with the operator's comment. */
    public List<String> sendNow(long notificationId, String actor, String comment) {
        Instant started = clock.instant();
        String said = requireComment(comment, "sending it now");
        List<String> channels = transaction.execute(status -> {
            String state = decide(notificationId, "SENT_NOW", actor, said);
            List<String> queued = ledger.releaseHeld(notificationId, state, "RELEASED", "sent now by " + actor + ": " + said);
            audit.record(started, actor, "SEND_NOW", "scheduled_send", notificationId, notificationId, said,
                    "notification " + notificationId + " (" + state + ") sent now: " + queued.size() + " deliver" + (queued.size() == 1 ? "y" : "ies") + " queued");
            return queued;
        });
        senders.wake(channels);
        log.info("Notification {} sent now by {}: {} queued", notificationId, actor, channels);
        return channels;
    }

    /** An operator cancels a scheduled one or dismisses a held one: never sent, its deliveries end CANCELLED or DISMISSED. Audited. */
    public String cancel(long notificationId, String actor, String comment) {
        Instant started = clock.instant();
        String said = requireComment(comment, "a cancellation");
        return transaction.execute(status -> {
            String state = currentState(notificationId);
            String ending = "HELD".equals(state) ? "DISMISSED" : "CANCELLED";
            decide(notificationId, ending, actor, said);
            int ended = ledger.endHeld(List.of(notificationId), state, ending, ending.toLowerCase(Locale.ROOT) + " by " + actor + ": " + said + "; not sent");
            audit.record(started, actor, "HELD".equals(state) ? "DISMISS" : "CANCEL", "scheduled_send", notificationId, notificationId, said,
                    "notification " + notificationId + " " + ending.toLowerCase(Locale.ROOT) + ": " + ended + " deliver" + (ended == 1 ? "y" : "ies") + " not sent");
            return ending;
        });
    }

    /**
     * Herald cancels what waits for {@code matchKey} among {@code types}, for a time (SCHEDULED) or for an operator (HELD: late,
     * its type holds late messages) (an appointment cancelled at the source, an invoice paid after its payment-failed notice
     * was held): each ends CANCELLED with the reason, audited as Herald. Returns the notifications cancelled.
     */
    public List<Long> cancelMatching(String matchKey, Collection<String> types, String reason) {
        return cancelMatching(matchKey, types, reason, List.of("SCHEDULED", "HELD"), null, null, 0);
    }

    /**
     * {@link #cancelMatching} of the reminders made from an event (the booking or move whose key the reminder's key extends,
     * {@code <key>:reminder:PT24H}) that occurred at the source at or before {@code occurredAt}: an appointment's
     * cancellation read after the CRM booked the appointment id again leaves the new booking's reminders waiting. A null
     * time, or a reminder whose event is not found: cancelled.
     */
    public List<Long> cancelMadeAtOrBefore(String matchKey, Collection<String> types, String reason, Instant occurredAt, long order) {
        return cancelMatching(matchKey, types, reason, List.of("SCHEDULED", "HELD"), null, occurredAt, order);
    }

    /**
     * {@link #cancelMatching} of those that occurred at the source before {@code occurredBefore} only: a newer notification of
     * their own type supersedes the older ones (catalog cancelled-by naming the type itself), never one of the same time;
     * another type, those that occurred at or before it (the caller passes its time plus a microsecond).
     */
    public List<Long> cancelOlderMatching(String matchKey, Collection<String> types, String reason, Instant occurredBefore) {
        return cancelMatching(matchKey, types, reason, List.of("SCHEDULED", "HELD"), java.util.Objects.requireNonNull(occurredBefore), null, 0);
    }

    /**
     * {@link #cancelMatching} of those an operator was to decide on (HELD: late, its type holds late messages) only: a reminder of
     * an appointment's old time that waits for an operator, cancelled when the appointment moves (it would name the old time).
     */
    public List<Long> cancelHeldMatching(String matchKey, Collection<String> types, String reason) {
        return cancelMatching(matchKey, types, reason, List.of("HELD"), null, null, 0);
    }

    private List<Long> cancelMatching(String matchKey, Collection<String> types, String reason, List<String> states, Instant occurredBefore,
                                      Instant madeAtOrBefore, long madeOrder) {
        if (matchKey == null || types.isEmpty()) {
            return List.of();
        }
        return transaction.execute(status -> {
            List<Long> ids = jdbc.queryForList("""
                    UPDATE scheduled_send s SET state = 'CANCELLED', decided_by = ?, decided_at = now(), comment = ?
                    FROM notification n
                    WHERE n.id = s.notification_id AND s.match_key = ? AND s.state = ANY(?) AND n.type = ANY(?)
                      AND COALESCE(n.occurred_at, '-infinity') < ?::timestamptz
                      AND NOT EXISTS (SELECT 1 FROM notification_all o
                                      WHERE o.idempotency_key = regexp_replace(n.idempotency_key, ':reminder:[^:]*$', '')
                                        AND o.id <> n.id AND (o.occurred_at, """ + SourceOrder.of("o") + """
                    ) > (?::timestamptz, ?))
                    RETURNING s.notification_id""", Long.class, HERALD, reason, matchKey, states.toArray(String[]::new),
                    types.toArray(String[]::new), before(occurredBefore), before(madeAtOrBefore), madeOrder);
            if (!ids.isEmpty()) {
                states.forEach(waiting -> ledger.endHeld(ids, waiting, "CANCELLED", reason));
                Instant now = clock.instant();
                ids.forEach(id -> audit.record(now, HERALD, "CANCEL", "scheduled_send", id, id, null, reason));
            }
            return ids;
        });
    }

    /**
     * Fired ones of the match key whose deliveries still wait for their provider (parked, retrying, not claimed yet) are
     * withdrawn: those deliveries end CANCELLED with the reason, audited as Herald. For a reminder that fired and could not
     * go out before its appointment was cancelled or moved: sent later it would name a time that no longer holds. A
     * first-success chain of theirs cut after a failed step (its next channel never queued) is ended too, so the stale
     * sweep does not queue that channel later (ChainsCutOff). Only those that occurred before {@code occurredBefore} when
     * given (superseded by a newer one of their own type). Returns the notifications with deliveries withdrawn.
     */
    public List<Long> withdrawFired(String matchKey, Collection<String> types, String reason, Instant occurredBefore) {
        return withdrawFired(matchKey, types, reason, occurredBefore, null, 0);
    }

    /**
     * {@link #withdrawFired} of the reminders made from an event (the booking or move whose key the reminder's key extends)
     * that occurred at the source at or before {@code occurredAt}, as {@link #cancelMadeAtOrBefore}: an appointment's
     * cancellation read after the CRM booked the appointment id again leaves the new booking's fired reminder to its
     * provider. A null time, or a reminder whose event is not found: withdrawn.
     */
    public List<Long> withdrawFiredMadeAtOrBefore(String matchKey, Collection<String> types, String reason, Instant occurredAt, long order) {
        return withdrawFired(matchKey, types, reason, null, occurredAt, order);
    }

    private List<Long> withdrawFired(String matchKey, Collection<String> types, String reason, Instant occurredBefore, Instant madeAtOrBefore,
                                     long madeOrder) {
        if (matchKey == null || types.isEmpty()) {
            return List.of();
        }
        return transaction.execute(status -> {
            List<Long> ids = jdbc.queryForList("""
                    SELECT DISTINCT s.notification_id FROM scheduled_send s JOIN notification n ON n.id = s.notification_id
                    JOIN delivery d ON d.notification_id = s.notification_id
                     AND (d.state IN ('PENDING', 'RETRYING', 'PARKED') OR (d.next_channel IS NOT NULL AND NOT EXISTS (
                          SELECT 1 FROM delivery x WHERE x.notification_id = d.notification_id AND x.channel = d.next_channel)))
                    WHERE s.match_key = ? AND s.state = 'FIRED' AND n.type = ANY(?)
                      AND COALESCE(n.occurred_at, '-infinity') < ?::timestamptz
                      AND NOT EXISTS (SELECT 1 FROM notification_all o
                                      WHERE o.idempotency_key = regexp_replace(n.idempotency_key, ':reminder:[^:]*$', '')
                                        AND o.id <> n.id AND (o.occurred_at, """ + SourceOrder.of("o") + """
                    ) > (?::timestamptz, ?))""", Long.class, matchKey,
                    types.toArray(String[]::new), before(occurredBefore), before(madeAtOrBefore), madeOrder);
            if (!ids.isEmpty() && ledger.cancelUnsent(ids, reason) + ledger.endCutChains(ids) > 0) {
                Instant now = clock.instant();
                ids.forEach(id -> audit.record(now, HERALD, "CANCEL", "scheduled_send", id, id, null, reason));
            }
            return ids;
        });
    }

    /** An occurrence-time bound as SQL text: null is no bound. */
    static String before(Instant occurredBefore) {
        return occurredBefore == null ? "infinity" : occurredBefore.toString();
    }

    /**
     * A scheduled one goes out at another time (an appointment rescheduled): the row, its timer and its deliveries' record
     * say so. False when it is no longer scheduled.
     */
    public boolean move(long notificationId, Instant fireAt, String reason) {
        return Boolean.TRUE.equals(transaction.execute(status -> {
            Integer generation = jdbc.queryForList("UPDATE scheduled_send SET fire_at = ?, reason = ? WHERE notification_id = ? AND state = 'SCHEDULED'"
                    + " RETURNING timer", Integer.class, Timestamp.from(fireAt), reason, notificationId).stream().findFirst().orElse(null);
            if (generation == null) {
                return false;
            }
            ledger.noteHeld(notificationId, "SCHEDULED", "MOVED", "moved to " + fireAt + ": " + reason);
            boolean moved;
            try {
                moved = scheduler.reschedule(timer(notificationId, generation), fireAt);
            } catch (TaskInstanceException firingOrGone) {
                // Its timer is firing right now (it reads the new time and waits), or is gone: never a reason to fail the
                // dispatch batch this reschedule came in (it would dead-letter other customers' notifications with it).
                log.info("The timer of notification {} could not be moved ({}); a new one is set for {}", notificationId,
                        firingOrGone.getClass().getSimpleName(), fireAt);
                moved = false;
            }
            if (!moved) {
                scheduler.scheduleIfNotExists(timer(notificationId, generation), fireAt);   // its timer was firing: a new one for the new time
            }
            return true;
        }));
    }

    /** The waiting notifications (scheduled or held), soonest first, filtered by type, customer and time (each may be null). */
    public List<Waiting> waiting(String type, String customerId, Instant from, Instant to, int limit) {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT s.notification_id, s.state, s.fire_at, s.reason, s.match_key, s.created_at, n.type, n.customer_id,
                       (SELECT array_agg(d.channel ORDER BY d.id) FROM delivery d WHERE d.notification_id = s.notification_id
                        AND d.state = s.state) AS channels
                FROM scheduled_send s JOIN notification n ON n.id = s.notification_id
                WHERE s.state IN ('SCHEDULED', 'HELD') AND (CAST(? AS VARCHAR) IS NULL OR n.type = ?)
                  AND (CAST(? AS VARCHAR) IS NULL OR n.customer_id = ?)
                  AND (CAST(? AS TIMESTAMPTZ) IS NULL OR s.fire_at >= ?) AND (CAST(? AS TIMESTAMPTZ) IS NULL OR s.fire_at < ?)
                ORDER BY s.fire_at NULLS FIRST, s.notification_id LIMIT ?""",
                type, type, customerId, customerId, timestamp(from), timestamp(from), timestamp(to), timestamp(to), limit);
        List<Waiting> waiting = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            waiting.add(waiting(row));
        }
        return waiting;
    }

    /** The notifications of {@code types} still SCHEDULED under {@code matchKey} (an appointment's pending reminders), soonest first. */
    public List<Waiting> scheduledFor(String matchKey, Collection<String> types) {
        List<Waiting> waiting = new ArrayList<>();
        for (Map<String, Object> row : jdbc.queryForList("""
                SELECT s.notification_id, s.state, s.fire_at, s.reason, s.match_key, s.created_at, n.type, n.customer_id,
                       (SELECT array_agg(d.channel ORDER BY d.id) FROM delivery d WHERE d.notification_id = s.notification_id
                        AND d.state = s.state) AS channels
                FROM scheduled_send s JOIN notification n ON n.id = s.notification_id
                WHERE s.match_key = ? AND s.state = 'SCHEDULED' AND n.type = ANY(?)
                ORDER BY s.fire_at, s.notification_id""", matchKey, types.toArray(String[]::new))) {
            waiting.add(waiting(row));
        }
        return waiting;
    }

    /** What became of a notification that waited under a match key: its key, its state now and who decided it. */
    public record Past(long notificationId, String idempotencyKey, String state, String decidedBy) {
    }

    /** Every notification of {@code types} that waited under {@code matchKey}, whatever its state now, newest first. */
    public List<Past> history(String matchKey, Collection<String> types) {
        return jdbc.query("""
                SELECT s.notification_id, n.idempotency_key, s.state, s.decided_by FROM scheduled_send s
                JOIN notification_all n ON n.id = s.notification_id
                WHERE s.match_key = ? AND n.type = ANY(?) ORDER BY s.notification_id DESC""",
                (row, i) -> new Past(row.getLong(1), row.getString(2), row.getString(3), row.getString(4)),
                matchKey, types.toArray(String[]::new));
    }

    /** One notification's wait, whatever its state now (empty: it never waited). */
    public Optional<Waiting> find(long notificationId) {
        return jdbc.queryForList("""
                SELECT s.notification_id, s.state, s.fire_at, s.reason, s.match_key, s.created_at, n.type, n.customer_id,
                       (SELECT array_agg(d.channel ORDER BY d.id) FROM delivery_all d WHERE d.notification_id = s.notification_id) AS channels
                FROM scheduled_send s JOIN notification_all n ON n.id = s.notification_id WHERE s.notification_id = ?""", notificationId)
                .stream().findFirst().map(ScheduledSends::waiting);
    }

    private static Waiting waiting(Map<String, Object> row) {
        List<String> channels = new ArrayList<>();
        Object array = row.get("channels");
        if (array instanceof java.sql.Array sql) {
            try {
                for (Object channel : (Object[]) sql.getArray()) {
                    channels.add((String) channel);
                }
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException("the channels of a waiting notification could not be read", e);
            }
        }
        return new Waiting(((Number) row.get("notification_id")).longValue(), (String) row.get("type"), (String) row.get("customer_id"),
                (String) row.get("state"), instant(row.get("fire_at")), (String) row.get("reason"), (String) row.get("match_key"),
                instant(row.get("created_at")), channels);
    }

    /** The conditional UPDATE that decides once; returns the state it left (SCHEDULED or HELD), refused if it is not waiting. */
    private String decide(long notificationId, String ending, String actor, String comment) {
        String state = currentState(notificationId);
        if (jdbc.update("UPDATE scheduled_send SET state = ?, decided_by = ?, decided_at = now(), comment = ? WHERE notification_id = ? AND state = ?",
                ending, actor, comment, notificationId, state) == 0) {
            throw new ActionRefused("notification " + notificationId + " was decided by someone else meanwhile: reload to see what happened", false);
        }
        return state;
    }

    private String currentState(long notificationId) {
        Map<String, Object> row = jdbc.queryForList("SELECT state, decided_by, decided_at FROM scheduled_send WHERE notification_id = ?",
                notificationId).stream().findFirst().orElseThrow(() -> new ActionRefused("notification " + notificationId
                        + " is not scheduled or held (no such notification, or it was sent as soon as it came)", true));
        String state = (String) row.get("state");
        if (!"SCHEDULED".equals(state) && !"HELD".equals(state)) {
            throw new ActionRefused("notification " + notificationId + " is already " + state + " (by " + row.get("decided_by") + " at "
                    + instant(row.get("decided_at")) + "): nothing more to decide", false);
        }
        return state;
    }

    /** A scheduled send's db-scheduler timer: "4711" for its first, "4711.1" once it was scheduled again after it fired. */
    private static TaskInstance<Void> timer(long notificationId, int generation) {
        return new TaskInstance<>(SchedulerSetup.TASK, generation == 0 ? Long.toString(notificationId) : notificationId + "." + generation);
    }

    private static String requireComment(String comment, String what) {
        if (comment == null || comment.isBlank()) {
            throw new ActionRefused("say why: " + what + " needs a comment for the record", false);
        }
        return comment.strip();
    }

    private static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    private static Instant instant(Object value) {
        return value == null ? null : ((Timestamp) value).toInstant();
    }
}
