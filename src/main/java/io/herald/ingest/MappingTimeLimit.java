package io.herald.ingest;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import io.herald.config.IngestSettings;
import jakarta.annotation.PreDestroy;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.apache.camel.component.direct.DirectEndpoint;
import org.apache.camel.support.DefaultExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.stereotype.Component;

/**
 * One event's DataSonnet mapping with a time limit. The mapping (route {@code <source>-datasonnet}) runs on a mapping
 * thread, and the source's consumer waits for it at most herald.ingest.mapping-time-limit: a mapping still running then
 * (a recursion as deep as a field of the event says, an edit that made it exponential) fails its event with
 * {@link MappingTimedOut}, which quarantines it at step mapping, and the consumer goes on with the source's next event.
 * <p>
 * Java cannot stop a running evaluation: the stopped one keeps its thread (and a CPU) until it ends by itself, and its
 * result is then discarded. At most herald.ingest.mapping-overruns-max of them run at once: with that many still running,
 * every source's next mapping waits for one to end (logged as an error naming the setting), so they never pile up, and no
 * event is quarantined for the wait; a mapping that passes its limit while they are that many (several sources' runaways at
 * the same time) is waited for likewise, not stopped waiting for. A mapping that never ends holds its thread until Herald
 * restarts.
 */
@Component
public class MappingTimeLimit {

    private static final Logger log = LoggerFactory.getLogger(MappingTimeLimit.class);

    private static final int RUNNING = 0;
    private static final int ENDED = 1;
    private static final int STOPPED_WAITING = 2;

    private final int overrunsMax;
    private final ProducerTemplate camel;
    private final ExecutorService threads;
    private final Object overrunsLock = new Object();
    /** Mappings stopped waiting for that still run; guarded by overrunsLock. */
    private int overruns;

