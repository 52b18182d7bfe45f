package io.herald.console;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.herald.identity.CustomerNames;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * One notification as an operator needs to read it: what it is, each channel's delivery and its
 * state, and a timeline in time order (occurred at the source, received and mapped, every attempt
 * with its reason, every operator action, and the event's quarantine history when it was re-driven),
 * with its payload history (the raw source event and the canonical notification).
 */
@Component
public class NotificationTimeline {

    /** {@code instance}: for an operator's action, the Herald instance that performed it (null otherwise, or if not recorded). */
    public record Entry(Instant at, String channel, String what, String detail, String actor, String instance) {

        public Entry(Instant at, String channel, String what, String detail, String actor) {
            this(at, channel, what, detail, actor, null);
        }

        public Entry withDetail(String detail) {
            return new Entry(at, channel, what, detail, actor, instance);
        }
    }

    public record Delivery(long id, String channel, String state, String reason, String recipient, int attempts,
                           Instant updatedAt, Instant windowMissedAt, boolean retryable, boolean dismissable, boolean resendable) {
    }

    public record View(long id, String idempotencyKey, String source, String sourceEventId, String type, String customerId,
                       String orderId, String ticketId, String state, Instant occurredAt, Instant receivedAt, Instant windowDeadline,
                       int duplicatesSuppressed, List<Delivery> deliveries, List<Entry> timeline,
                       String rawPayload, String canonical) {
    }

    private static final java.time.format.DateTimeFormatter UTC_MINUTE =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(java.time.ZoneOffset.UTC);

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final ViewerMasking masking;
    private final CustomerNames customerNames;
    private final ResendOrdinals resendOrdinals;

    public NotificationTimeline(JdbcTemplate jdbc, AuditTrail audit, ViewerMasking masking, CustomerNames customerNames,
                                ResendOrdinals resendOrdinals) {
        this.customerNames = customerNames;
        this.resendOrdinals = resendOrdinals;
        this.jdbc = jdbc;
        this.audit = audit;
        this.masking = masking;
    }

    /** The source event as it arrived, or, once removed (retention, erasure), the sentence that says so. */
    private static String rawPayload(Map<String, Object> n) {
        String removed = io.herald.retention.PayloadRemoved.of((String) n.get("removed_by"), (java.sql.Timestamp) n.get("removed_at"));
        return removed != null ? removed : (String) n.get("raw_payload");
    }

    public Optional<View> of(long notificationId, boolean viewer) {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT n.id, idempotency_key, source, source_event_id, type, customer_id, state, occurred_at, n.received_at, window_deadline,
                       duplicates_suppressed, canonical -> 'refs' ->> 'orderId' AS order_id, canonical -> 'refs' ->> 'ticketId' AS ticket_id,
                       p.raw_payload, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical, r.removed_by, r.removed_at
                FROM notification_all n
                LEFT JOIN notification_payload p ON p.notification_id = n.id AND p.received_at = n.received_at
                LEFT JOIN notification_payload_removal r ON r.notification_id = n.id
                WHERE n.id = ?""", notificationId);
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> n = rows.get(0);
        // For a viewer, the customer's names in free text (a provider's answer, a ticket's subject, a comment) are masked too.
        Shown masked = new Shown(viewer, viewer ? customerNames.of((String) n.get("customer_id")) : List.of());
        List<Entry> timeline = new ArrayList<>();
        Instant occurred = instant(n.get("occurred_at"));
        Instant received = instant(n.get("received_at"));
        timeline.add(new Entry(occurred, null, "Occurred at the source", n.get("source") + " event " + n.get("source_event_id"), null));
        timeline.add(new Entry(received, null, "Received and mapped", "to " + n.get("type") + " for customer " + n.get("customer_id"), null));
        int duplicates = ((Number) n.get("duplicates_suppressed")).intValue();
        if (duplicates > 0) {
            timeline.add(new Entry(received, null, "Duplicates suppressed",
                    duplicates + " repeat(s) of this event arrived later and were not sent again", null));
        }
        quarantineHistory(notificationId, timeline, masked);

        List<Delivery> deliveries = jdbc.query("""
                SELECT id, channel, state, reason, recipient_masked, attempts, updated_at, window_missed_at FROM delivery_all
                WHERE notification_id = ? ORDER BY id""", (row, i) -> {
            String state = row.getString("state");
            return new Delivery(row.getLong("id"), row.getString("channel"), state, masked(row.getString("reason"), masked),
                    row.getString("recipient_masked"), row.getInt("attempts"), row.getTimestamp("updated_at").toInstant(),
                    instant(row.getTimestamp("window_missed_at")),
                    state.equals("FAILED") || state.equals("PARKED"),
                    state.equals("FAILED") || state.equals("PARKED") || state.equals("UNCERTAIN"),
                    OperatorActions.RESENDABLE.contains(state));
        }, notificationId);
        for (Delivery delivery : deliveries) {
            jdbc.query("SELECT attempted_at, outcome, provider_status, reason FROM delivery_attempt WHERE delivery_id = ? ORDER BY id",
                    row -> {
                        int status = row.getInt("provider_status");
                        String provider = row.wasNull() ? "" : " (provider status " + status + ")";
                        timeline.add(new Entry(row.getTimestamp("attempted_at").toInstant(), delivery.channel(),
                                row.getString("outcome") + provider, masked(row.getString("reason"), masked), null));
                    }, delivery.id());
            if (delivery.windowMissedAt() != null) {
                timeline.add(new Entry(delivery.windowMissedAt(), delivery.channel(), "Send window missed",
                        "the " + n.get("type") + " window ended at " + instant(n.get("window_deadline")), null));
            }
            if (delivery.state().equals("SKIPPED") || delivery.state().equals("UNCERTAIN")) {
                timeline.add(new Entry(delivery.updatedAt(), delivery.channel(), delivery.state(), delivery.reason(), null));
            }
        }
        scheduledSend(notificationId, timeline, masked);
        receiptHistory(notificationId, (String) n.get("customer_id"), received, timeline, masked);
        ticketNotes(notificationId, timeline, masked);
        for (AuditTrail.Action action : audit.forNotification(notificationId)) {
            if (action.target().equals("quarantine")) {
                continue;   // shown with the quarantine history
            }
            String channel = deliveries.stream().filter(d -> d.id() == action.targetId()).map(Delivery::channel).findFirst().orElse(null);
            String who = action.target().equals("approval") || action.action().startsWith("RESEND_") ? "Approval: "   // approve, reject, expire (issue 16)
                    : action.target().equals("scheduled_send") && "Herald".equals(action.actor()) ? "Herald: "   // a superseding event cancelled it
                    : "Operator: ";
            timeline.add(new Entry(action.actedAt(), channel, who + action.action(), actionDetail(action, masked), action.actor(), action.instance()));
        }
        timeline.sort(Comparator.comparing(Entry::at, Comparator.nullsFirst(Comparator.naturalOrder())));
        // Resends by their place among their delivery's resends ("2nd resend: sent"), not by their ids, which count every delivery's.
        Map<Long, Integer> resends = resendOrdinals.ofNotification(notificationId);
        timeline.replaceAll(e -> e.withDetail(ResendOrdinals.named(e.detail(), resends)));
        List<Delivery> named = deliveries.stream().map(d -> new Delivery(d.id(), d.channel(), d.state(), ResendOrdinals.named(d.reason(), resends),
                d.recipient(), d.attempts(), d.updatedAt(), d.windowMissedAt(), d.retryable(), d.dismissable(), d.resendable())).toList();
        return Optional.of(new View(notificationId, (String) n.get("idempotency_key"), (String) n.get("source"),
                (String) n.get("source_event_id"), (String) n.get("type"), (String) n.get("customer_id"),
                (String) n.get("order_id"), (String) n.get("ticket_id"), (String) n.get("state"), occurred, received,
                instant(n.get("window_deadline")), duplicates,
                named, timeline, masking.payload(rawPayload(n), masked.on()),
                masking.payload((String) n.get("canonical"), masked.on())));
    }

    /**
     * Issue 14: when the notification started to wait (scheduled until a time, or held for an operator) and why; what ended
     * the wait is in its deliveries' attempts (FIRED, MOVED, RELEASED, CANCELLED, DISMISSED) and, for a person's or a
     * superseding event's decision, in the audit trail.
     */
    private void scheduledSend(long notificationId, List<Entry> timeline, Shown masked) {
        jdbc.query("SELECT created_at, fire_at, reason FROM scheduled_send WHERE notification_id = ?", row -> {
            Timestamp fireAt = row.getTimestamp("fire_at");
            timeline.add(new Entry(row.getTimestamp("created_at").toInstant(), null,
                    fireAt == null ? "Held for an operator" : "Scheduled for " + UTC_MINUTE.format(fireAt.toInstant()),
                    masked(row.getString("reason"), masked), null));
        }, notificationId);
    }

    /**
     * Issue 13 point 6: the private notes written (or waiting, or refused) on the helpdesk ticket for this notification's
     * delivery outcomes (io.herald.helpdesk.TicketNotes): a posted one shows its text, the others why.
     */
    private void ticketNotes(long notificationId, List<Entry> timeline, Shown masked) {
        jdbc.query("""
                SELECT d.channel, t.outcome, t.ticket_id, t.state, t.attempts, t.body, t.reason, t.created_at, t.updated_at
                FROM ticket_note t JOIN delivery_all d ON d.id = t.delivery_id WHERE d.notification_id = ? ORDER BY t.id""", row -> {
            String state = row.getString("state");
            String what = "Ticket note " + switch (state) {
                case "POSTED" -> "added to ticket " + row.getString("ticket_id");
                case "FAILED" -> "for ticket " + row.getString("ticket_id") + " FAILED";
                case "CANCELLED" -> "for ticket " + row.getString("ticket_id") + " not posted";
                default -> "for ticket " + row.getString("ticket_id") + " waiting";
            } + " (" + row.getString("outcome") + ")";
            String detail = state.equals("POSTED") ? row.getString("body")
                    : row.getString("reason") == null ? "queued, not posted yet" : row.getString("reason");
            timeline.add(new Entry(row.getTimestamp(state.equals("PENDING") && row.getInt("attempts") == 0 ? "created_at" : "updated_at").toInstant(),
                    row.getString("channel"), what, masked(detail, masked), null));
        }, notificationId);
    }

    /**
     * Issue 13: the addresses this notification's receipts suppressed (a hard bounce, a spam complaint, a dead number) and their
     * lifting; the push tokens removed because the provider no longer knows them and each device a push went to; the customer's SMS consent changes by
     * STOP / START (the one in force when the notification arrived, and later ones).
     * Receipts themselves are attempts of their delivery, shown above.
     */
    private void receiptHistory(long notificationId, String customerId, Instant received, List<Entry> timeline, Shown masked) {
        jdbc.query("""
                SELECT s.since, s.channel, s.address_masked, s.reason, s.lifted_at, s.lifted_by, s.lift_comment
                FROM suppression s JOIN delivery_receipt r ON r.id = s.receipt_id JOIN delivery_all d ON d.id = r.delivery_id
                WHERE d.notification_id = ? ORDER BY s.id""", row -> {
            String channel = row.getString("channel");
            timeline.add(new Entry(row.getTimestamp("since").toInstant(), channel, "Address suppressed",
                    masked("address " + row.getString("address_masked") + ": " + row.getString("reason")
                            + "; later " + channel + " messages to it are skipped", masked), null));
            if (row.getTimestamp("lifted_at") != null) {
                timeline.add(new Entry(row.getTimestamp("lifted_at").toInstant(), channel, "Suppression lifted",
                        masked("\"" + row.getString("lift_comment") + "\" → the address may be sent to again", masked), row.getString("lifted_by")));
            }
        }, notificationId);
        jdbc.query("""
                SELECT r.received_at, r.reason FROM delivery_receipt r JOIN delivery_all d ON d.id = r.delivery_id
                WHERE d.notification_id = ? AND r.outcome = 'TOKEN_REMOVED' ORDER BY r.id""", row -> {
            timeline.add(new Entry(row.getTimestamp("received_at").toInstant(), "push", "Push token removed",
                    masked(row.getString("reason"), masked), null));
        }, notificationId);
        // Each device a push went to (its masked token), as its answer left it; a dead token is the removal above.
        jdbc.query("""
                SELECT s.updated_at, s.token_masked, s.state, s.provider_message_id, s.reason, s.resend_id FROM push_device_send s
                JOIN delivery_all d ON d.id = s.delivery_id WHERE d.notification_id = ? AND s.state <> 'TOKEN_REMOVED' ORDER BY s.id""", row -> {
            String id = row.getString("provider_message_id");
            String detail = switch (row.getString("state")) {
                case "SENT" -> "accepted by the push provider" + (id == null ? "" : " (" + id + ")");
                case "REFUSED" -> "not sent: " + row.getString("reason");
                case "RETRY_ASKED" -> "refused it before (" + row.getString("reason") + "); asked once more by an operator's retry";
                default -> "called, no answer recorded: see the delivery's state (parked: this device is called again;"
                        + " uncertain: it may have arrived)";
            };
            timeline.add(new Entry(row.getTimestamp("updated_at").toInstant(), "push", "Push to device " + row.getString("token_masked")
                    + (row.getLong("resend_id") > 0 ? " (resend)" : ""), masked(detail, masked), null));
        }, notificationId);
        if (customerId == null || received == null) {
            return;
        }
        jdbc.query("""
                SELECT received_at, keyword, outcome, reason FROM inbound_sms
                WHERE customer_id = ? AND action IN ('OPT_OUT', 'OPT_IN')
                  AND received_at >= coalesce((SELECT max(received_at) FROM inbound_sms WHERE customer_id = ?
                                               AND action IN ('OPT_OUT', 'OPT_IN') AND received_at <= ?), '-infinity')
                ORDER BY id LIMIT 20""", row -> {
            String outcome = row.getString("outcome");
            String what = switch (outcome) {
                case "CONSENT_OFF" -> "SMS consent off";
                case "CONSENT_ON" -> "SMS consent on";
                default -> "SMS consent unchanged";
            };
            timeline.add(new Entry(row.getTimestamp("received_at").toInstant(), "sms", what + " (customer texted " + row.getString("keyword") + ")",
                    masked(row.getString("reason"), masked), "customer by SMS"));
        }, customerId, customerId, Timestamp.from(received));
    }

    /** When this notification came out of a re-drive: the quarantine it came from, and who re-drove (linked, assigned) it. */
    private void quarantineHistory(long notificationId, List<Entry> timeline, Shown masked) {
        for (AuditTrail.Action action : audit.forNotification(notificationId)) {
            if (!action.target().equals("quarantine")) {
                continue;
            }
            jdbc.query("SELECT created_at, step, reason FROM unrouted_event WHERE id = ?", row -> {
                timeline.add(new Entry(row.getTimestamp("created_at").toInstant(), null, "Quarantined at " + row.getString("step"),
                        "event " + action.targetId() + ": " + masked(row.getString("reason"), masked), null));
            }, action.targetId());
            timeline.add(new Entry(action.actedAt(), null, "Operator: " + action.action(), actionDetail(action, masked), action.actor(), action.instance()));
        }
    }

    /** An operator's comment and the outcome, as the timeline shows them (masked for viewers: comments are free text). */
    private String actionDetail(AuditTrail.Action action, Shown masked) {
        return masked((action.comment() == null ? "" : "\"" + action.comment() + "\" ") + "→ " + action.outcome(), masked);
    }

    private String masked(String text, Shown masked) {
        return masked.on() ? masking.message(text, masked.names()) : text;
    }

    /** Whether the reader is a viewer, and the customer's names to mask for them. */
    private record Shown(boolean on, List<String> names) {
    }

    private static Instant instant(Object value) {
        return value == null ? null : ((Timestamp) value).toInstant();
    }
}
