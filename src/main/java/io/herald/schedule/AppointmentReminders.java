package io.herald.schedule;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.console.ActionRefused;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.Reminders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Appointment reminders (issue 14 point 2), decided when dispatch takes a notification whose type has {@code reminders:}
 * in the catalog (io.herald.notification.NotificationCatalog.Reminders):
 * <ul>
 *   <li>a booking: each reminder becomes a notification of its own in the ledger (key {@code <booking key>:reminder:PT24H},
 *   so a repeat or a restart makes it once), SCHEDULED at the appointment's time minus its offset, under the match key
 *   "appointment:&lt;id&gt;"; a reminder whose time has already passed is not scheduled but SKIPPED with the reason; and a
 *   booking confirmation for an appointment that has already started is not sent (SKIPPED, with the reason); a booking
 *   handled after its appointment's cancellation (CancelledAppointments: one that occurred at or after it at the source)
 *   sends nothing: its confirmation and its reminders are SKIPPED, naming the cancellation; a booking that repeats the
 *   appointment's previous booking at the same instant (the source wrote it twice, its start perhaps in another offset),
 *   with nothing cancelled or moved between them (RepeatedBookings), or that is a source event Herald already booked under
 *   the key bookings had before (RepeatedBookings.sameEvent), is SKIPPED naming the first and makes no reminders; booked
 *   again after a cancellation, at the same time or another, it is a booking of its own;</li>
 *   <li>a reschedule: the appointment's pending reminders move to the new time minus their offsets (and will say the new
 *   time); one whose new time has passed is cancelled with the reason; one that already fired for the old time is made
 *   again for the new time (key {@code <move key>:reminder:PT24H}); the "moved" notice itself goes out as usual, unless
 *   the appointment's cancellation came at or after the move, or a newer move of it is already in the ledger (NewerMoves:
 *   events out of order), then nothing moves and the notice is SKIPPED; so is one that repeats the appointment's latest
 *   move, to the same instant with nothing cancelled since (RepeatedBookings: the source wrote it twice);</li>
 *   <li>a cancellation: the appointment's pending reminders, and fired ones still waiting for their provider, are cancelled
 *   (never sent), those made from a booking or move that occurred at or before it at the source (a booking of the
 *   appointment id made again after it keeps its own; when none is left waiting, the latest booking or move made after it
 *   at the source gets its reminders, RepeatedBookings.standingAfter); the notice goes out as usual, unless it repeats an earlier
 *   cancellation of the appointment with no booking or move between them (CancelledAppointments.repeated: the source wrote
 *   it twice), then it is SKIPPED naming the first; or unless Herald already had a booking or move of the appointment that
 *   occurred after it at the source (CancelledAppointments.standsAgain: the cancellation read late or re-driven), then it
 *   is SKIPPED naming that booking or move: "cancelled", told after the appointment was booked again, would read as the
 *   appointment being off while it stands. Only when that booking or move is at the time the cancellation names (or moved
 *   away from it), or the cancellation names none: booked again for another day, the notice of the first day goes out.</li>
 * </ul>
 * Times are instants: a reminder 24 hours before is 24 hours before as the clock runs, whatever a daylight-saving change
 * in between does to the wall clock; templates write the appointment's time in the customer's zone (startsAtLocal).
 * Each notification's work is one transaction, and safe to repeat (dispatch reads a batch again after a crash).
 */
@Component
public class AppointmentReminders {

    private static final Logger log = LoggerFactory.getLogger(AppointmentReminders.class);
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
    /** The reminder's data field saying how long before the appointment it is due (ISO-8601, e.g. PT24H). */
    static final String BEFORE = "remindBefore";
    private static final int MAX_KEY = 400;

    private final NotificationCatalog catalog;
    private final NotificationLedger notifications;
    private final DeliveryLedger deliveries;
    private final ScheduledSends scheduled;
    private final CancelledAppointments cancellations;
    private final NewerMoves newerMoves;
    private final RepeatedBookings repeatedBookings;
    private final ObjectMapper json;
    private final TransactionTemplate transaction;
    private final Clock clock;

