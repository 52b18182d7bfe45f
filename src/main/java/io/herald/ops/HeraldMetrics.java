package io.herald.ops;

import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.springframework.stereotype.Component;

/**
 * Herald's own metrics, scraped at /actuator/prometheus. Each method is one call from the place
 * where the thing happens (ingest routes, intake, quarantine, channel deliveries, retries, the
 * window check), so the hooks stay one line each. Micrometer caches meters by name and tags, so
 * looking them up per call is cheap; tag values are the small fixed sets Herald knows (sources,
 * steps, catalog types, channels, states), never customer data.
 */
@Component
public class HeraldMetrics {

    private final MeterRegistry registry;

    public HeraldMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A source event entered Herald (herald_events_in_total{source}). */
    public void eventIn(String source) {
        Counter.builder("herald.events.in").description("Source events taken in, per source")
                .tag("source", source).register(registry).increment();
    }

    /** A source event was quarantined (herald_quarantined_total{source, step}). */
    public void quarantined(String source, String step) {
        Counter.builder("herald.quarantined").description("Source events quarantined, per source and failing step")
                .tag("source", String.valueOf(source)).tag("step", String.valueOf(step)).register(registry).increment();
    }

    /** A new notification was admitted to the ledger (herald_notifications_total{type}). */
    public void notification(String type) {
        Counter.builder("herald.notifications").description("Notifications admitted (duplicates not counted), per type")
                .tag("type", type).register(registry).increment();
    }

    /** A delivery reached an outcome: SENT, FAILED, SKIPPED, UNCERTAIN, or PARKED each time it is parked. */
    public void delivery(String channel, String state) {
        deliveries(channel, state, 1);
    }

    /** {@link #delivery} for several deliveries at once (an ops digest's post sends all it lists). */
    public void deliveries(String channel, String state, int count) {
        Counter.builder("herald.deliveries").description("Delivery outcomes per channel and state (PARKED counted each time)")
                .tag("channel", String.valueOf(channel)).tag("state", state).register(registry).increment(count);
    }

    /**
     * The provider accepted a message: counted as SENT, and the time from the event's occurrence to
     * now recorded in the end-to-end histogram (herald_end_to_end_seconds_bucket{type, channel, le}).
     */
    public void sent(String type, String channel, Instant occurredAt) {
        delivery(channel, "SENT");
        if (occurredAt != null) {
            Timer.builder("herald.end.to.end").description("From the event's occurrence to the provider accepting the message")
                    .tag("type", type).tag("channel", channel)
                    .publishPercentileHistogram()
                    // Buckets from 50 ms to 4 h: a late delivery past that still counts, in +Inf.
                    .minimumExpectedValue(Duration.ofMillis(50)).maximumExpectedValue(Duration.ofHours(4))
                    .register(registry).record(Duration.between(occurredAt, Instant.now()));
        }
    }

    /** Another attempt of a delivery: an in-process retry or the re-drive of a parked delivery. */
    public void retry(String channel) {
        Counter.builder("herald.delivery.retries").description("Delivery retries (in-process and parked re-drives), per channel")
                .tag("channel", String.valueOf(channel)).register(registry).increment();
    }

    /** An outcome write from the channels' error handling met a database outage and is tried again (dispatch.OutcomeWrites). */
    public void outcomeWriteRetried() {
        Counter.builder("herald.outcome.write.retries").description("Delivery outcomes written again after the database could not be reached")
                .register(registry).increment();
    }

    /** A delivery missed its send window (herald_window_missed_total{type, channel}); counted once per delivery. */
    public void windowMissed(String type, String channel) {
        Counter.builder("herald.window.missed").description("Deliveries that missed their send window, per type and channel")
                .tag("type", type).tag("channel", channel).register(registry).increment();
    }

    /**
     * The late-message policy stopped a delivery (herald_late_messages_total{type, channel, policy}): policy drop (not sent,
     * EXPIRED) or hold (held for an operator); counted once per delivery.
     */
    public void lateMessage(String type, String channel, String policy) {
        Counter.builder("herald.late.messages").description("Late deliveries stopped by their type's late policy (drop: not sent; hold: held for an operator)")
                .tag("type", type).tag("channel", channel).tag("policy", policy).register(registry).increment();
    }

    /** An alert post to the ops webhook: posted, or failed (retried on the next poll). */
    public void alert(String outcome) {
        Counter.builder("herald.alerts").description("Failure alert posts to the ops webhook, per outcome")
                .tag("outcome", outcome).register(registry).increment();
    }
}
