package io.herald.ingest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.UnknownCustomer;
import io.herald.ledger.StoredText;
import io.herald.ledger.UnroutedEvents;
import io.herald.notification.InvalidNotification;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Puts one source event that failed mapping, validation or identity aside, with its raw payload,
 * the step that failed and a reason a person can act on, so the next event goes on.
 */
@Component
public class Quarantine {

    /** Exchange property the ingest routes set to the step they are in (mapping, intake). */
    public static final String STEP = "heraldStep";
    /** Exchange property set by a re-drive: the quarantined row being re-driven. */
    public static final String REDRIVE_OF = "heraldRedriveOf";
    /** Exchange property holding the quarantine reason, for whoever sent the event (a re-drive). */
    public static final String REASON = "heraldReason";

    private static final Logger log = LoggerFactory.getLogger(Quarantine.class);

    private final UnroutedEvents unrouted;
    private final ObjectMapper json;
    private final HeraldMetrics metrics;
    private final io.herald.ledger.NotificationLedger ledger;
    /** The notifications topic and herald.ingest.kafka-max-request-size, for a notification that topic refuses for its size. */
    private final String notificationsTopic;
    private final int maxRequestSize;

    public Quarantine(UnroutedEvents unrouted, ObjectMapper json, HeraldMetrics metrics, io.herald.ledger.NotificationLedger ledger,
                      io.herald.config.TopicSettings topics, io.herald.config.IngestSettings ingest) {
        this.notificationsTopic = topics.notifications();
        this.maxRequestSize = ingest.kafkaMaxRequestSize();
        this.ledger = ledger;
        this.unrouted = unrouted;
        this.json = json;
        this.metrics = metrics;
    }

    public void hold(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String source = exchange.getProperty(NotificationIntake.SOURCE, String.class);
        String raw = exchange.getProperty(NotificationIntake.RAW, String.class);
        String step = stepOf(cause, exchange.getProperty(STEP, "processing", String.class));
        String notJson = MappingErrors.notJson(json, raw);
        String eventId = notJson == null ? eventIdOf(source, raw) : null;
        String reason = MappingErrors.readable(cause, step, source, eventId == null ? null : StoredText.label(eventId, 120), notJson,
                notificationsTopic, maxRequestSize);
        Long redriveOf = exchange.getProperty(REDRIVE_OF, Long.class);
        if (redriveOf != null) {
            // A re-drive admitted its notification and then could not publish it (the broker refuses it for its size): the
            // event ends in its quarantine alone, not also in a notification that would stay RECEIVED for ever.
            // Only a row this re-drive made: one admitted before (by a smaller version of the event, say) may be on the topic already.
            String admitted = exchange.getProperty(NotificationIntake.KEY, String.class);
            if (admitted != null && Boolean.TRUE.equals(exchange.getProperty(NotificationIntake.ADMITTED_NOW, Boolean.class))) {
                ledger.withdraw(admitted);
            }
            unrouted.stillQuarantined(redriveOf, step, reason);
        } else {
            if (erased(cause)) {
                unrouted.quarantinedWithoutPayload(source, eventId, step, reason,
                        io.herald.retention.PayloadRemoved.sentence(io.herald.retention.PayloadRemoved.ERASURE, java.time.Instant.now()));
            } else {
                unrouted.quarantined(source, eventId, step, reason, raw);
            }
            metrics.quarantined(source, step);
        }
        exchange.setProperty(NotificationIntake.OUTCOME, "QUARANTINED");
        exchange.setProperty(REASON, reason);
        // The reason is for people; the technical detail (engine, driver, parser messages) is for the log only. A known data
        // rule (the mapping's own error text) is said in full by the reason: the engine's trace would repeat the whole
        // mapping's source, some 270 lines per event and per re-drive.
        if (cause instanceof InvalidNotification || cause instanceof UnknownCustomer || cause instanceof MappingTimedOut
                || MappingErrors.mappingsOwnMessage(cause, source) != null) {
            log.warn("Quarantined {} event at step {}: {}", source, step, reason);
        } else {
            log.warn("Quarantined {} event at step {}: {}", source, step, reason, detailOf(cause));
        }
    }

    /**
     * What the log keeps of an unexpected failure: its deepest cause. Camel's wrapper of a mapping's failure quotes the whole
     * mapping (some 270 lines, per event and per re-drive); the engine's own error under it says what failed and at which
     * line and column of the mapping.
     */
    static Throwable detailOf(Throwable cause) {
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        Throwable root = cause;
        while (root != null && root.getCause() != null && seen.add(root) && !seen.contains(root.getCause())) {
            root = root.getCause();
        }
        return root;
    }

    /** The source's own event id, read from the raw event when it is readable JSON; null otherwise. */
    private String eventIdOf(String source, String raw) {
        try {
            JsonNode event = json.readTree(raw == null ? "" : raw);
            if (event != null && event.hasNonNull("outboxId")) {
                return source + "-outbox-" + event.get("outboxId").asText();
            }
            return event != null && event.path("id").isValueNode() ? event.get("id").asText() : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** Whether the event names a customer who was erased (its payload is then not kept). */
    private static boolean erased(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.herald.identity.ErasedCustomer) {
                return true;
            }
        }
        return false;
    }

    /** The failing step: from the exception when it says, otherwise the step the route was in. */
    static String stepOf(Throwable cause, String routeStep) {
        if (cause instanceof InvalidNotification) {
            return "validation";
        }
        if (cause instanceof UnknownCustomer) {
            return "identity";
        }
        return routeStep;
    }
}
