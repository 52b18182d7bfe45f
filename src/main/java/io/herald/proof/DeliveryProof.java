package io.herald.proof;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.herald.console.AuditTrail;
import io.herald.console.ViewerMasking;
import io.herald.config.MailSettings;
import io.herald.config.OpsWebhookSettings;
import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import io.herald.identity.CustomerNames;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Proof of delivery for one notification: what was sent to whom, when, through which channel and provider, with
 * the provider's message id, every attempt, any receipt, every operator action, and a SHA-256 digest of each
 * rendered content as the ledger stores it (delivery_content.subject and .rendered_body, the text a template
 * produced for that delivery), so a copy kept elsewhere can be checked against it later.
 *
 * <p>Masked per role as the console is: viewers see recipients with emails and phone numbers masked, and reasons, comments,
 * provider answers and the rendered text with the customer's names masked too (as the timeline shows them); the digests
 * are always of the content as stored, never of the masked copy.
 */
@Component
public class DeliveryProof {

    /** How the proof was read: every field is the ledger's, or a note of what it does not hold. */
    public static final List<String> NOTES = List.of(
            "contentSha256 and subjectSha256 are SHA-256 (lower-case hex) of the UTF-8 bytes of renderedBody and subject exactly as an"
                    + " operator's or admin's copy of this proof gives them (no byte-order mark, no newline added, line ends as in the text):"
                    + " the text the ledger stores for each delivery, with emails and phone numbers masked as Herald keeps it, not the bytes"
                    + " the provider received. An email's HTML part is not stored and no digest covers it: it is rendered when the mail is"
                    + " sent, from the type's own HTML template when it has one (its words may differ from the text's), else from the"
                    + " text before masking.",
            "The digests are of the text stored for the delivery: a retry stores what its latest attempt sent in place of the earlier"
                    + " text; a resend renders the message again when it is sent (with the templates and customer details of that moment)"
                    + " and its text is not stored, so no digest covers what a resend sent.",
            "recipient is the address as the ledger keeps it (masked when it was recorded); the full address is not stored per delivery.",
            "receipt is the provider's delivery report that settled the delivery (DELIVERED, BOUNCED, UNDELIVERED or COMPLAINED), dated"
                    + " when Herald received it; every report a provider sent, settling or not, is also listed as an attempt with that state"
                    + " or the provider's status as its outcome."
                    + " No receipt means no such report came: SENT then means only that the provider accepted the message.",
            "provider names the provider Herald is configured with now; the provider message id is the one it answered then.");

    /** The states only a provider's delivery report sets (DeliveryLedger.receipt). */
    private static final List<String> RECEIPT_STATES = List.of("DELIVERED", "BOUNCED", "UNDELIVERED", "COMPLAINED");

    public record Proof(long notificationId, String idempotencyKey, String type, String source, String sourceEventId,
                        String customerId, String state, Instant occurredAt, Instant receivedAt, Instant generatedAt,
                        String viewedAs, boolean masked, List<Delivery> deliveries, List<Action> operatorActions,
                        List<Suppression> suppressions, List<TicketNote> ticketNotes, List<String> notes, String payloadRemoved) {
    }

    /** Said on a viewer's copy, whose texts are masked: hashing them does not give the digests, which are of the stored text. */
    static final String VIEWER_NOTE = "This copy was made for a viewer: its subject, renderedBody, reasons and comments are masked"
            + " (names, emails, phone numbers), so the SHA-256 of the subject and renderedBody shown here does not equal subjectSha256"
            + " and contentSha256; an operator's or admin's copy shows the stored text the digests can be checked against.";

    private static List<String> notes(String payloadRemoved, boolean masked) {
        List<String> notes = new java.util.ArrayList<>(NOTES);
        if (masked) {
            notes.add(0, VIEWER_NOTE);
        }
        if (payloadRemoved == null) {
            return List.copyOf(notes);
        }
        notes.add(0, payloadRemoved + ": the rendered subjects and bodies are no longer stored, so they and their digests are not"
                + " shown; who, when, through which provider, the provider message ids, attempts and operator actions are kept.");
        return List.copyOf(notes);
    }

    public record Delivery(long id, String channel, String provider, String recipient, String state, String reason,
                           Instant createdAt, Instant sentAt, Instant updatedAt, String providerMessageId,
                           String subject, String subjectSha256, String renderedBody, String contentSha256,
                           List<Attempt> attempts, List<Resend> resends, Receipt receipt) {
    }

    public record Attempt(Instant at, String outcome, Integer providerStatus, String reason) {
    }

