package io.herald.schedule;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog.Reminders;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Whether a move of an appointment reaches Herald after a newer move of the same appointment (events out of order: an
 * older outbox row read late, or re-driven from quarantine after a later move went through). Such a move no longer holds:
 * it must neither take the reminders back to its time nor tell the customer of that time. A move counts as newer when
 * dispatch has handled it (ROUTED: one only received, read in the same batch after this one, has moved nothing yet, and
 * moves taken in their order are each told), for the same customer and appointment, of the same type, and it occurred at
 * the source strictly later, or at the same instant and written after it (SourceOrder: a CRM's later outbox row of one
 * transaction); two of the same instant from a source with no such order are both handled, as before. Not seen: an older and a newer move
 * read in the same dispatch batch in the other order (the newer is not ROUTED until the batch ends).
 */
@Component
public class NewerMoves {

    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    private final JdbcTemplate jdbc;

    public NewerMoves(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** "crm event crm-outbox-43 (notification 124, 2026-12-03 10:07 UTC)": the newest later move, if Herald has one. */
    public Optional<String> after(Reminders plan, CanonicalNotification move) {
        Object appointment = move.data() == null ? null : move.data().get(plan.appointment());
        if (appointment == null || move.customerId() == null || move.occurredAt() == null) {
            return Optional.empty();
        }
        return jdbc.query("""
                SELECT n.id, n.source, n.source_event_id, n.occurred_at FROM notification_all n
                JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                WHERE n.customer_id = ? AND n.type = ? AND n.state = 'ROUTED' AND (n.occurred_at, %1$s) > (?, ?) AND p.data ->> ? = ?
                ORDER BY n.occurred_at DESC, %1$s DESC, n.id DESC LIMIT 1""".formatted(SourceOrder.of("n")),
                (row, i) -> row.getString(2) + " event " + row.getString(3) + " (notification " + row.getLong(1) + ", "
                        + WHEN.format(row.getTimestamp(4).toInstant()) + ")",
                move.customerId(), move.type(), java.sql.Timestamp.from(move.occurredAt()), SourceOrder.of(move), plan.appointment(),
                String.valueOf(appointment)).stream().findFirst();
    }
}
