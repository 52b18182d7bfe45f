package io.herald.dispatch;

import java.util.concurrent.TimeUnit;

import io.herald.config.InfrastructureSettings;
import io.herald.kafka.InfrastructureFaults;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Writes a delivery's outcome from the channels' error handling (the steps of routes/error-handling.camel.yaml's
 * delivery-errors, its onRedelivery processor, and the sender's finally step) until the database takes it. Camel runs
 * those steps without the route's error handling: a write there that met a PostgreSQL outage ended the exchange
 * unrecorded (Camel's FatalFallbackErrorHandler), so the delivery stayed SENDING until StaleSendings settled it after
 * herald.delivery.sending-timeout as if Herald had crashed (UNCERTAIN, though the provider had refused it or was never
 * called) and held every later message of that customer on that channel meanwhile; a first-success notification never
 * went on to its next channel. Here the write is tried again, pausing like the routes' own infrastructure retry
 * (herald.infrastructure.retry-delay-ms, doubling up to max-retry-delay-ms), while the fault is Herald's infrastructure
 * (InfrastructureFaults) and Herald is not stopping; any other error, or one while Herald stops, is thrown as before
 * (a stop leaves the delivery to StaleSendings, as a crash would). Each retry is counted
 * (herald_outcome_write_retries_total) and logged.
 */
@Component
public class OutcomeWrites {

    private static final Logger log = LoggerFactory.getLogger(OutcomeWrites.class);

    private final long firstDelayMs;
    private final long maxDelayMs;
    private final HeraldMetrics metrics;
    private final ObjectProvider<CamelContext> camel;

    public OutcomeWrites(InfrastructureSettings settings, HeraldMetrics metrics, ObjectProvider<CamelContext> camel) {
        this.firstDelayMs = settings.retryDelayMs();
        this.maxDelayMs = settings.maxRetryDelayMs();
        this.metrics = metrics;
        this.camel = camel;
    }

    /** Runs {@code write}, again and again while it fails because the database (or broker) cannot be reached. */
    public void untilWritten(String what, Runnable write) {
        long delay = firstDelayMs;
        for (int attempt = 1; ; attempt++) {
            try {
                write.run();
                return;
            } catch (RuntimeException e) {
                if (!InfrastructureFaults.isInfrastructure(e) || stopping()) {
                    throw e;
                }
                metrics.outcomeWriteRetried();
                log.warn("{} cannot be written now: the database cannot be reached ({}); trying again in {} ms (attempt {})", what,
                        e.getClass().getSimpleName(), delay, attempt);
                try {
                    TimeUnit.MILLISECONDS.sleep(delay);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                delay = Math.min(maxDelayMs, delay * 2);
            }
        }
    }

    private boolean stopping() {
        CamelContext context = camel.getIfAvailable();
        return context != null && (context.isStopping() || context.isStopped());
    }
}
