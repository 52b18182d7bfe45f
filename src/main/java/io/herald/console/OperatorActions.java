package io.herald.console;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.herald.dispatch.DeliveryResend;
import io.herald.ingest.QuarantineRedrive;
import io.herald.kafka.InfrastructureFaults;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.UnroutedEvents;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What an operator can do about a failure, from the console or the API, each action audited
 * (who, when, what, comment, outcome) before the answer goes back:
 * retry a failed or parked delivery (same provider idempotency key, so never a second copy),
 * re-drive a quarantined event, dismiss either with a comment, resend deliberately (an attempt of its
 * own, claimed atomically: a double click or two operators send one copy; see DeliveryResend), and
 * retry a filtered set at once.
 */
@Component
public class OperatorActions {

    /** What an action did, in words for the person who asked. */
    public record Outcome(String action, String target, long targetId, Long notificationId, String state, String message) {
    }

    /**
     * A resend is a second copy, so it is offered only for a delivery that reached the customer once: SENT, DELIVERED
     * (the provider confirmed it), or UNCERTAIN (it may have; the person who checked with the customer decides). Never for
     * one that did not: FAILED or PARKED (retry it), DISMISSED (an operator closed it), SKIPPED or BOUNCED (nothing reached them).
     */
    static final java.util.Set<String> RESENDABLE = java.util.Set.of("SENT", "DELIVERED", "UNCERTAIN");

    /** Bulk retries act on at most this many deliveries at once; the operator repeats for more. */
    static final int BULK_LIMIT = 500;

    private final JdbcTemplate jdbc;
    private final DeliveryLedger deliveries;
    private final UnroutedEvents unrouted;
    private final QuarantineRedrive redrive;
    private final DeliveryResend resend;
    private final FailureSearch search;
    private final AuditTrail audit;
    private final io.herald.retention.PayloadRemovals removals;
    private final io.herald.dispatch.PushDeviceRecords pushDevices;
    private final io.herald.ledger.LedgerArchive archive;
    /** A retry or dismissal and its audit row commit together (or neither does). */
    private final TransactionTemplate transaction;

    public OperatorActions(JdbcTemplate jdbc, DeliveryLedger deliveries, UnroutedEvents unrouted, QuarantineRedrive redrive,
                           DeliveryResend resend, FailureSearch search, AuditTrail audit, TransactionTemplate transaction,
                           io.herald.retention.PayloadRemovals removals, io.herald.dispatch.PushDeviceRecords pushDevices,
                           io.herald.ledger.LedgerArchive archive) {
        this.jdbc = jdbc;
        this.archive = archive;
        this.pushDevices = pushDevices;
        this.removals = removals;
        this.transaction = transaction;
        this.deliveries = deliveries;
        this.unrouted = unrouted;
        this.redrive = redrive;
        this.resend = resend;
        this.search = search;
        this.audit = audit;
    }

    public Outcome retry(long deliveryId, String actor, String comment) {
        return transaction.execute(status -> retryNow(deliveryId, actor, comment));
    }

    private Outcome retryNow(long deliveryId, String actor, String comment) {
        Instant started = Instant.now();
        Map<String, Object> delivery = delivery(deliveryId);
        String state = (String) delivery.get("state");
        if ("UNCERTAIN".equals(state)) {
            throw new ActionRefused("delivery " + deliveryId + " is UNCERTAIN: it may already have reached the customer."
                    + " Check with them; if it did not arrive, use resend (explicit and confirmed), or dismiss it.", false);
        }
        String onItsWay = "FAILED".equals(state) || "PARKED".equals(state) ? deliveries.chainStepOnItsWay(deliveryId) : null;
        if (onItsWay != null) {
            throw new ActionRefused("delivery " + deliveryId + " is a step of a first-success chain whose " + onItsWay + " is on its way"
                    + " to the customer or may have reached them, and retrying " + delivery.get("channel") + " as well could reach them"
                    + " twice. Let it finish (or dismiss it), then retry this one if the customer still needs it", false);
        }
        payloadKept(delivery, deliveryId, "retried");   // retention, erasure (issue 16)
        String reason = "retry requested by " + actor + (comment == null || comment.isBlank() ? "" : ": " + comment.strip());
        if (!deliveries.queueRetry(deliveryId, reason)) {
            throw new ActionRefused("delivery " + deliveryId + " is " + state + "; only FAILED or PARKED deliveries can be retried", false);
        }
        pushDevices.retryRefused(deliveryId);   // a push's devices that refused it are asked once more (automatic re-drives do not)
        String message = delivery.get("channel") + " delivery " + deliveryId + " queued for another attempt now"
                + " with the same idempotency key (it was refused or never taken before, or its channel's provider honours that key,"
                + " so the customer gets it once; one that may have reached them unannounced is UNCERTAIN and never retried); the"
                + " customer's quiet hours and the provider's rate"
                + " still apply, and its outcome follows on the notification's page: if it waits for the morning or the provider"
                + " still refuses it, it is parked again with the reason";
        audit.record(started, actor, "RETRY", "delivery", deliveryId, notificationId(delivery), comment, "queued");
        return new Outcome("RETRY", "delivery", deliveryId, notificationId(delivery), "PARKED", message);
    }

