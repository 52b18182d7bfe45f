package io.herald.schedule;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.Reminders;
import io.herald.schedule.CancelledAppointments.Cancellation;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Whether a booking or a move repeats one Herald already has. A booking and a move are keyed by their outbox row
 * ({@code crm:appointment.scheduled:<id>:crm-outbox-<row id>}), so the same row read again is one notification, but the
 * same booking or move the source wrote twice (two rows; a booking's start perhaps in another offset, "19:30:00Z" for
 * "14:30:00-05:00") would be confirmed or told twice, with a second set of reminders. It is a repeat when the customer's
 * latest booking or move of the appointment admitted before it is of the same type, starts at the same instant, says the
 * same of it otherwise (a change of only the owner, place or length, a "move" to the time it already has, is news: "new
 * details, same time"), and nothing cancelled the appointment since at the source (a move back and forth, A to B to A to B,
 * is told each time: the latest before each is another time; a booking after a cancellation, at the same time or another,
 * is a booking of its own).
 */
@Component
public class RepeatedBookings {

    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public RepeatedBookings(NotificationCatalog catalog, JdbcTemplate jdbc, ObjectMapper json) {
        this.catalog = catalog;
        this.jdbc = jdbc;
        this.json = json;
    }

    /**
     * The earlier booking or move {@code event} (admitted as {@code notificationId}, starting at {@code startsAt}) repeats, if
     * any. {@code plan}: the event's type's reminders (a booking's, or a move's naming its booking type).
     */
    public Optional<Cancellation> earlier(Reminders plan, CanonicalNotification event, long notificationId, Instant startsAt) {
        Object appointment = event.data() == null ? null : event.data().get(plan.appointment());
        if (appointment == null || event.customerId() == null || event.occurredAt() == null) {
            return Optional.empty();
        }
        String bookingType = Reminders.BOOK.equals(plan.action()) ? event.type() : plan.booking();
        String of = Reminders.BOOK.equals(plan.action()) ? plan.of() : catalog.reminders(bookingType).of();
        List<String> bookingOrMove = new ArrayList<>(catalog.movesOf(bookingType));
        bookingOrMove.add(bookingType);
        record Booked(Cancellation event, String type, String startsAt, String data) {
        }
        Optional<Booked> latest = jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at, n.type, p.data ->> ?, p.data::text FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND n.id < ? AND p.data ->> ? = ?
                ORDER BY n.id DESC LIMIT 1""",
                (row, i) -> new Booked(new Cancellation(row.getLong(1), row.getString(2), row.getString(3),
                        row.getTimestamp(4).toInstant()), row.getString(5), row.getString(6), row.getString(7)),
                of, event.customerId(), bookingOrMove.toArray(String[]::new), notificationId, plan.appointment(), String.valueOf(appointment))
                .stream().findFirst();
        if (latest.isEmpty() || !event.type().equals(latest.get().type()) || !startsAt.equals(instant(latest.get().startsAt()))
                || !sameOtherwise(latest.get().data(), event, of)) {
            return Optional.empty();
        }
        Long cancelledSince = jdbc.queryForObject("""
                SELECT count(*) FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND (n.occurred_at, %s) >= (?, ?) AND p.data ->> ? = ?""".formatted(
                        SourceOrder.of("n")),
                Long.class, event.customerId(), catalog.cancellationsOf(bookingType).toArray(String[]::new),
                Timestamp.from(latest.get().event().occurredAt()), SourceOrder.ofEvent(latest.get().event().sourceEventId()),
                plan.appointment(), String.valueOf(appointment));
        return cancelledSince != null && cancelledSince > 0 ? Optional.empty() : Optional.of(latest.get().event());
    }

    /** A booking or move that stands after a late cancellation: its notification id, and whether it is a move. */
    public record Standing(long notificationId, boolean move) {
    }

    /**
     * What stands after {@code cancellation} was handled late, if its reminders are still to be made: the appointment's latest
     * booking or move, made at the source after the cancellation, with no cancellation of the appointment after it in the
     * ledger, that made no reminders of its own. A booking handled before the cancellation reached Herald (quarantined and
     * re-driven, or read late) looked like the first booking written twice and was SKIPPED with that one's reminders; a move
     * after it moved the first booking's reminders. The late cancellation then cancels those (made from the first booking),
     * and without this the customer was never reminded of the appointment the CRM has.
     */
    public Optional<Standing> standingAfter(Reminders plan, CanonicalNotification cancellation) {
        Object appointment = cancellation.data() == null ? null : cancellation.data().get(plan.appointment());
        if (appointment == null || cancellation.customerId() == null || cancellation.occurredAt() == null || plan.before().isEmpty()) {
            return Optional.empty();
        }
        List<String> bookingOrMove = new ArrayList<>(catalog.movesOf(plan.booking()));
        bookingOrMove.add(plan.booking());
        record Latest(long id, String key, String type) {
        }
        Optional<Latest> standing = jdbc.query("""
                SELECT n.id, n.idempotency_key, n.type FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND (n.occurred_at, %1$s) > (?, ?) AND p.data ->> ? = ?
                  AND NOT EXISTS (SELECT 1 FROM notification_all m
                                  JOIN notification_payload q ON q.notification_id = m.id AND q.received_at = m.received_at
                                  WHERE m.customer_id = n.customer_id AND m.type = ANY(?) AND (m.occurred_at, %2$s) > (n.occurred_at, %1$s)
                                    AND q.data ->> ? = ?)
                ORDER BY n.occurred_at DESC, %1$s DESC, n.id DESC LIMIT 1""".formatted(SourceOrder.of("n"), SourceOrder.of("m")),
                (row, i) -> new Latest(row.getLong(1), row.getString(2), row.getString(3)), cancellation.customerId(),
                bookingOrMove.toArray(String[]::new), Timestamp.from(cancellation.occurredAt()), SourceOrder.of(cancellation), plan.appointment(),
                String.valueOf(appointment), catalog.cancellationsOf(plan.booking()).toArray(String[]::new), plan.appointment(),
                String.valueOf(appointment)).stream().findFirst();
        if (standing.isEmpty()) {
            return Optional.empty();
        }
        Long reminders = jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE idempotency_key = ?", Long.class,
                AppointmentReminders.reminderKey(standing.get().key(), plan.before().get(0)));
        return reminders != null && reminders > 0 ? Optional.empty()
                : Optional.of(new Standing(standing.get().id(), !plan.booking().equals(standing.get().type())));
    }

    /** Whether the earlier event's data and this one's are the same apart from how the start is written. */
    private boolean sameOtherwise(String earlier, CanonicalNotification event, String of) {
        try {
            JsonNode before = json.readTree(earlier);
            JsonNode now = json.valueToTree(event.data());
            if (!(before instanceof ObjectNode a) || !(now instanceof ObjectNode b)) {
                return false;
            }
            ObjectNode left = a.deepCopy();
            ObjectNode right = b.deepCopy();
            left.remove(of);
            right.remove(of);
            return left.equals(right);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return false;
        }
    }

    /**
     * The notification Herald already made of this very source event under another key, if any: a booking it handled while
     * bookings were keyed by their start ({@code crm:appointment.scheduled:<id>:<startsAt>}) and reads again now (a re-read
     * batch, a re-drive). Found by the source event id, not the payload, so it holds after retention removed the payload.
     */
    public Optional<Cancellation> sameEvent(CanonicalNotification event, long notificationId) {
        if (event.customerId() == null || event.sourceEventId() == null) {
            return Optional.empty();
        }
        return jdbc.query("""
                SELECT id, source, source_event_id, occurred_at FROM notification_all
                WHERE customer_id = ? AND source = ? AND source_event_id = ? AND type = ? AND id < ?
                ORDER BY id LIMIT 1""",
                (row, i) -> new Cancellation(row.getLong(1), row.getString(2), row.getString(3),
                        row.getTimestamp(4) == null ? null : row.getTimestamp(4).toInstant()),
                event.customerId(), event.source(), event.sourceEventId(), event.type(), notificationId).stream().findFirst();
    }

    private static Instant instant(String text) {
        try {
            return text == null ? null : OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