    public AppointmentReminders(NotificationCatalog catalog, NotificationLedger notifications, DeliveryLedger deliveries,
                                ScheduledSends scheduled, CancelledAppointments cancellations, NewerMoves newerMoves,
                                RepeatedBookings repeatedBookings, ObjectMapper json, TransactionTemplate transaction, Clock clock) {
        this.catalog = catalog;
        this.notifications = notifications;
        this.deliveries = deliveries;
        this.scheduled = scheduled;
        this.cancellations = cancellations;
        this.newerMoves = newerMoves;
        this.repeatedBookings = repeatedBookings;
        this.json = json;
        this.transaction = transaction;
        this.clock = clock;
    }

    /**
     * Books, moves or cancels the reminders {@code notification} concerns, if its type has any; returns true when its own
     * deliveries ({@code queued}, as dispatch would queue them) must not go out and were recorded SKIPPED instead: a
     * booking confirmation or a "moved" notice for an appointment that has already started. Throws InvalidNotification
     * (a dead letter, with the reason) when the event lacks the appointment's time or id.
     */
    public boolean dispatch(CanonicalNotification notification, long notificationId, List<DeliveryLedger.Queued> queued) {
        Reminders plan = catalog.reminders(notification.type());
        if (plan == null) {
            return false;
        }
        Instant startsAt = Reminders.CANCEL.equals(plan.action()) ? null : plan.time(notification);
        String matchKey = plan.matchKey(notification);
        String appointment = matchKey.replaceFirst(":", " ");   // "appointment APT-17", as a person reads it
        Instant now = clock.instant();
        return Boolean.TRUE.equals(transaction.execute(status -> switch (plan.action()) {
            case Reminders.BOOK -> {
                // The same event handled before under the key bookings had then (their start): confirmed and reminded then.
                String same = repeatedBookings.sameEvent(notification, notificationId).map(first -> appointment + " was already booked by "
                        + first.words()).orElse(null);
                if (same != null) {
                    yield notSent(notification, queued, same, "this is the same event read again, confirmed by that notification");
                }
                // The same booking written twice (two rows, its start perhaps in another offset): confirmed and reminded with the first.
                String repeat = repeatedBookings.earlier(plan, notification, notificationId, startsAt).map(first -> appointment
                        + " was already booked for " + WHEN.format(startsAt) + " by " + first.words()).orElse(null);
                if (repeat != null) {
                    yield notSent(notification, queued, repeat, "nothing cancelled or moved it since, so this is a repeat of that"
                            + " booking, confirmed by that notification");
                }
                String cancelled = cancelledBefore(plan, notification, appointment, "booking");
                book(plan, notification, startsAt, matchKey, appointment, now, cancelled);
                if (cancelled != null) {
                    yield notSent(notification, queued, cancelled, "a confirmation would tell the customer of an appointment that does"
                            + " not stand. If it does, book it again in the CRM");
                }
                yield notSentIfStarted(notification, queued, startsAt, appointment, now, "booking confirmation");
            }
            case Reminders.MOVE -> {
                String cancelled = cancelledBefore(plan, notification, appointment, "move");
                if (cancelled != null) {   // nothing of it moves: the reminders it would move belong to a later booking, if any
                    yield notSent(notification, queued, cancelled, "a notice that it moved would tell the customer of an appointment"
                            + " that does not stand");
                }
                String newer = newerMoves.after(plan, notification).map(move -> appointment + " was moved again by " + move
                        + ", which happened after this move at the source").orElse(null);
                if (newer != null) {   // out of order: the reminders stay at the newer move's time
                    yield notSent(notification, queued, newer, "a notice of this move would name a time that no longer holds");
                }
                // The same move written twice by the source (two outbox rows): moved and told with the first.
                String repeat = repeatedBookings.earlier(plan, notification, notificationId, startsAt).map(first -> appointment
                        + " was already moved to " + WHEN.format(startsAt) + " by " + first.words()).orElse(null);
                if (repeat != null) {
                    yield notSent(notification, queued, repeat, "nothing cancelled or moved it since, so this is a repeat of that"
                            + " move, told by that notification");
                }
                withdrawFired(plan, matchKey, appointment + " moved to " + WHEN.format(startsAt) + " (" + notification.source() + " event "
                        + notification.sourceEventId() + ") while this reminder of the old time waited for its provider: not sent, as it"
                        + " would name a time that no longer holds", null, 0);
                move(plan, notification, startsAt, matchKey, appointment, now);
                makeAgain(plan, notification, startsAt, matchKey, appointment, now);
                yield notSentIfStarted(notification, queued, startsAt, appointment, now, "notice that it moved");
            }
            default -> {
                String why = appointment + " was cancelled at the source (" + notification.source() + " event " + notification.sourceEventId()
                        + (notification.occurredAt() == null ? "" : ", " + WHEN.format(notification.occurredAt())) + ")";
                // Only the reminders of what it cancels: a booking of the appointment id made again after it keeps its own,
                // fired and waiting for their provider or still scheduled.
                withdrawFired(plan, matchKey, why + " while this reminder waited for its provider: not sent", notification.occurredAt(),
                        SourceOrder.of(notification));
                List<Long> cancelled = scheduled.cancelMadeAtOrBefore(matchKey, List.of(plan.type()), why + ": its reminder is cancelled, not sent",
                        notification.occurredAt(), SourceOrder.of(notification));
                log.info("{} cancelled: {} pending reminder(s) cancelled", appointment, cancelled.size());
                remindStandingBooking(plan, notification, matchKey, appointment, now);
                // The same cancellation written twice by the source (two outbox rows): its notice went out with the first.
                String repeat = cancellations.repeated(plan, notification, notificationId).map(first -> appointment
                        + " was already cancelled by " + first.words()).orElse(null);
                if (repeat != null) {
                    yield notSent(notification, queued, repeat, "nothing booked or moved it since, so this is a repeat of that"
                            + " cancellation, told by that notification");
                }
                // Read late: the appointment was booked again (or moved) after it at the source, and the customer told so first.
                String standing = cancellations.standsAgain(plan, notification, notificationId, appointment).orElse(null);
                if (standing != null) {
                    yield notSent(notification, queued, standing + " after this cancellation at the source, and Herald had it first",
                            "a cancellation notice now would tell the customer their appointment is off while it stands. The reminders"
                                    + " of the time it cancelled are cancelled; those of the time that stands go out");
                }
                yield false;
            }
        }));
    }