    /**
     * How many deliveries a bulk retry of this filter would take now: its own search, so the console's "retry all N" names
     * what the button does, not the rows shown (a page of newer quarantined events hid older failures it would retry too).
     * More than BULK_LIMIT when there are more than one retry takes; 0 for a filter a retry cannot act on.
     */
    public int bulkRetryWouldTake(FailureSearch.Filter filter) {
        try {
            return search.find(filter.retryable(), BULK_LIMIT + 1).size();
        } catch (ActionRefused.InvalidInput notRetryable) {
            return 0;
        }
    }

    /** Retries every FAILED or PARKED delivery matching the filter (at most BULK_LIMIT), each audited. */
    public List<Outcome> bulkRetry(FailureSearch.Filter filter, String actor, String comment) {
        List<Outcome> outcomes = new ArrayList<>();
        String bulkComment = "bulk retry (" + filter.describe() + ")" + (comment == null || comment.isBlank() ? "" : ": " + comment.strip());
        for (FailureSearch.Failure failure : search.find(filter.retryable(), BULK_LIMIT)) {
            try {
                outcomes.add(retry(failure.id(), actor, bulkComment));
            } catch (ActionRefused changedMeanwhile) {
                // Settled by someone or something else since the search; nothing to retry.
            } catch (RuntimeException e) {
                if (outcomes.isEmpty() || !InfrastructureFaults.isInfrastructure(e)) {
                    throw e;   // nothing done yet (an outage is answered 503 in words), or not an outage
                }
                throw new BulkRetryCut(outcomes, e);
            }
        }
        return outcomes;
    }

    public Outcome dismissDelivery(long deliveryId, String actor, String comment) {
        return transaction.execute(status -> dismissDeliveryNow(deliveryId, actor, comment));
    }

    private Outcome dismissDeliveryNow(long deliveryId, String actor, String comment) {
        Instant started = Instant.now();
        requireComment(comment, "dismiss");
        Map<String, Object> delivery = delivery(deliveryId);
        if (!deliveries.dismiss(deliveryId, "dismissed by " + actor + ": " + comment.strip())) {
            throw new ActionRefused("delivery " + deliveryId + " is " + delivery.get("state")
                    + "; only FAILED, PARKED or UNCERTAIN deliveries can be dismissed", false);
        }
        audit.record(started, actor, "DISMISS", "delivery", deliveryId, notificationId(delivery), comment, "DISMISSED");
        return new Outcome("DISMISS", "delivery", deliveryId, notificationId(delivery), "DISMISSED",
                delivery.get("channel") + " delivery " + deliveryId + " dismissed");
    }

    public DeliveryResend.Result resend(long deliveryId, boolean confirmed, String actor, String comment) throws IOException {
        Instant started = Instant.now();
        Map<String, Object> delivery = delivery(deliveryId);
        String state = (String) delivery.get("state");
        if (!RESENDABLE.contains(state)) {
            throw new ActionRefused(notResendable(deliveryId, delivery.get("channel") + " delivery", state), false);
        }
        payloadKept(delivery, deliveryId, "resent");   // retention, erasure (issue 16)
        if (!confirmed) {
            throw new ActionRefused("a resend sends the customer a second copy; confirm it explicitly", false);
        }
        requireComment(comment, "resend");   // a deliberate second copy says why, as a dismissal does
        DeliveryResend.Result result;
        try {
            result = resend.resend(deliveryId, actor, comment);
        } catch (DeliveryResend.NotResendable e) {
            throw new ActionRefused(e.getMessage(), e.unknown());
        }
        audit.record(started, actor, "RESEND", "delivery", deliveryId, notificationId(delivery), comment, result.message());
        return result;
    }

