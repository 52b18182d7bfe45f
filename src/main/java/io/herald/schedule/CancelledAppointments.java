package io.herald.schedule;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.Reminders;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Whether an appointment was cancelled at the source before an event about it (a booking, a move) is handled: a booking
 * quarantined and re-driven by an operator after the cancellation was handled, or read after it, must neither confirm nor
 * remind of an appointment that no longer stands. A cancellation counts when Herald has it in its ledger for the same
 * customer and appointment and it occurred at the source at or after the event; one that occurred before it does not (a
 * booking made after a cancellation books the appointment id again, and stands).
 */
@Component
public class CancelledAppointments {

    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** The cancellation in Herald's ledger that makes an event about its appointment pointless. */
    public record Cancellation(long notificationId, String source, String sourceEventId, Instant occurredAt) {

        /** "crm event crm-outbox-42 (notification 123, 2026-12-03 10:05 UTC)": what an operator looks up. */
        public String words() {
            return source + " event " + sourceEventId + " (notification " + notificationId
                    + (occurredAt == null ? "" : ", " + WHEN.format(occurredAt)) + ")";
        }
    }

    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;

    public CancelledAppointments(NotificationCatalog catalog, JdbcTemplate jdbc) {
        this.catalog = catalog;
        this.jdbc = jdbc;
    }

