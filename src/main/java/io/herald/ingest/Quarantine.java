package io.herald.ingest;

import io.herald.identity.UnknownCustomer;
import io.herald.ledger.UnroutedEvents;
import io.herald.notification.InvalidNotification;
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

    private static final Logger log = LoggerFactory.getLogger(Quarantine.class);

    private final UnroutedEvents unrouted;

    public Quarantine(UnroutedEvents unrouted) {
        this.unrouted = unrouted;
    }

    public void hold(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String source = exchange.getProperty(NotificationIntake.SOURCE, String.class);
        String raw = exchange.getProperty(NotificationIntake.RAW, String.class);
        String step = stepOf(cause, exchange.getProperty(STEP, "processing", String.class));
        String reason = MappingErrors.readable(cause, step);
        unrouted.quarantined(source, null, step, reason, raw);
        log.warn("Quarantined {} event at step {}: {}", source, step, reason);
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