    public QuarantineRedrive.Result redrive(long eventId, String actor, String comment) {
        Instant started = Instant.now();
        UnroutedEvents.Unrouted event = unrouted.find(eventId)
                .orElseThrow(() -> new ActionRefused("no quarantined event " + eventId, true));
        QuarantineRedrive.Result result;
        try {
            result = redrive.redrive(event);
        } catch (QuarantineRedrive.NotRedrivable e) {
            throw new ActionRefused(e.getMessage(), false);
        }
        Long notificationId = result.notificationKey() == null ? null : jdbc.query(
                "SELECT id FROM notification_all WHERE idempotency_key = ?", (row, n) -> row.getLong(1), result.notificationKey())
                .stream().findFirst().orElse(null);
        audit.record(started, actor, "REDRIVE", "quarantine", eventId, notificationId, comment,
                "REDRIVEN".equals(result.status()) ? "re-driven: " + result.outcome() : "still quarantined: " + result.reason());
        return result;
    }

    public Outcome dismissQuarantined(long eventId, String actor, String comment) {
        return transaction.execute(status -> dismissQuarantinedNow(eventId, actor, comment));
    }

    private Outcome dismissQuarantinedNow(long eventId, String actor, String comment) {
        Instant started = Instant.now();
        requireComment(comment, "dismiss");
        UnroutedEvents.Unrouted event = unrouted.find(eventId)
                .orElseThrow(() -> new ActionRefused("no quarantined event " + eventId, true));
        if (!unrouted.dismiss(eventId)) {
            throw new ActionRefused("event " + eventId + " is " + event.outcome() + "/" + event.status()
                    + "; only open quarantined events can be dismissed", false);
        }
        audit.record(started, actor, "DISMISS", "quarantine", eventId, null, comment, "DISMISSED");
        return new Outcome("DISMISS", "quarantine", eventId, null, "DISMISSED", "event " + eventId + " dismissed");
    }

    /** Why a delivery cannot be resent, and what to do instead. */
    static String notResendable(long deliveryId, String what, String state) {
        String why = switch (state) {
            case "FAILED", "PARKED" -> "it never reached the customer, so there is no copy to send again; retry it instead";
            case "DISMISSED" -> "an operator dismissed it; nothing reached the customer to send again";
            case "SKIPPED" -> "it was not to be sent (see its reason), so nothing reached the customer to send again";
            case "BOUNCED" -> "it bounced, so it never reached the customer; a copy to the same address would bounce too";
            default -> "it is still in progress; only a delivery that reached the customer can be resent";
        };
        return what + " " + deliveryId + " is " + state + ": " + why;
    }

    /** A delivery whose notification's payload was removed cannot be rendered again: refused, saying when and why it went. */
    private void payloadKept(Map<String, Object> delivery, long deliveryId, String done) {
        removals.ofNotification(notificationId(delivery)).ifPresent(removed -> {
            throw new ActionRefused("delivery " + deliveryId + " cannot be " + done + ": its notification's " + removed, false);
        });
    }

    /** The delivery an action is on, back in the working set first if it was archived (its outcome follows there). */
    private Map<String, Object> delivery(long deliveryId) {
        archive.bringBackDelivery(deliveryId);
        return jdbc.queryForList("SELECT notification_id, channel, state FROM delivery WHERE id = ?", deliveryId).stream()
                .findFirst().orElseThrow(() -> new ActionRefused("no delivery " + deliveryId, true));
    }

    private static Long notificationId(Map<String, Object> delivery) {
        return ((Number) delivery.get("notification_id")).longValue();
    }

    private static void requireComment(String comment, String action) {
        if (comment == null || comment.isBlank()) {
            throw new ActionRefused.InvalidInput("say why: a " + action + " needs a comment for the record");   // 400, whatever the state
        }
    }
}