    /**
     * A cancellation handled after a booking or move the CRM made after it (the cancellation quarantined and re-driven, or
     * read late): a booking Herald took for a repeat of the booking the cancellation cancels (SKIPPED, no reminders of its
     * own), or a move that moved that booking's reminders, which the cancellation has just cancelled. The appointment stands
     * at that booking's or move's time, and its reminders are made now, unless some of the appointment's reminders still
     * wait. The customer used to be left with none.
     */
    private void remindStandingBooking(Reminders plan, CanonicalNotification cancellation, String matchKey, String appointment, Instant now) {
        if (!scheduled.scheduledFor(matchKey, List.of(plan.type())).isEmpty()) {
            return;
        }
        repeatedBookings.standingAfter(plan, cancellation).ifPresent(standing -> {
            String canonical = notifications.canonical(standing.notificationId());
            CanonicalNotification booking = canonical == null ? null : read(canonical);
            if (booking == null || booking.data() == null || booking.data().get(plan.of()) == null) {
                return;   // its payload is past retention: nothing to remind with
            }
            String made = standing.move()
                    ? ", made when " + cancellation.source() + " event " + cancellation.sourceEventId() + ", read late, cancelled the"
                      + " reminders of the booking before it: this move (" + booking.source() + " event " + booking.sourceEventId()
                      + ", made at the source after that cancellation) had moved those to its time"
                    : ", made when " + cancellation.source() + " event " + cancellation.sourceEventId() + " cancelled the booking before"
                      + " it late: this booking (" + booking.source() + " event " + booking.sourceEventId() + ", made at the source after"
                      + " that cancellation) had been taken for a repeat of that one";
            book(plan, booking, plan.time(booking), matchKey, appointment, now, null, made);
            log.info("{}: the {} {} that stands after a late cancellation is reminded", appointment, standing.move() ? "move" : "booking",
                    booking.sourceEventId());
        });
    }