    public record Resend(long id, String requestedBy, Instant requestedAt, String comment, String outcome, String providerMessageId,
                         String reason) {
    }

    public record Receipt(String state, Instant at) {
    }

    public record Action(Instant at, String actor, String action, String target, long targetId, String comment, String outcome) {
    }

    /**
     * An address this notification's delivery reports put on the suppression list (a hard bounce, a spam complaint, a dead
     * number): later messages of that channel to it are skipped until an admin lifts it (when, by whom, why).
     */
    public record Suppression(String channel, String address, String reason, Instant since, Instant liftedAt, String liftedBy,
                              String liftComment) {
    }

    /**
     * A private note on the customer's helpdesk ticket about an outcome of a delivery (Two-way support notes): its text once
     * posted (state POSTED), else why it was not (PENDING, FAILED, CANCELLED).
     */
    public record TicketNote(String channel, String outcome, String ticketId, String state, String text, String reason,
                             Instant createdAt, Instant postedAt) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final ViewerMasking masking;
    private final CustomerNames customerNames;
    private final Map<String, String> providers;

    public DeliveryProof(JdbcTemplate jdbc, AuditTrail audit, ViewerMasking masking, CustomerNames customerNames,
                         MailSettings mail, SmsSettings sms, PushSettings push, OpsWebhookSettings ops) {
        String mailHost = mail.host();
        String smsUrl = sms.url();
        String pushUrl = push.url();
        String opsUrl = ops.url();
        this.jdbc = jdbc;
        this.audit = audit;
        this.masking = masking;
        this.customerNames = customerNames;
        this.providers = Map.of(
                "email", "SMTP server" + at(mailHost),
                "sms", "SMS provider (Twilio-style Messages API)" + at(host(smsUrl)),
                "push", "push provider (FCM HTTP v1-style)" + at(host(pushUrl)),
                "in_app", "Herald's in-app inbox",
                "ops_webhook", "ops webhook (Slack-style incoming webhook)" + at(host(opsUrl)));
    }