    /**
     * The cancellation {@code cancellation} repeats, if it is one: the customer's latest earlier cancellation of the same
     * appointment in Herald's ledger (occurred before it at the source, or at the same instant and admitted before it), with
     * no booking or move of the appointment between the two. A CRM that writes one cancellation twice (two outbox rows) told
     * the customer twice; a cancellation after the appointment was booked or moved again is news, and is not a repeat.
     */
    public Optional<Cancellation> repeated(Reminders plan, CanonicalNotification cancellation, long notificationId) {
        Object appointment = cancellation.data() == null ? null : cancellation.data().get(plan.appointment());
        if (appointment == null || cancellation.customerId() == null || cancellation.occurredAt() == null) {
            return Optional.empty();
        }
        java.sql.Timestamp at = java.sql.Timestamp.from(cancellation.occurredAt());
        Optional<Cancellation> earlier = jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND n.id <> ? AND (n.occurred_at < ? OR (n.occurred_at = ? AND n.id < ?))
                  AND p.data ->> ? = ?
                ORDER BY n.occurred_at DESC, n.id DESC LIMIT 1""",
                (row, i) -> new Cancellation(row.getLong(1), row.getString(2), row.getString(3), row.getTimestamp(4).toInstant()),
                cancellation.customerId(), catalog.cancellationsOf(plan.booking()).toArray(String[]::new), notificationId, at, at,
                notificationId, plan.appointment(), String.valueOf(appointment)).stream().findFirst();
        if (earlier.isEmpty()) {
            return earlier;
        }
        List<String> booking = new java.util.ArrayList<>(catalog.movesOf(plan.booking()));
        booking.add(plan.booking());
        Long bookedSince = jdbc.queryForObject("""
                SELECT count(*) FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND (n.occurred_at, %s) > (?, ?) AND (n.occurred_at, %s) <= (?, ?)
                  AND p.data ->> ? = ?""".formatted(SourceOrder.of("n"), SourceOrder.of("n")),
                Long.class, cancellation.customerId(), booking.toArray(String[]::new), java.sql.Timestamp.from(earlier.get().occurredAt()),
                SourceOrder.ofEvent(earlier.get().sourceEventId()), at, SourceOrder.of(cancellation), plan.appointment(), String.valueOf(appointment));
        return bookedSince != null && bookedSince > 0 ? Optional.empty() : earlier;
    }

    /**
     * What makes the appointment {@code cancellation} names stand again, if Herald had it before the cancellation (admitted
     * first: the cancellation was read late or re-driven): the latest booking or move of the same appointment for the same
     * customer that occurred after the cancellation at the source. "appointment APT-17 was booked again by crm event
     * crm-outbox-43 (notification 124, 2026-12-03 10:07 UTC)", or "... was moved by ...". Only when one of those stands at
     * the time the cancellation names (or moved away from it), or the cancellation names no time: a notice "your appointment
     * on Monday 10:00 is cancelled" after the appointment was booked again for Friday is true, and without it the customer,
     * told of Monday and of Friday, would still expect Monday.
     */
    public Optional<String> standsAgain(Reminders plan, CanonicalNotification cancellation, long notificationId, String appointmentWords) {
        Object appointment = cancellation.data() == null ? null : cancellation.data().get(plan.appointment());
        if (appointment == null || cancellation.customerId() == null || cancellation.occurredAt() == null) {
            return Optional.empty();
        }
        List<String> bookingOrMove = new java.util.ArrayList<>(catalog.movesOf(plan.booking()));
        bookingOrMove.add(plan.booking());
        record Later(String words, Instant startsAt, Instant movedFrom) {
        }
        List<Later> later = jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at, n.type, p.data ->> ?, p.data ->> 'previousStartsAt'
                FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND n.id < ? AND (n.occurred_at, %s) > (?, ?) AND p.data ->> ? = ?
                ORDER BY n.occurred_at DESC, %s DESC, n.id DESC LIMIT 100""".formatted(SourceOrder.of("n"), SourceOrder.of("n")),
                (row, i) -> new Later(appointmentWords + (plan.booking().equals(row.getString(5)) ? " was booked again by " : " was moved by ")
                        + new Cancellation(row.getLong(1), row.getString(2), row.getString(3), row.getTimestamp(4).toInstant()).words(),
                        instant(row.getString(6)), plan.booking().equals(row.getString(5)) ? null : instant(row.getString(7))),
                plan.of(), cancellation.customerId(), bookingOrMove.toArray(String[]::new), notificationId,
                java.sql.Timestamp.from(cancellation.occurredAt()), SourceOrder.of(cancellation), plan.appointment(),
                String.valueOf(appointment));
        if (later.isEmpty()) {
            return Optional.empty();
        }
        Instant cancelled = instant(cancellation.data().get(plan.of()));
        boolean atThatTime = cancelled == null || later.stream().anyMatch(one -> cancelled.equals(one.startsAt()) || cancelled.equals(one.movedFrom()));
        return atThatTime ? Optional.of(later.get(0).words()) : Optional.empty();
    }

    /** An ISO-8601 time with an offset as an instant; null when missing or not one. */
    private static Instant instant(Object value) {
        try {
            return value == null ? null : java.time.OffsetDateTime.parse(String.valueOf(value).strip()).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    /**
     * The first cancellation of the appointment {@code event} names that occurred at or after it, if Herald has one; at the
     * same instant, one written after it by the source (SourceOrder: a CRM's later outbox row of the same transaction).
     */
    public Optional<Cancellation> atOrAfter(Reminders plan, CanonicalNotification event) {
        List<String> cancelling = catalog.cancellationsOf(plan.booking());
        Object appointment = event.data() == null ? null : event.data().get(plan.appointment());
        if (cancelling.isEmpty() || appointment == null || event.customerId() == null || event.occurredAt() == null) {
            return Optional.empty();
        }
        // The customer's notifications (an index) of the cancelling types; the appointment is in the payload row's data.
        return jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND (n.occurred_at, %s) >= (?, ?) AND p.data ->> ? = ?
                ORDER BY n.occurred_at, %s, n.id LIMIT 1""".formatted(SourceOrder.of("n"), SourceOrder.of("n")),
                (row, i) -> new Cancellation(row.getLong(1), row.getString(2), row.getString(3), row.getTimestamp(4).toInstant()),
                event.customerId(), cancelling.toArray(String[]::new), java.sql.Timestamp.from(event.occurredAt()), SourceOrder.of(event),
                plan.appointment(), String.valueOf(appointment)).stream().findFirst();
    }
}