    /**
     * A reminder that fired but still waits for its provider is not sent after its appointment was cancelled or moved; with
     * {@code madeAtOrBefore} (a cancellation's time at the source), only one made from a booking or move that occurred at or
     * before it.
     */
    private void withdrawFired(Reminders plan, String matchKey, String reason, Instant madeAtOrBefore, long order) {
        List<Long> withdrawn = scheduled.withdrawFiredMadeAtOrBefore(matchKey, List.of(plan.type()), reason, madeAtOrBefore, order);
        if (!withdrawn.isEmpty()) {
            log.info("{}: {} fired reminder(s) still waiting for a provider withdrawn", matchKey, withdrawn.size());
        }
    }

    /**
     * Each reminder of the booking: a notification of its own, scheduled, or SKIPPED when its time has passed or the
     * appointment was cancelled before the booking was handled ({@code cancelled}: why, in words; null when it was not).
     */
    private void book(Reminders plan, CanonicalNotification booking, Instant startsAt, String matchKey, String appointment, Instant now,
                      String cancelled) {
        book(plan, booking, startsAt, matchKey, appointment, now, cancelled, "");
    }

    /** As above; {@code made}: why the reminders are made now, added to their scheduled reason ("" for a booking as it comes). */
    private void book(Reminders plan, CanonicalNotification booking, Instant startsAt, String matchKey, String appointment, Instant now,
                      String cancelled, String made) {
        NotificationCatalog.Entry reminderType = catalog.entry(plan.type());
        String from = write(booking);
        List<ScheduledSends.Schedule> schedules = new ArrayList<>();
        for (Duration before : plan.before()) {
            Instant fireAt = startsAt.minus(before);
            CanonicalNotification reminder = reminder(plan, booking, before, fireAt);
            long id = notifications.admitDerived(reminder, write(reminder), from, fireAt.plus(reminderType.window()));
            List<DeliveryLedger.Queued> channels = queued(reminderType, id, reminder.customerId());
            if (cancelled != null) {
                deliveries.skip(channels, "not scheduled: " + cancelled);
            } else if (fireAt.isAfter(now)) {
                schedules.add(new ScheduledSends.Schedule(id, fireAt, "the " + words(before) + " reminder of " + appointment + " (starts "
                        + WHEN.format(startsAt) + ")" + made, matchKey, channels));
            } else {
                deliveries.skip(channels, "not scheduled: the " + words(before) + " reminder's time (" + WHEN.format(fireAt) + ", "
                        + span(before) + " before " + appointment + " at " + WHEN.format(startsAt) + ") had passed when the booking arrived at "
                        + WHEN.format(now));
            }
        }
        scheduled.schedule(schedules);
    }