    public Optional<Proof> of(long notificationId, boolean masked, String viewedAs) {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT id, idempotency_key, type, source, source_event_id, customer_id, state, occurred_at, received_at,
                       r.removed_at AS payload_removed_at, r.removed_by AS payload_removed_by
                FROM notification_all n LEFT JOIN notification_payload_removal r ON r.notification_id = n.id WHERE n.id = ?""", notificationId);
        if (rows.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> n = rows.get(0);
        // Past herald.retention.payloads, or the customer erased: the rendered content is gone, the record of what happened stays.
        String removed = io.herald.retention.PayloadRemoved.of((String) n.get("payload_removed_by"), (Timestamp) n.get("payload_removed_at"));
        // A viewer reads the rendered messages with the customer's names masked too ("Hello J•••,"), as on the customer page.
        List<String> names = masked ? customerNames.of((String) n.get("customer_id")) : List.of();
        List<Delivery> deliveries = jdbc.query("""
                SELECT d.id, channel, state, reason, recipient_masked, c.subject, c.rendered_body, provider_message_id,
                       created_at, sent_at, updated_at
                FROM delivery_all d LEFT JOIN delivery_content c ON c.delivery_id = d.id WHERE d.notification_id = ? ORDER BY d.id""",
                (row, i) -> delivery(row, masked, names), notificationId);
        // An erasure of the customer is recorded against the customer, not the notification; it removed this proof's content,
        // so who did it, when and why are listed with the other actions, in time order.
        List<AuditTrail.Action> recorded = new java.util.ArrayList<>(audit.forNotification(notificationId));
        String customer = (String) n.get("customer_id");
        (customer == null ? List.<Long>of() : jdbc.queryForList("SELECT id FROM customer_erasure WHERE customer_id = ?", Long.class, customer))
                .forEach(erasure -> recorded.addAll(audit.forTarget("customer", erasure).stream()
                        .filter(a -> a.action().equals("ERASE")).toList()));
        recorded.sort(java.util.Comparator.comparing(AuditTrail.Action::actedAt).thenComparing(AuditTrail.Action::id));
        List<Action> actions = recorded.stream()
                .map(a -> new Action(a.actedAt(), a.actor(), a.action(), a.target(), a.targetId(), message(a.comment(), masked, names),
                        message(a.outcome(), masked, names)))
                .toList();
        // As the timeline shows them: the addresses its receipts suppressed, and the notes on the customer's ticket.
        List<Suppression> suppressions = jdbc.query("""
                SELECT s.channel, s.address_masked, s.reason, s.since, s.lifted_at, s.lifted_by, s.lift_comment
                FROM suppression s JOIN delivery_receipt r ON r.id = s.receipt_id JOIN delivery_all d ON d.id = r.delivery_id
                WHERE d.notification_id = ? ORDER BY s.id""", (s, i) -> new Suppression(s.getString("channel"),
                text(s.getString("address_masked"), masked), message(s.getString("reason"), masked, names),
                instant(s.getTimestamp("since")), instant(s.getTimestamp("lifted_at")), s.getString("lifted_by"),
                message(s.getString("lift_comment"), masked, names)), notificationId);
        List<TicketNote> ticketNotes = jdbc.query("""
                SELECT d.channel, t.outcome, t.ticket_id, t.state, t.body, t.reason, t.created_at, t.posted_at
                FROM ticket_note t JOIN delivery_all d ON d.id = t.delivery_id WHERE d.notification_id = ? ORDER BY t.id""",
                (t, i) -> new TicketNote(t.getString("channel"), t.getString("outcome"), t.getString("ticket_id"), t.getString("state"),
                        message(t.getString("body"), masked, names), message(t.getString("reason"), masked, names),
                        instant(t.getTimestamp("created_at")), instant(t.getTimestamp("posted_at"))), notificationId);
        return Optional.of(new Proof(notificationId, (String) n.get("idempotency_key"), (String) n.get("type"), (String) n.get("source"),
                (String) n.get("source_event_id"), (String) n.get("customer_id"), (String) n.get("state"),
                instant((Timestamp) n.get("occurred_at")), instant((Timestamp) n.get("received_at")), Instant.now(), viewedAs, masked,
                deliveries, actions, suppressions, ticketNotes, notes(removed, masked), removed));
    }

    private Delivery delivery(ResultSet row, boolean masked, List<String> names) throws SQLException {
        long id = row.getLong("id");
        String channel = row.getString("channel");
        String state = row.getString("state");
        String subject = row.getString("subject");
        String body = row.getString("rendered_body");
        List<Attempt> attempts = jdbc.query("SELECT attempted_at, outcome, provider_status, reason FROM delivery_attempt"
                        + " WHERE delivery_id = ? ORDER BY id",
                (a, i) -> new Attempt(instant(a.getTimestamp("attempted_at")), a.getString("outcome"),
                        a.getObject("provider_status", Integer.class), message(a.getString("reason"), masked, names)), id);
        List<Resend> resends = jdbc.query("SELECT id, requested_by, requested_at, comment, outcome, provider_message_id, reason"
                        + " FROM delivery_resend WHERE delivery_id = ? ORDER BY id",
                (r, i) -> new Resend(r.getLong("id"), r.getString("requested_by"), instant(r.getTimestamp("requested_at")),
                        message(r.getString("comment"), masked, names), r.getString("outcome"), r.getString("provider_message_id"),
                        message(r.getString("reason"), masked, names)), id);
        Instant updated = instant(row.getTimestamp("updated_at"));
        // Only a provider's report sets these states (issue 13); it is dated by its attempt row, the delivery's own row may change later.
        Instant reported = attempts.stream().filter(a -> state.equals(a.outcome()))
                .map(Attempt::at).reduce((first, last) -> last).orElse(updated);
        Receipt receipt = RECEIPT_STATES.contains(state) ? new Receipt(state, reported) : null;
        return new Delivery(id, channel, providers.getOrDefault(channel, channel), text(row.getString("recipient_masked"), masked),
                state, message(row.getString("reason"), masked, names), instant(row.getTimestamp("created_at")),
                instant(row.getTimestamp("sent_at")), updated, row.getString("provider_message_id"),
                message(subject, masked, names), sha256(subject), message(body, masked, names), sha256(body), attempts, resends, receipt);
    }

    /** SHA-256 (hex) of the text's UTF-8 bytes; null when nothing is stored. */
    public static String sha256(String text) {
        if (text == null) {
            return null;
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private String message(String text, boolean masked, List<String> names) {
        return masked && text != null ? masking.message(text, names) : text;
    }

    private String text(String text, boolean masked) {
        return masked && text != null ? masking.text(text) : text;
    }

    private static Instant instant(Timestamp at) {
        return at == null ? null : at.toInstant();
    }

    private static String at(String host) {
        return host == null || host.isBlank() ? "" : " at " + host;
    }

    private static String host(String url) {
        try {
            return url == null || url.isBlank() ? null : URI.create(url.strip()).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
