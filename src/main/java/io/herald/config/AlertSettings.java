package io.herald.config;

import java.time.Duration;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.alerts.*: failure, outage and signature-burst alerts posted to the ops webhook.
 *
 * @param enabled              post alerts (false: none; the send-window check still runs)
 * @param pollIntervalMs       how often new failures are alerted and send windows checked
 * @param repeatAfter          a kind of failure already announced is not announced again before this; new ones of that
 *                             kind are summarised once per period
 * @param parkedThreshold      a channel with this many deliveries PARKED is announced as an outage (and when it is back below)
 * @param outageCheckTimeoutMs the outage check's wait for Kafka's answer
 * @param outageSettle         an outage is over once it has not been seen for this long; seen again before, it goes on (a
 *                             flapping provider is one outage, not a start and an end each time its breaker closes)
 * @param routeStoppedAfter    a route Herald starts (deliver-sms, crm-outbox-poll, the Kafka consumers, ...) left stopped or
 *                             suspended (from Hawtio) for this long is announced as an outage, in words, and again when it runs
 * @param signatureBurst       a burst of webhook signature failures from one source (a secret rotated on one side only)
 * @param connectTimeoutMs     the alert post's connect timeout (default: herald.delivery.timeouts.connect-ms)
 * @param responseTimeoutMs    the alert post's response timeout (default: herald.delivery.timeouts.response-ms)
 */
@Validated
@ConfigurationProperties("herald.alerts")
public record AlertSettings(@DefaultValue("true") boolean enabled,
                            @Positive @DefaultValue("15000") long pollIntervalMs,
                            @NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE) @DefaultValue("PT30M") Duration repeatAfter,
                            @Positive @DefaultValue("100") int parkedThreshold,
                            @Positive @DefaultValue("3000") long outageCheckTimeoutMs,
                            @NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) @DefaultValue("PT2M") Duration outageSettle,
                            @NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) @DefaultValue("PT5M") Duration routeStoppedAfter,
                            @Valid @DefaultValue SignatureBurst signatureBurst,
                            @Positive Long connectTimeoutMs,
                            @Positive Long responseTimeoutMs) {

    /**
     * @param threshold requests refused for their signature (HTTP 401) from one source that make a burst, alerted once
     * @param window    the period they are counted in, at least PT1M; a new burst is alerted after the count fell below the
     *                  threshold
     */
    public record SignatureBurst(@Positive @DefaultValue("20") int threshold,
                                 @NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE) @DefaultValue("PT5M") Duration window) {
    }
}