    /**
     * The appointment's pending reminders go to the new time minus their offsets and will say the new time (their data
     * takes the reschedule's, a field it leaves empty cleared); one whose new time has passed is cancelled with the reason. Repeating it changes nothing.
     */
    private void move(Reminders plan, CanonicalNotification moved, Instant startsAt, String matchKey, String appointment, Instant now) {
        for (ScheduledSends.Waiting waiting : scheduled.scheduledFor(matchKey, List.of(plan.type()))) {
            CanonicalNotification reminder = read(notifications.canonical(waiting.notificationId()));
            Duration before = Duration.parse(String.valueOf(reminder.data().get(BEFORE)));
            Instant fireAt = startsAt.minus(before);
            if (!fireAt.isAfter(now)) {
                try {
                    scheduled.cancel(waiting.notificationId(), ScheduledSends.HERALD, appointment + " moved to " + WHEN.format(startsAt)
                            + " (" + moved.source() + " event " + moved.sourceEventId() + "), and its " + words(before) + " reminder's new"
                            + " time " + WHEN.format(fireAt) + " had already passed at " + WHEN.format(now));
                } catch (ActionRefused firedMeanwhile) {
                    // It fired between the look-up and now: nothing to cancel, and no reason to fail the batch this move came in.
                    log.info("{}: a reminder fired while it was being moved ({})", appointment, firedMeanwhile.getMessage());
                }
                continue;
            }
            if (fireAt.equals(waiting.fireAt())) {
                continue;   // moved already (the reschedule read again)
            }
            // The move describes the appointment as it now is (the mapping gives every field of the booking, null when the CRM
            // sent none): a field it has no value for is cleared, so a reminder of a meeting moved from video to the office does
            // not still give the old link. Only the offset (and nothing of the old time) is kept from the reminder.
            Map<String, Object> data = new LinkedHashMap<>(reminder.data());
            moved.data().forEach((field, value) -> {
                if (!field.startsWith("previous")) {
                    data.put(field, value);
                }
            });
            CanonicalNotification retimed = new CanonicalNotification(reminder.idempotencyKey(), reminder.source(), reminder.sourceEventId(),
                    reminder.type(), reminder.customerId(), fireAt, reminder.refs(), data, reminder.priority());
            notifications.retimed(waiting.notificationId(), write(retimed), fireAt, fireAt.plus(catalog.entry(plan.type()).window()));
            scheduled.move(waiting.notificationId(), fireAt, "the " + words(before) + " reminder of " + appointment + ", which moved to "
                    + WHEN.format(startsAt) + " (" + moved.source() + " event " + moved.sourceEventId() + ")");
        }
        // A reminder that became late and waits for an operator (late: hold) names the old time: cancelled, so no operator sends
        // it; made again for the new time below, when that is still ahead.
        scheduled.cancelHeldMatching(matchKey, List.of(plan.type()), appointment + " moved to " + WHEN.format(startsAt) + " ("
                + moved.source() + " event " + moved.sourceEventId() + "), and this reminder, held for an operator, named the old"
                + " time: cancelled by Herald, not sent");
    }

    /**
     * A reminder of the old time that no longer waits because of time, not because someone decided against it, is made
     * again for the new time when that is still ahead: one that went out (FIRED, or sent now by an operator) or that Herald
     * cancelled (an earlier move put its time in the past; or the appointment was cancelled, which this move, later at the
     * source, overrides). A notification of its own, keyed by this move ({@code <move key>:reminder:PT24H}), so the one
     * that went out keeps its record and a repeat of the move makes it once. Per offset only the newest reminder counts: one
     * still waiting was moved above; one an operator cancelled or dismissed stays so.
     */
    private void makeAgain(Reminders plan, CanonicalNotification moved, Instant startsAt, String matchKey, String appointment, Instant now) {
        List<ScheduledSends.Past> history = scheduled.history(matchKey, List.of(plan.type()));
        NotificationCatalog.Entry reminderType = catalog.entry(plan.type());
        List<ScheduledSends.Schedule> schedules = new ArrayList<>();
        for (Duration before : plan.before()) {
            Instant fireAt = startsAt.minus(before);
            ScheduledSends.Past last = history.stream().filter(past -> past.idempotencyKey().endsWith(":reminder:" + before)).findFirst().orElse(null);
            String ended = last == null ? null : switch (last.state()) {
                case "FIRED" -> "had fired";
                case "SENT_NOW" -> "had been sent early by an operator";
                case "CANCELLED" -> ScheduledSends.HERALD.equals(last.decidedBy()) ? "had been cancelled by Herald" : null;
                default -> null;
            };
            if (ended == null || !fireAt.isAfter(now)) {
                continue;
            }
            CanonicalNotification reminder = reminder(plan, moved, before, fireAt);
            long id = notifications.admitDerived(reminder, write(reminder), write(moved), fireAt.plus(reminderType.window()));
            schedules.add(new ScheduledSends.Schedule(id, fireAt, "the " + words(before) + " reminder of " + appointment + " (starts "
                    + WHEN.format(startsAt) + "), made again for the new time: the one for the old time " + ended + " (" + moved.source()
                    + " event " + moved.sourceEventId() + " moved it)", matchKey, queued(reminderType, id, reminder.customerId())));
        }
        scheduled.schedule(schedules);
    }

