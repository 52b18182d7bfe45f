package io.herald.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.ContactUpdate;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.NotificationLedger;
import io.herald.ledger.UnroutedEvents;
import io.herald.notification.CanonicalNotification;
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
 * STALE_CONTACT_UPDATE when a newer change is already there).
 */
@Component
public class NotificationIntake {

    public static final String OUTCOME = "heraldOutcome";
    public static final String SOURCE = "heraldSource";
    public static final String RAW = "heraldRaw";
    public static final String KEY = "heraldIdempotencyKey";
    /** Exchange property: in a batch, the notification to admit with the rest of the batch (NotificationLedger.ToAdmit). */
    public static final String TO_ADMIT = "heraldToAdmit";

    private final ObjectMapper json;
    private final NotificationValidator validator;
    private final CustomerDirectory directory;
    private final NotificationLedger ledger;
    private final UnroutedEvents unrouted;
    private final SendWindows sendWindows;
    private final HeraldMetrics metrics;

    public NotificationIntake(ObjectMapper json, NotificationValidator validator, CustomerDirectory directory,
                              NotificationLedger ledger, UnroutedEvents unrouted, SendWindows sendWindows, HeraldMetrics metrics) {
        this.json = json;
        this.validator = validator;
        this.directory = directory;
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
            ContactUpdate update = validator.contactUpdate(mapped.get("contactUpdate"), source, mapped.path("sourceEventId").asText("?"));
            exchange.setProperty(OUTCOME, directory.apply(update) ? "DIRECTORY_UPDATED" : "STALE_CONTACT_UPDATE");
            return;
        }
        CanonicalNotification notification = validator.validate(mapped);
        if (notification.customerId() == null) {
            Customer customer = directory.resolveByEmail(notification.source(), notification.sourceEventId(), mapped.path("customerEmail").asText());
            notification = notification.forCustomer(customer.customerId());
        }
        String canonical = json.writeValueAsString(notification);
        NotificationLedger.ToAdmit admit = new NotificationLedger.ToAdmit(notification, canonical, raw, sendWindows.deadlineOf(notification),
                io.herald.tracing.TraceParent.current());   // tracing (issue 15): the senders continue this trace
        exchange.setProperty(KEY, notification.idempotencyKey());
        exchange.getMessage().setHeader("kafka.KEY", notification.customerId());
        exchange.getMessage().setBody(canonical);
        if (exchange.getProperty(IntakeBatch.ADMITTED) != null) {
            // In a source consumer's batch: the customer is looked up and the ledger admits it with the rest of the
            // batch (IntakeBatch.publish), one query and one statement for all.
            exchange.setProperty(TO_ADMIT, admit);
            exchange.setProperty(OUTCOME, "ROUTE");
            return;
        }
        directory.resolve(notification.source(), notification.sourceEventId(), notification.customerId());
        NotificationLedger.Admission admission = ledger.admit(notification, canonical, raw, admit.windowDeadline());
        if (admission == NotificationLedger.Admission.NEW) {
            metrics.notification(notification.type());
        }
        exchange.setProperty(OUTCOME, admission == NotificationLedger.Admission.DUPLICATE ? "DUPLICATE" : "ROUTE");
    }

}
