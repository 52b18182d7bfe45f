package io.herald.schedule;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationCatalog.Reminders;
import io.herald.schedule.CancelledAppointments.Cancellation;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Whether a booking repeats one Herald already has: a booking is keyed by its start as the source wrote it
 * ({@code crm:appointment.scheduled:<id>:<startsAt>}), so the same booking written again with its start in another offset
 * ("19:30:00Z" for "14:30:00-05:00") was a second confirmation and a second set of reminders. It is a repeat when the
 * customer's latest booking of the appointment admitted before it starts at the same instant and nothing cancelled or
 * moved the appointment between the two at the source.
 */
@Component
public class RepeatedBookings {

    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;

    public RepeatedBookings(NotificationCatalog catalog, JdbcTemplate jdbc) {
        this.catalog = catalog;
        this.jdbc = jdbc;
    }

    /** The earlier booking {@code booking} (admitted as {@code notificationId}, starting at {@code startsAt}) repeats, if any. */
    public Optional<Cancellation> earlier(Reminders plan, CanonicalNotification booking, long notificationId, Instant startsAt) {
        Object appointment = booking.data() == null ? null : booking.data().get(plan.appointment());
        if (appointment == null || booking.customerId() == null || booking.occurredAt() == null) {
            return Optional.empty();
        }
        record Booked(Cancellation booking, String startsAt) {
        }
        Optional<Booked> latest = jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at, p.data ->> ? FROM notification n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ? AND n.id < ? AND p.data ->> ? = ?
                ORDER BY n.id DESC LIMIT 1""",
                (row, i) -> new Booked(new Cancellation(row.getLong(1), row.getString(2), row.getString(3),
                        row.getTimestamp(4).toInstant()), row.getString(5)),
                plan.of(), booking.customerId(), booking.type(), notificationId, plan.appointment(), String.valueOf(appointment))
                .stream().findFirst();
        if (latest.isEmpty() || !startsAt.equals(instant(latest.get().startsAt()))) {
            return Optional.empty();
        }
        List<String> changes = new ArrayList<>(catalog.movesOf(booking.type()));
        changes.addAll(catalog.cancellationsOf(booking.type()));
        Long changedSince = jdbc.queryForObject("""
                SELECT count(*) FROM notification n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ANY(?) AND n.occurred_at >= ? AND p.data ->> ? = ?""",
                Long.class, booking.customerId(), changes.toArray(String[]::new), Timestamp.from(latest.get().booking().occurredAt()),
                plan.appointment(), String.valueOf(appointment));
        return changedSince != null && changedSince > 0 ? Optional.empty() : Optional.of(latest.get().booking());
    }

    private static Instant instant(String text) {
        try {
            return text == null ? null : OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
