package io.herald.ingest;

import java.util.Map;

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

    @SuppressWarnings("unchecked")
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
            Map<String, Customer> known = exchange.getProperty(IntakeBatch.CUSTOMERS, Map.class);
            if (known != null) {
                known.clear();
            }
            return;
        }
        CanonicalNotification notification = validator.validate(mapped);
        Customer customer = notification.customerId() != null
                ? resolve(exchange, notification)
                : directory.resolveByEmail(notification.source(), notification.sourceEventId(), mapped.path("customerEmail").asText());
        notification = notification.forCustomer(customer.customerId());
        String canonical = json.writeValueAsString(notification);
        NotificationLedger.Admission admission = ledger.admit(notification, canonical, raw, sendWindows.deadlineOf(notification));
        if (admission == NotificationLedger.Admission.NEW) metrics.notification(notification.type());
        exchange.setProperty(KEY, notification.idempotencyKey());
        exchange.setProperty(OUTCOME, admission == NotificationLedger.Admission.DUPLICATE ? "DUPLICATE" : "ROUTE");
        exchange.getMessage().setHeader("kafka.KEY", notification.customerId());
        exchange.getMessage().setBody(canonical);
    }

    /**
     * The customer named by id. In a batch, each customer is looked up once (the batch's earlier events found
     * them already); a contact change in the batch clears what was looked up, so a later event sees it.
     */
    @SuppressWarnings("unchecked")
    private Customer resolve(Exchange exchange, CanonicalNotification notification) {
        Map<String, Customer> known = exchange.getProperty(IntakeBatch.CUSTOMERS, Map.class);
        if (known == null) {
            return directory.resolve(notification.source(), notification.sourceEventId(), notification.customerId());
        }
        Customer customer = known.get(notification.customerId());
        if (customer == null) {
            customer = directory.resolve(notification.source(), notification.sourceEventId(), notification.customerId());
            known.put(notification.customerId(), customer);
        }
        return customer;
    }

}
