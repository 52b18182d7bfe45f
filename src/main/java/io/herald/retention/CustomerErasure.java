package io.herald.retention;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import io.herald.console.ActionRefused;
import io.herald.approval.Approvals;
import io.herald.approval.ResendApprovals;
import io.herald.console.AuditTrail;
import io.herald.helpdesk.TicketNotes;
import io.herald.identity.CustomerLock;
import io.herald.identity.CustomerNames;
import io.herald.schedule.ScheduledSends;
import io.herald.dispatch.PushDeviceRecords;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.StoredText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Erases one customer on request (DELETE /api/customers/{id}, the console's customer page; admin only), in one transaction:
 * their directory entry (name, email, phone, push tokens, preferences) and in-app inbox go; the payloads (notification_payload)
 * and rendered messages (delivery_content) of their notifications are deleted, the notifications marked so they read "payload
 * removed by erasure of the customer on &lt;date&gt;", and the raw payloads of quarantined events, dead letters and refused
 * requests that name them are replaced by that sentence; deliveries not yet sent are SKIPPED; their names (current and
 * former), addresses and phone numbers quoted in the free text of the rows that stay (reasons, providers' answers, operators'
 * and approvers' comments, the audit trail) read "(erased)" (FreeTextErasure); resends awaiting approval are withdrawn (ResendApprovals);
 * the text of the helpdesk ticket notes on their deliveries is removed and a note not posted yet is not posted (TicketNotes;
 * one already posted stays in the helpdesk, where the operator removes it). The rows
 * (states, reasons, counts) and the audit trail stay. A tombstone (customer_erasure) keeps the date, who and why, so a later
 * event for the customer is quarantined with that reason (CustomerDirectory.notAdmitted) and without its payload. Events are
 * matched by the customer id as a JSON value, or by an operator's action that assigned or linked them to one of the
 * customer's notifications; an event that names the customer only by email and was never assigned is not found (its payload
 * goes with retention).
 * The erasure holds the customer's lock (CustomerLock) for its transaction, as a CRM contact change of the customer does,
 * so a contact change applied at the same moment either lands before the erasure (and is erased with the rest) or waits
 * and finds the tombstone; it never re-creates the customer.
 */
@Component
public class CustomerErasure {

    /** One erasure, as the tombstone keeps it. */
    public record Erasure(long id, String customerId, Instant erasedAt, String requestedBy, String comment, String removed) {
    }

    private static final Logger log = LoggerFactory.getLogger(CustomerErasure.class);

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final DeliveryLedger deliveries;
    private final AuditTrail audit;
    private final Approvals approvals;
    private final ScheduledSends scheduled;
    private final CustomerLock lock;
    private final ResendApprovals resendApprovals;
    private final TicketNotes ticketNotes;
    private final FreeTextErasure freeText;
    private final CustomerNames names;
    private final PushDeviceRecords pushDevices;

    public CustomerErasure(JdbcTemplate jdbc, TransactionTemplate transaction, DeliveryLedger deliveries, AuditTrail audit,
                           Approvals approvals, ScheduledSends scheduled, CustomerLock lock, ResendApprovals resendApprovals,
                           TicketNotes ticketNotes, FreeTextErasure freeText, CustomerNames names, PushDeviceRecords pushDevices) {
        this.pushDevices = pushDevices;
        this.names = names;
        this.freeText = freeText;
        this.lock = lock;
        this.resendApprovals = resendApprovals;
        this.ticketNotes = ticketNotes;
        this.approvals = approvals;
        this.scheduled = scheduled;
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.deliveries = deliveries;
        this.audit = audit;
    }

    public Optional<Erasure> find(String customerId) {
        return jdbc.query("SELECT * FROM customer_erasure WHERE customer_id = ?", (row, n) -> new Erasure(row.getLong("id"),
                row.getString("customer_id"), row.getTimestamp("erased_at").toInstant(), row.getString("requested_by"),
                row.getString("comment"), row.getString("counts")), customerId).stream().findFirst();
    }

    /** Erases the customer; refused (ActionRefused) without a comment, when already erased, or when Herald holds nothing of them. */
    public Erasure erase(String customerId, String actor, String comment) {
        if (comment == null || comment.isBlank()) {
            throw new ActionRefused("say why: an erasure needs a comment for the record (e.g. the customer's request and its reference)", false);
        }
        return transaction.execute(status -> eraseNow(customerId, actor, comment.strip()));
    }

    private boolean known(String customerId) {
        return !jdbc.queryForList("SELECT 1 FROM customer WHERE customer_id = ? UNION ALL"
                + " (SELECT 1 FROM notification_all WHERE customer_id = ? LIMIT 1)", customerId, customerId).isEmpty();
    }

    /**
     * Why nothing was erased for an id Herald does not hold. An id pasted with a space around it ("cus_1 ") is named with its
     * spaces, and with the customer Herald holds without them: shown as it is, the space could not be seen and the answer
     * read as "Herald holds nothing of this customer". Nothing is erased on a guess.
     */
    private String unknown(String customerId) {
        String stripped = io.herald.identity.CustomerDirectory.withoutSpacesAround(customerId);
        if (stripped.equals(customerId)) {
            return "no customer " + StoredText.label(customerId, 64) + " in Herald's directory or ledger";
        }
        return "no customer '" + StoredText.label(customerId, 64) + "' (with spaces around it) in Herald's directory or ledger;"
                + " customer ids are matched exactly" + (!stripped.isEmpty() && known(stripped)
                ? ", and Herald holds customer " + StoredText.label(stripped, 64) + ": erase that id" : "");
    }

    private Erasure eraseNow(String customerId, String actor, String comment) {
        // Its scans of quarantined events, dead letters and refused requests for the customer id can outlast the read timeout
        // that ends a hung connection (herald.infrastructure.db-read-timeout-s): this connection waits up to 30 minutes (the
        // pool sets the timeout back when it is returned).
        jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<Void>) con -> {
            con.setNetworkTimeout(Runnable::run, (int) java.time.Duration.ofMinutes(30).toMillis());
            return null;
        });
        // First, as a contact change of the customer does: one waits for the other, and a change that waited finds the tombstone.
        lock.hold(customerId);
        Instant now = Instant.now();
        find(customerId).ifPresent(done -> {
            throw new ActionRefused("customer " + customerId + " was already erased on "
                    + done.erasedAt().atZone(java.time.ZoneOffset.UTC).toLocalDate() + " by " + done.requestedBy(), false);
        });
        if (!known(customerId)) {
            throw new ActionRefused(unknown(customerId), true);
        }
        long id = jdbc.queryForObject("INSERT INTO customer_erasure (customer_id, requested_by, comment, counts) VALUES (?, ?, ?, '')"
                + " RETURNING id", Long.class, customerId, actor, comment);
        String removed = PayloadRemoved.sentence(PayloadRemoved.ERASURE, now);
        // Read before the directory entry goes: nothing else knows their names, addresses and tokens afterwards.
        ErasedText erase = erasedText(customerId);
        Map<String, Object> contact = jdbc.queryForList("SELECT email, phone FROM customer WHERE customer_id = ?", customerId).stream()
                .findFirst().orElse(Map.of());
        jdbc.update("DELETE FROM customer_link WHERE customer_id = ?", customerId);   // their ids in source systems go with the entry
        int directory = jdbc.update("DELETE FROM customer WHERE customer_id = ?", customerId);
        List<Long> notifications = jdbc.queryForList("""
                WITH erased AS (
                  UPDATE notification_all SET payload_removed_at = now(), payload_removed_by = 'erasure'
                  WHERE customer_id = ? RETURNING id, received_at),
                     payloads AS (
                  DELETE FROM notification_payload p USING erased WHERE p.notification_id = erased.id AND p.received_at = erased.received_at)
                SELECT id FROM erased""", Long.class, customerId);
        LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
        String notSent = "not sent: the customer was erased on " + today + " by " + actor;
        // Before the reasons the erasure writes: they name the customer id and the admin, which may look like a phone
        // number (9912345678) or be an email address (a single-sign-on login).
        int reasons = freeText.inNotifications(notifications, erase) + freeText.ofCustomer(customerId, erase)
                + freeText.ofAddresses((String) contact.get("email"), (String) contact.get("phone"), erase);
        int waiting = notifications.isEmpty() ? 0 : endWaiting(notifications, notSent);
        int resends = resendApprovals.withdrawFor(notifications, "withdrawn: customer " + customerId + " was erased on " + today
                + " by " + actor + "; not sent");
        int messages = notifications.isEmpty() ? 0 : deliveries.eraseRecipients(notifications, notSent);
        // Which of their devices got each push (masked token, token hash): gone with the deliveries' recipients.
        if (!notifications.isEmpty()) {
            pushDevices.forget(notifications);
        }
        // A sender's claim that scheduled one of theirs for the end of quiet hours while the erasure ran (its delivery is
        // SKIPPED just above) left its scheduled send waiting: ended too, so the Scheduled page does not list it.
        waiting += notifications.isEmpty() ? 0 : endWaiting(notifications, notSent);
        TicketNotes.Erased notes = ticketNotes.erase(notifications, "note text removed by erasure of the customer on " + today,
                "not posted: the customer was erased on " + today + " by " + actor);
        int inbox = jdbc.update("DELETE FROM inbox_message WHERE customer_id = ?", customerId);
        String named = namedIn(customerId);
        List<Long> events = new java.util.ArrayList<>(jdbc.queryForList("UPDATE unrouted_event SET raw_payload = ?, payload_removed_at = now(),"
                + " payload_removed_by = 'erasure' WHERE raw_payload ~ ? RETURNING id", Long.class, removed, named));
        // An event that names them otherwise (only by email, or by a source id whose link went with the entry) and that an
        // operator assigned or linked to them: its action names the notification it became.
        if (!notifications.isEmpty()) {
            events.addAll(jdbc.queryForList("""
                    UPDATE unrouted_event SET raw_payload = ?, payload_removed_at = now(), payload_removed_by = 'erasure'
                    WHERE id IN (SELECT target_id FROM operator_action WHERE target = 'quarantine' AND notification_id = ANY(?))
                      AND raw_payload IS DISTINCT FROM ? RETURNING id""", Long.class, removed, notifications.toArray(Long[]::new), removed));
        }
        List<Long> letters = jdbc.queryForList("UPDATE dead_letter SET payload = ?, payload_removed_at = now(),"
                + " payload_removed_by = 'erasure' WHERE payload ~ ? RETURNING id", Long.class, removed, named);
        List<Long> refused = jdbc.queryForList("UPDATE inbound_rejection SET body_excerpt = NULL WHERE body_excerpt ~ ? RETURNING id",
                Long.class, named);
        reasons += freeText.inEvents(events, erase) + freeText.inDeadLetters(letters, erase) + freeText.inRefused(refused, erase);
        // What they texted to Herald's number: the rows stay (the number's consent history), without the customer or the text.
        int texted = jdbc.update("UPDATE inbound_sms SET customer_id = NULL, excerpt = NULL WHERE customer_id = ?", customerId);
        String counts = String.format(Locale.ROOT, "directory entry %s, %d notification payloads and %d rendered messages removed, %d inbox messages"
                + " deleted, %d quarantined or ignored events, %d dead letters, %d refused request excerpts and %d texts to Herald's"
                + " number cleared", directory == 1 ? "deleted" : "not present", notifications.size(), messages, inbox, events.size(),
                letters.size(), refused.size(), texted) + (waiting == 0 ? "" : ", " + waiting + " notifications awaiting approval or a time ended")
                + (resends == 0 ? "" : ", " + resends + " resends awaiting approval withdrawn")
                + (notes.texts() == 0 ? "" : ", " + notes.texts() + " ticket note texts removed (" + notes.cancelled() + " not posted)")
                + (reasons == 0 ? "" : ", their names and addresses removed from " + reasons + " reasons and comments");
        jdbc.update("UPDATE customer_erasure SET counts = ? WHERE id = ?", counts, id);
        audit.record(now, actor, "ERASE", "customer", id, null, comment, "customer " + customerId + " erased: " + counts);
        log.info("Customer {} erased by {}: {}", customerId, actor, counts);
        return new Erasure(id, customerId, now, actor, comment, counts);
    }

    /** The customer's names (CustomerNames: current and former), email, phone number and push tokens, as the directory holds them. */
    private ErasedText erasedText(String customerId) {
        List<String> addresses = new java.util.ArrayList<>();
        jdbc.query("""
                SELECT email, phone, CASE WHEN jsonb_typeof(push_tokens) = 'array'
                                          THEN ARRAY(SELECT jsonb_array_elements_text(push_tokens)) END AS tokens
                FROM customer WHERE customer_id = ?""", row -> {
            addresses.add(row.getString("email"));
            addresses.add(row.getString("phone"));
            java.sql.Array tokens = row.getArray("tokens");
            if (tokens != null) {
                addresses.addAll(java.util.Arrays.asList((String[]) tokens.getArray()));
            }
        }, customerId);
        return new ErasedText(names.of(customerId), addresses);
    }

    /**
     * What of theirs still waits for a person or a time ends with the erasure, never sent: a notification awaiting approval
     * is withdrawn (approvers are no longer asked about an erased customer, and no expiry alert follows), a scheduled or held
     * one is cancelled (no timer releases it). Each audited as Herald's. Returns how many.
     */
    private int endWaiting(List<Long> notifications, String reason) {
        Long[] ids = notifications.toArray(Long[]::new);
        int ended = 0;
        for (Long id : jdbc.queryForList("SELECT notification_id FROM approval WHERE state = 'AWAITING' AND notification_id = ANY(?)",
                Long.class, (Object) ids)) {
            ended += approvals.withdraw(id, reason) ? 1 : 0;
        }
        for (Long id : jdbc.queryForList("SELECT notification_id FROM scheduled_send WHERE state IN ('SCHEDULED', 'HELD')"
                + " AND notification_id = ANY(?)", Long.class, (Object) ids)) {
            scheduled.cancel(id, ScheduledSends.HERALD, reason);
            ended++;
        }
        return ended;
    }

    /**
     * A PostgreSQL regular expression that finds the customer id as a JSON value in a raw payload: quoted ("cus_1", or
     * \"cus_1\" in a JSON string) or a bare number (requester_id: 9912), not as part of a longer id.
     */
    static String namedIn(String customerId) {
        String literal = customerId.chars().mapToObj(c -> Character.isLetterOrDigit(c) ? String.valueOf((char) c) : "\\" + (char) c)
                .collect(Collectors.joining());
        // Also inside a JSON string (\"cus_1\"): a payload kept as text because it was not JSON (a CRM outbox row, its start).
        return "(\"" + literal + "\\\\?\"|:[[:space:]]*" + literal + "[[:space:]]*[,}\\]])";
    }
}
