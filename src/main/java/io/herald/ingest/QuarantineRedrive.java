package io.herald.ingest;

import java.util.Set;

import io.herald.ledger.UnroutedEvents;
import io.herald.ledger.UnroutedEvents.Unrouted;
import io.herald.retention.PayloadRemovals;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.springframework.stereotype.Component;

/**
 * Runs a quarantined event's raw payload through its source's mapping route again
 * (direct:&lt;source&gt;-mapping: mapping, validation, identity, ledger), after an operator fixed
 * the mapping, the directory or the data. Dedup still applies: a re-drive never sends a second copy.
 */
@Component
public class QuarantineRedrive {

    /** Sources with a mapping route of their own (routes/*-ingest, routes/crm-outbox). */
    static final Set<String> SOURCES = Set.of("support", "billing", "crm");

    /** What happened: the event's new status, the outcome of this run and, when quarantined again, why. */
    public record Result(long id, String status, String outcome, String reason, String notificationKey) {
    }

    /** The event is not (or no longer) something to re-drive: already re-driven, ignored, unknown source. */
    public static class NotRedrivable extends RuntimeException {
        NotRedrivable(String reason) {
            super(reason);
        }
    }

    private final UnroutedEvents unrouted;
    private final ProducerTemplate camel;
    private final PayloadRemovals removals;

    public QuarantineRedrive(UnroutedEvents unrouted, ProducerTemplate camel, PayloadRemovals removals) {
        this.unrouted = unrouted;
        this.camel = camel;
        this.removals = removals;
    }

    public Result redrive(Unrouted event) {
        return redrive(event, null, null).result();
    }

    /**
     * A re-drive that links the event's source id (e.g. its Zendesk requester) to a customer first; linked: what was linked,
     * or null; assigned: the customer an event naming its customer only by email was to go to (no id to link), or null.
     */
    public record Linked(Result result, io.herald.identity.ExternalId linked, String assigned) {
    }

    /**
     * Links the event's unknown source id to the customer and re-drives it, in one step: the mapping says which id
     * (customerLink), notification-intake writes the link before it resolves the customer. Nothing is linked when
     * the event does not get that far (a mapping failure) or names no source id; one that names its customer only by
     * email is assigned to the customer instead (this event goes to them; nothing is linked).
     */
    public Linked redrive(Unrouted event, String linkToCustomer, String linkedBy) {
        if (!"QUARANTINED".equals(event.outcome()) || !"OPEN".equals(event.status())) {
            throw new NotRedrivable("event " + event.id() + " is " + event.outcome() + "/" + event.status()
                    + "; only open quarantined events can be re-driven");
        }
        if (!SOURCES.contains(event.source())) {
            throw new NotRedrivable("event " + event.id() + " comes from unknown source '" + event.source() + "'");
        }
        removals.ofEvent(event.id()).ifPresent(removed -> {
            throw new NotRedrivable("event " + event.id() + " cannot be re-driven: its " + removed
                    + "; ask the source to send it again if it still matters, or dismiss it");
        });
        Exchange done = camel.send("direct:" + event.source() + "-mapping", exchange -> {
            exchange.setProperty(Quarantine.REDRIVE_OF, event.id());
            if (linkToCustomer != null) {
                exchange.setProperty(NotificationIntake.LINK_TO, linkToCustomer);
                exchange.setProperty(NotificationIntake.LINK_BY, linkedBy);
            }
            exchange.getMessage().setBody(event.rawPayload());
        });
        if (done.getException() != null && org.apache.camel.util.ObjectHelper.getException(
                org.apache.camel.component.direct.DirectConsumerNotAvailableException.class, done.getException()) != null) {
            throw new NotRedrivable("event " + event.id() + " cannot be re-driven just now: a route it goes through ("
                    + event.source() + "'s mapping, or notification-intake) is not running, stopped or suspended from Hawtio's"
                    + " Camel tab; start it there, then re-drive the event. It stays in quarantine meanwhile");
        }
        String outcome = done.getProperty(NotificationIntake.OUTCOME, "UNKNOWN", String.class);
        io.herald.identity.ExternalId linked = done.getProperty(NotificationIntake.LINKED, io.herald.identity.ExternalId.class);
        String assigned = done.getProperty(NotificationIntake.ASSIGNED, String.class);
        if ("QUARANTINED".equals(outcome)) {
            return new Linked(new Result(event.id(), "OPEN", outcome, done.getProperty(Quarantine.REASON, String.class), null), linked, assigned);
        }
        if (done.getException() != null) {
            throw new IllegalStateException("re-drive of event " + event.id() + " failed: " + done.getException().getMessage(),
                    done.getException());
        }
        unrouted.redriven(event.id(), outcome);
        return new Linked(new Result(event.id(), "REDRIVEN", outcome, null, done.getProperty(NotificationIntake.KEY, String.class)), linked, assigned);
    }
}