    /** Why this booking or move comes too late, in words, when Herald already has its appointment's cancellation; else null. */
    private String cancelledBefore(Reminders plan, CanonicalNotification notification, String appointment, String what) {
        return cancellations.atOrAfter(plan, notification).map(cancellation -> appointment + " was cancelled by " + cancellation.words()
                + " before this " + what + " was handled").orElse(null);
    }

    private boolean notSent(CanonicalNotification notification, List<DeliveryLedger.Queued> queued, String cancelled, String why) {
        deliveries.skip(queued, "not sent: " + cancelled + "; " + why);
        log.info("{} not sent: {}", notification.type(), cancelled);
        return true;
    }

    private boolean notSentIfStarted(CanonicalNotification notification, List<DeliveryLedger.Queued> queued, Instant startsAt,
                                     String appointment, Instant now, String what) {
        if (startsAt.isAfter(now)) {
            return false;
        }
        deliveries.skip(queued, "not sent: " + appointment + " started at " + WHEN.format(startsAt) + ", before this " + what
                + " could go out (" + WHEN.format(now) + "); a message about an appointment already under way would mislead");
        log.info("{} ({}): {} not sent, the appointment started at {}", notification.type(), appointment, what, startsAt);
        return true;
    }

    /** The reminder as a notification of its own: the booking's data and who it is for, due at its time. */
    private CanonicalNotification reminder(Reminders plan, CanonicalNotification booking, Duration before, Instant fireAt) {
        Map<String, Object> data = new LinkedHashMap<>(booking.data());
        data.keySet().removeIf(field -> field.startsWith("previous"));   // made from a move: the reminder names its new time only
        data.put(BEFORE, before.toString());
        return new CanonicalNotification(reminderKey(booking.idempotencyKey(), before), booking.source(), booking.sourceEventId(),
                plan.type(), booking.customerId(), fireAt, booking.refs(), data, booking.priority());
    }

    /** {@code <booking key>:reminder:PT24H}; a booking key too long for that is shortened to its SHA-256, still one per booking. */
    static String reminderKey(String bookingKey, Duration before) {
        String suffix = ":reminder:" + before;
        if (bookingKey.length() + suffix.length() <= MAX_KEY) {
            return bookingKey + suffix;
        }
        try {
            return "reminder:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bookingKey.getBytes(StandardCharsets.UTF_8)))
                    + suffix;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<DeliveryLedger.Queued> queued(NotificationCatalog.Entry entry, long id, String customerId) {
        List<String> channels = entry.firstSuccess() ? entry.channels().subList(0, 1) : entry.channels();
        return channels.stream().map(channel -> new DeliveryLedger.Queued(id, channel, "ops_webhook".equals(channel) ? null : customerId,
                entry.nextAfter(channel))).toList();
    }

    /** "24-hour", "2-hour", "30-minute", "1-day" (whole days beyond a day): how a person says the offset. */
    static String words(Duration before) {
        if (before.toDays() > 1 && before.toHours() % 24 == 0 && before.toMinutesPart() == 0) {
            return before.toDays() + "-day";
        }
        if (before.toMinutesPart() == 0 && before.toSecondsPart() == 0) {
            return before.toHours() + "-hour";
        }
        return before.toMinutes() + "-minute";
    }

    /** "24 hours", "2 hours", "1 hour", "30 minutes", "2 days": the offset in words. */
    static String span(Duration before) {
        String adjective = words(before);
        String number = adjective.substring(0, adjective.indexOf('-'));
        return number + " " + adjective.substring(adjective.indexOf('-') + 1) + ("1".equals(number) ? "" : "s");
    }

    private String write(CanonicalNotification notification) {
        try {
            return json.writeValueAsString(notification);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a reminder could not be written as JSON", e);
        }
    }

    private CanonicalNotification read(String canonical) {
        try {
            return json.readValue(canonical, CanonicalNotification.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a waiting reminder's canonical form could not be read", e);
        }
    }
}