    public MappingTimeLimit(IngestSettings ingest, ProducerTemplate camel) {
        this.overrunsMax = ingest.mappingOverrunsMax();
        this.camel = camel;
        AtomicInteger count = new AtomicInteger();
        // As many threads as mappings run at once: one per waiting consumer or re-drive, plus at most overrunsMax stopped ones.
        this.threads = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "herald-mapping-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Maps the event in the exchange's body with the route {@code mappingRoute} ({@code direct:<source>-datasonnet}); the body
     * becomes the mapping's output. A mapping's own failure is thrown as it was; one that runs longer than {@code timeLimit}
     * (the route passes herald.ingest.mapping-time-limit, validated at startup; written as Spring writes durations: PT30S, 30s)
     * throws {@link MappingTimedOut}.
     */
    public void map(Exchange exchange, String mappingRoute, String timeLimit) throws Exception {
        Duration limit = DurationStyle.detectAndParse(timeLimit);
        String mapping = exchange.getProperty(NotificationIntake.MAPPING, mappingRoute, String.class);
        String source = exchange.getProperty(NotificationIntake.SOURCE, "source", String.class);
        awaitMappingRoute(exchange, mappingRoute);
        waitWhileTooManyOverrun(source, mapping);
        // A new exchange, not exchange.copy(): a copy shares the consumer's unit of work, which two threads must not share.
        Exchange copy = new DefaultExchange(exchange.getContext());
        copy.getMessage().setBody(exchange.getMessage().getBody());
        copy.getMessage().getHeaders().putAll(exchange.getMessage().getHeaders());
        copy.getProperties().putAll(exchange.getProperties());
        AtomicInteger state = new AtomicInteger(RUNNING);
        long started = System.nanoTime();
        Future<Exchange> evaluation = threads.submit(() -> {
            try {
                return camel.send(mappingRoute, copy);
            } finally {
                if (!state.compareAndSet(RUNNING, ENDED)) {
                    overrunEnded(source, mapping, started);
                }
            }
        });
        Exchange mapped = awaitUninterruptibly(evaluation, started, limit, state, source, mapping);
        if (mapped.getException() != null) {
            throw mapped.getException();
        }
        exchange.getMessage().setBody(mapped.getMessage().getBody());
    }

    /**
     * A mapping route an operator stopped or suspended (Hawtio) is waited for here, as Camel waits for a direct route (30 s),
     * not on the mapping thread: there the wait counted against the time limit, and with a limit under 30 s the event was
     * quarantined as a mapping that "took longer than" it, and the waiting thread took a runaway mapping's place. Still not
     * running: DirectConsumerNotAvailableException, which ingest-errors tries again until the route is started.
     */
    private static void awaitMappingRoute(Exchange exchange, String mappingRoute) throws Exception {
        if (exchange.getContext().getEndpoint(mappingRoute) instanceof DirectEndpoint direct && direct.getConsumer() == null) {
            throw new DirectConsumerNotAvailableException("No consumers available on endpoint: " + direct, exchange);
        }
    }

    /** The evaluation's exchange once it ends within the limit; a shutdown's interrupt is kept for after it (as before). */
    private Exchange awaitUninterruptibly(Future<Exchange> evaluation, long started, Duration limit, AtomicInteger state, String source,
                                          String mapping)
            throws Exception {
        long deadline = started + limit.toNanos();
        boolean interrupted = false;
        boolean waitingForAPlace = false;
        try {
            while (true) {
                try {
                    return evaluation.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (TimeoutException e) {
                    synchronized (overrunsLock) {
                        if (overruns >= overrunsMax) {
                            // Another source's runaway took the last place meanwhile: stopping this one too would leave more
                            // running than allowed, so this event waits, as the next one would, until a place frees or its own
                            // evaluation ends (a short wait: this evaluation ending does not notify).
                            if (!waitingForAPlace) {
                                waitingForAPlace = true;
                                log.error("A {} event's mapping {} ran longer than {} (herald.ingest.mapping-time-limit), but {} mappings"
                                        + " stopped waiting for are still running (herald.ingest.mapping-overruns-max): it is waited for"
                                        + " until one of them ends. Correct the mapping that runs too long, or restart Herald to stop them",
                                        source, mapping, MappingTimedOut.inWords(limit), overruns);
                            }
                            try {
                                overrunsLock.wait(100);
                            } catch (InterruptedException stopping) {
                                interrupted = true;
                            }
                            continue;
                        }
                        if (state.compareAndSet(RUNNING, STOPPED_WAITING)) {
                            overruns++;
                            log.warn("A {} event's mapping {} ran longer than {} (herald.ingest.mapping-time-limit) and was stopped"
                                    + " waiting for: the event is quarantined, the source goes on. The evaluation keeps its thread"
                                    + " until it ends by itself ({} such running, at most {})", source, mapping,
                                    MappingTimedOut.inWords(limit), overruns, overrunsMax);
                            throw new MappingTimedOut(mapping, limit);
                        }
                    }
                    // It ended just now: its result is taken.
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void overrunEnded(String source, String mapping, long started) {
        synchronized (overrunsLock) {
            overruns--;
            overrunsLock.notifyAll();
        }
        log.info("A {} event's mapping {} stopped waiting for ended after {} ms; its result was discarded (the event is in"
                + " quarantine)", source, mapping, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /** With herald.ingest.mapping-overruns-max stopped mappings still running, the next mapping waits for one to end. */
    private void waitWhileTooManyOverrun(String source, String mapping) {
        synchronized (overrunsLock) {
            if (overruns < overrunsMax) {
                return;
            }
            log.error("{} mappings stopped waiting for are still running (herald.ingest.mapping-overruns-max): the next {} event"
                    + " waits for one of them to end before {} maps it. Correct the mapping that runs too long (its events are"
                    + " quarantined at step mapping), or restart Herald to stop them", overruns, source, mapping);
            boolean interrupted = false;
            while (overruns >= overrunsMax) {
                try {
                    overrunsLock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        log.info("A stopped mapping ended: {} events are mapped again", source);
    }

    @PreDestroy
    void stop() {
        threads.shutdownNow();
    }
}
