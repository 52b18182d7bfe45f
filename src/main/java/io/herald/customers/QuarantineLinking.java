package io.herald.customers;

import java.time.Instant;

import io.herald.console.ActionRefused;
import io.herald.console.AuditTrail;
import io.herald.identity.CustomerDirectory;
import io.herald.ingest.QuarantineRedrive;
import io.herald.ledger.StoredText;
import io.herald.ledger.UnroutedEvents;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * An operator links a quarantined event's unknown source id (a Zendesk requester, a Stripe customer, a CRM account)
 * to an existing customer and re-drives the event in the same step (issue 13 point 4), audited as LINK on the event:
 * who, when, the comment, what was linked and what the re-drive did. Later events with that id resolve through the link.
 * An event that names its customer only by email has no id to link: it is assigned to the customer instead (this event
 * goes to them, nothing is linked, the email still matches no one later), audited as ASSIGN the same way.
 */
@Component
public class QuarantineLinking {

    /**
     * What the link did, for the operator: the re-drive's result, the id now linked (null when nothing was) and the action
     * recorded: LINK, or ASSIGN for an event that names its customer only by email (assigned to the customer, nothing linked).
     */
    public record Result(long id, String status, String outcome, String reason, String notificationKey, Long notificationId,
                         String linkedSystem, String linkedExternalId, String customerId, String message, String action) {
    }

    private final UnroutedEvents unrouted;
    private final QuarantineRedrive redrive;
    private final CustomerDirectory directory;
    private final AuditTrail audit;
    private final JdbcTemplate jdbc;

    public QuarantineLinking(UnroutedEvents unrouted, QuarantineRedrive redrive, CustomerDirectory directory, AuditTrail audit,
                             JdbcTemplate jdbc) {
        this.unrouted = unrouted;
        this.redrive = redrive;
        this.directory = directory;
        this.audit = audit;
        this.jdbc = jdbc;
    }

    /** Refused (ActionRefused) when the event is unknown (404) or not open; BadLink when the request itself is unusable. */
    public Result link(long eventId, String customerId, String actor, String comment) {
        Instant started = Instant.now();
        UnroutedEvents.Unrouted event = unrouted.find(eventId).orElseThrow(() -> new ActionRefused("no quarantined event " + eventId, true));
        if (customerId == null || customerId.isBlank()) {
            throw new BadLink("say which customer: customerId is required");
        }
        if (comment == null || comment.isBlank()) {
            throw new BadLink("say why: linking an id or assigning an event to a customer needs a comment for the record");
        }
        if (!"identity".equals(event.step())) {
            throw new ActionRefused("event " + eventId + " was quarantined at step " + event.step() + ", not for a customer Herald could"
                    + " not match: linking a customer does not help. Correct the event at its source or the mapping, then re-drive it", false);
        }
        String customer = customerId.strip();
        if (directory.find(customer).isEmpty()) {
            throw new BadLink(directory.erasedOn(customer).map(erased -> "customer " + customer + " was erased from Herald on " + erased)
                    .orElse("customer " + StoredText.label(customer, 64) + " is not in Herald's customer directory; choose an existing"
                            + " customer (find them under Customers)"));
        }
        QuarantineRedrive.Linked done;
        try {
            done = redrive.redrive(event, customer, "linked by " + actor + ": " + comment.strip());
        } catch (QuarantineRedrive.NotRedrivable e) {
            throw new ActionRefused(e.getMessage(), false);
        }
        QuarantineRedrive.Result result = done.result();
        Long notificationId = result.notificationKey() == null ? null : jdbc.query(
                "SELECT id FROM notification_all WHERE idempotency_key = ?", (row, n) -> row.getLong(1), result.notificationKey())
                .stream().findFirst().orElse(null);
        boolean redriven = "REDRIVEN".equals(result.status());
        String action = done.assigned() == null ? "LINK" : "ASSIGN";
        String outcome = what(done, customer, redriven)
                + (redriven ? "; re-driven: " + result.outcome() : "; still quarantined: " + result.reason());
        audit.record(started, actor, action, "quarantine", eventId, notificationId, comment, outcome);
        return new Result(result.id(), result.status(), result.outcome(), result.reason(), result.notificationKey(), notificationId,
                done.linked() == null ? null : done.linked().system(), done.linked() == null ? null : done.linked().externalId(),
                customer, outcome, action);
    }

    /** What was linked or assigned, in words, for the record and the operator. */
    private static String what(QuarantineRedrive.Linked done, String customer, boolean redriven) {
        if (done.linked() != null) {
            return "linked " + done.linked().describe() + " to customer " + customer;
        }
        if (done.assigned() != null) {
            return redriven ? "assigned to customer " + customer + " (the event names its customer only by email; nothing linked)"
                    : "not assigned to customer " + customer;
        }
        return "nothing linked (the event names no source id to link)";
    }

    /** The link request cannot be acted on as sent (400): no customer, no comment, a customer not in the directory. */
    public static class BadLink extends RuntimeException {
        BadLink(String reason) {
            super(reason);
        }
    }
}
