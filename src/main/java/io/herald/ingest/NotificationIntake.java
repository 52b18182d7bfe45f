package io.herald.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.ContactChanges;
import io.herald.identity.ContactUpdate;
import io.herald.identity.Customer;
import io.herald.identity.CustomerLinks;
import io.herald.identity.EmailOnlyEvents;
import io.herald.identity.ExternalId;
import io.herald.identity.OperatorAssignments;
import io.herald.identity.OperatorLinks;
import io.herald.ledger.NotificationLedger;
import io.herald.ledger.UnroutedEvents;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.InvalidNotification;
import io.herald.notification.MappingOutputInvalid;
import io.herald.notification.NotificationValidator;
import io.herald.ops.HeraldMetrics;
import io.herald.ops.SendWindows;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * What happens to a mapped source event: ignored (recorded with its reason), or validated,
 * resolved to a known customer and admitted to the ledger. It sets the exchange property
 * {@value #OUTCOME} to IGNORED, DUPLICATE or ROUTE so the route decides what to forward.
 * A CRM contact change is applied to the customer directory instead (DIRECTORY_UPDATED, or
 * STALE_CONTACT_UPDATE when a newer change is already there); what of it was older than what Herald holds (the entry, or
 * a link a newer change or an operator wrote) is recorded as IGNORED with the reason.
 */
@Component
public class NotificationIntake {

    public static final String OUTCOME = "heraldOutcome";
    public static final String SOURCE = "heraldSource";
    /** Exchange property the mapping routes set to the mapping file they run, for a reason that blames the mapping. */
    public static final String MAPPING = "heraldMapping";
    public static final String RAW = "heraldRaw";
    public static final String KEY = "heraldIdempotencyKey";
    /** Set when this exchange (a re-drive) admitted its notification as new: the row is its own to withdraw. */
    public static final String ADMITTED_NOW = "heraldAdmittedNow";
    /** Exchange property: in a batch, the notification to admit with the rest of the batch (NotificationLedger.ToAdmit). */
    public static final String TO_ADMIT = "heraldToAdmit";
    /** Exchange property: in a batch, the source system's id the notification names its customer by (identity links). */
    public static final String LINK = "heraldCustomerLink";
    /**
     * Exchange property set by a link-and-re-drive: link the event's source id to this customer before resolving it, or,
     * when the event names its customer only by email (no source id to link), assign it to this customer.
     */
    public static final String LINK_TO = "heraldLinkTo";
    /** Exchange property with LINK_TO: who links, kept as the link's origin. */
    public static final String LINK_BY = "heraldLinkBy";
    /** Exchange property set when LINK_TO linked an id: the ExternalId linked. */
    public static final String LINKED = "heraldLinked";
    /** Exchange property set when LINK_TO was taken as an assignment (an email-only event): the customer id it names. */
    public static final String ASSIGNED = "heraldAssigned";

    private final ObjectMapper json;
    private final NotificationValidator validator;
    private final NotificationLedger ledger;
    private final UnroutedEvents unrouted;
    private final SendWindows sendWindows;
    private final HeraldMetrics metrics;
    private final CustomerLinks links;
    private final ContactChanges contactChanges;
    private final OperatorLinks operatorLinks;
    private final EmailOnlyEvents emailOnly;
    private final OperatorAssignments assignments;

    public NotificationIntake(ObjectMapper json, NotificationValidator validator,
                              NotificationLedger ledger, UnroutedEvents unrouted, SendWindows sendWindows, HeraldMetrics metrics,
                              CustomerLinks links, ContactChanges contactChanges, OperatorLinks operatorLinks,
                              EmailOnlyEvents emailOnly, OperatorAssignments assignments) {
        this.links = links;
        this.operatorLinks = operatorLinks;
        this.emailOnly = emailOnly;
        this.assignments = assignments;
        this.contactChanges = contactChanges;
        this.json = json;
        this.validator = validator;
        this.ledger = ledger;
        this.unrouted = unrouted;
        this.sendWindows = sendWindows;
        this.metrics = metrics;
    }

    public void admit(Exchange exchange) throws JsonProcessingException {
        String source = exchange.getProperty(SOURCE, String.class);
        String raw = exchange.getProperty(RAW, String.class);
        JsonNode mapped = json.readTree(exchange.getMessage().getBody(String.class));
        if (mapped.hasNonNull("ignored")) {
            unrouted.ignored(source, mapped.path("sourceEventId").asText(null), mapped.get("ignored").asText(), raw);
            exchange.setProperty(OUTCOME, "IGNORED");
            return;
        }
        if (mapped.hasNonNull("contactUpdate")) {
            String sourceEventId = mapped.path("sourceEventId").asText("?");
            ContactUpdate update = validator.contactUpdate(mapped.get("contactUpdate"), source, sourceEventId);
            // What of it is older than what Herald holds is kept as IGNORED with the reason, in the change's transaction (under
            // the customer's lock, so an erasure that follows finds the copy and clears it).
            ContactChanges.Outcome outcome = contactChanges.apply(update, mapped.get("contactUpdate").get("externalIds"),
                    source + " contact.updated " + sourceEventId, (step, reason) ->
                            unrouted.skipped(source, mapped.path("sourceEventId").asText(null), step, reason, raw));
            exchange.setProperty(OUTCOME, outcome.applied() ? "DIRECTORY_UPDATED" : "STALE_CONTACT_UPDATE");
            return;
        }
        CanonicalNotification notification;
        try {
            notification = validator.validate(mapped, raw);
        } catch (MappingOutputInvalid e) {
            throw new InvalidNotification(e.getMessage() + ". The mapping wrote these fields so (" + exchange.getProperty(MAPPING,
                    "the " + source + " mapping in herald.mappings-dir", String.class) + "), not the source: correct the mapping (for a type,"
                    + " or add it to the notification catalog) and restart Herald (or reload the CRM's routes, for the CRM mapping), then re-drive the event; it is kept");
        }
        ExternalId link = CustomerLinks.linkOf(mapped);
        String linkTo = exchange.getProperty(LINK_TO, String.class);
        if (linkTo != null && link != null) {
            // An operator links the event's unknown source id from its quarantine page, then this re-drive resolves through it.
            operatorLinks.link(link, linkTo, exchange.getProperty(LINK_BY, "an operator", String.class), notification.source(),
                    notification.sourceEventId());
            exchange.setProperty(LINKED, link);
        }
        boolean inBatch = exchange.getProperty(IntakeBatch.ADMITTED) != null;
        if (!inBatch && (notification.customerId() != null || link != null)) {
            String customerId = links.resolve(notification.source(), notification.sourceEventId(),
                    new CustomerLinks.Claim(link, notification.customerId()));
            notification = notification.forCustomer(customerId);
        } else if (notification.customerId() == null && link == null) {
            if (mapped.path("customerLink").isObject()) {
                throw CustomerLinks.unusable(notification.source(), notification.sourceEventId(), mapped.get("customerLink"));
            }
            Customer customer;
            if (linkTo != null) {
                // An operator assigns the event from its quarantine page: it goes to that customer; nothing is linked.
                exchange.setProperty(ASSIGNED, linkTo);
                customer = assignments.assign(linkTo, notification.source(), notification.sourceEventId());
            } else {
                customer = emailOnly.resolve(notification.source(), notification.sourceEventId(), mapped.path("customerEmail").asText());
            }
            notification = notification.forCustomer(customer.customerId());
        }
        String canonical = json.writeValueAsString(notification);
        NotificationLedger.ToAdmit admit = new NotificationLedger.ToAdmit(notification, canonical, raw, sendWindows.deadlineOf(notification),
                io.herald.tracing.TraceParent.current(),   // tracing (issue 15): the senders continue this trace
                exchange.getProperty(IntakeBatch.SOURCE_RECORD, NotificationLedger.SourceRecord.class));   // null for a re-drive
        exchange.setProperty(KEY, notification.idempotencyKey());
        exchange.getMessage().setHeader("kafka.KEY", notification.customerId());
        exchange.getMessage().setBody(canonical);
        if (inBatch) {
            // In a source consumer's batch: the customer is looked up (through its link) and the ledger admits it with
            // the rest of the batch (IntakeBatch.publish), one query and one statement for all.
            exchange.setProperty(TO_ADMIT, admit);
            exchange.setProperty(LINK, link);
            exchange.setProperty(OUTCOME, "ROUTE");
            return;
        }
        NotificationLedger.Admission admission = ledger.admit(notification, canonical, raw, admit.windowDeadline());
        if (admission == NotificationLedger.Admission.NEW) {
            metrics.notification(notification.type());
            exchange.setProperty(ADMITTED_NOW, true);   // this re-drive made the ledger row: withdrawn if it cannot be published
        }
        exchange.setProperty(OUTCOME, admission == NotificationLedger.Admission.DUPLICATE ? "DUPLICATE" : "ROUTE");
    }

}
