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

    private static final Logger log = LoggerFactory.getLogger(Quarantine.class);

    private final UnroutedEvents unrouted;

    public Quarantine(UnroutedEvents unrouted) {
        this.unrouted = unrouted;
    }

    public void hold(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String source = exchange.getProperty(NotificationIntake.SOURCE, String.class);
        String raw = exchange.getProperty(NotificationIntake.RAW, String.class);
        String step = stepOf(cause);
        String reason = MappingErrors.readable(cause);
        unrouted.quarantined(source, null, step, reason, raw);
        log.warn("Quarantined {} event at step {}: {}", source, step, reason);
    }

    static String stepOf(Throwable cause) {
        if (cause instanceof InvalidNotification) {
            return "validation";
        }
        if (cause instanceof UnknownCustomer) {
            return "identity";
        }
        if (MappingErrors.isMappingError(cause)) {
            return "mapping";
        }
        return "processing";
    }
}
