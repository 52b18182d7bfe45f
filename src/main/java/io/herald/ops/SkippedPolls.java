package io.herald.ops;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.herald.kafka.InfrastructureFaults;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The pollers' side of an outage (routes/error-handling.camel.yaml, poller-errors): a timer route whose run meets
 * PostgreSQL or Kafka unreachable loses nothing (the rows it would have handled wait for its next run), so the operator
 * needs to know which pollers wait and since when, not a stack trace per run. Logged per route: one WARN at its first
 * skipped run, one a minute while it still cannot run (with the runs skipped so far), one INFO when a run goes through
 * again. The outage itself is alerted on the ops webhook by OutageAlerts.
 */
@Component
public class SkippedPolls {

    private static final Logger log = LoggerFactory.getLogger(SkippedPolls.class);
    static final Duration REMINDER = Duration.ofMinutes(1);

    /** A route's runs skipped since the first, and when that was last said. */
    private static final class Skipping {
        final Instant since;
        int runs;
        Instant said;

        Skipping(Instant since) {
            this.since = since;
            this.said = since;
        }
    }

    private final Map<String, Skipping> skipping = new ConcurrentHashMap<>();
    private final Clock clock;

    public SkippedPolls() {
        this(Clock.systemUTC());
    }

    SkippedPolls(Clock clock) {
        this.clock = clock;
    }

    /** onException of poller-errors: this run met an infrastructure outage and is skipped. */
    public void skipped(Exchange exchange) {
        skippedRun(exchange.getFromRouteId(), exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
    }

    /**
     * A run of the poller named so (a route id, or scheduled-sends-timer: ScheduledSendsTimerOutages) met this infrastructure
     * outage and is skipped. (Not an overload of skipped: the routes name the method, and Camel would choose between them.)
     */
    public void skippedRun(String route, Throwable outage) {
        String system = InfrastructureFaults.systemOf(outage);
        Instant now = clock.instant();
        Skipping state = skipping.computeIfAbsent(route, r -> new Skipping(now));
        synchronized (state) {
            state.runs++;
            if (state.runs == 1) {
                log.warn("{}: this run is skipped, {}; nothing is lost (its work waits for the next run), "
                        + "it tries again at every run and says here when it runs again", route, InfrastructureFaults.unavailable(outage));
            } else if (!now.isBefore(state.said.plus(REMINDER))) {
                state.said = now;
                log.warn("{}: still waiting for {}, since {}; skipped runs: {}", route, system, state.since, state.runs);
            }
        }
    }

    /** onCompletion of poller-errors: a run that went through ends the route's skipping, if it was. */
    public void ran(Exchange exchange) {
        if (exchange.getProperty(Exchange.EXCEPTION_CAUGHT) == null) {
            ranAgain(exchange.getFromRouteId());
        }
    }

    /** A run of the poller named so went through: ends its skipping, if it was. */
    public void ranAgain(String route) {
        if (skipping.isEmpty()) {
            return;
        }
        Skipping state = skipping.remove(route);
        if (state != null) {
            log.info("{}: running again after {} s (skipped runs: {})", route,
                    Duration.between(state.since, clock.instant()).toSeconds(), state.runs);
        }
    }
}
