package io.herald.config;

import java.time.Duration;
import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.delivery.*: how deliveries are sent, retried, parked and recovered; every channel's defaults
 * (a channel overrides the retry settings, e.g. herald.sms.max-retries).
 *
 * @param maxRetries      in-process retries of a transient provider error after the first attempt, 0 or 1; then the
 *                        delivery is parked, holding nothing
 * @param retryDelayMs    the in-process retry's delay, with +-20% jitter
 * @param maxRetryDelayMs the longest a delivery waits in-process for its retry (it holds its sender slot meanwhile); a
 *                        longer Retry-After parks it until then instead
 * @param parkDelays      the waits of a parked delivery before each new attempt, then FAILED; each gets +-20% jitter and
 *                        is at least PT1S (a bare number, milliseconds, would use them all up within a second)
 * @param senderPollMs    how often each channel's sender checks for work, room (max-in-flight) and permits (rate-per-second)
 * @param claimIntervalMs a sender woken while it is sending claims at most this often (an idle one claims at once)
 * @param dueCheckMs      how often a sender with nothing new looks for deliveries coming due (parked, or left by a stopped instance)
 * @param claimLease      a claimed delivery not started within this (its instance stopped) is claimed again
 * @param parkedPollMs    how often parked operator resends that are due are looked for
 * @param parkedBatchSize parked resends claimed per batch; a poll keeps claiming while due rows remain
 * @param sendingTimeout  a delivery SENDING this long was cut off by a crash (see StaleSendings)
 * @param stalePollMs     how often deliveries SENDING past the sending timeout are looked for
 * @param timeouts        every provider call's timeouts, unless a channel sets its own
 * @param resendGuard     a delivery is resent at most once in this period (two clicks or two operators: one resend)
 * @param breaker         every provider's circuit breaker
 * @param rateLimitMarginMs how much longer than a second any rate + 1 sends of a channel are spread over, across all
 *                        instances: it absorbs the variation between a permit's grant and the provider noting the request
 */
@Validated
@ConfigurationProperties("herald.delivery")
public record DeliverySettings(@Min(0) @Max(value = 1, message = ONE_RETRY) @DefaultValue("1") int maxRetries,
                               @Positive @DefaultValue("1000") long retryDelayMs,
                               @Positive @DefaultValue("5000") long maxRetryDelayMs,
                               @NotEmpty @DefaultValue({"PT1M", "PT5M", "PT15M", "PT30M", "PT1H", "PT2H", "PT4H", "PT8H"})
                               List<@NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) Duration> parkDelays,
                               @Positive @DefaultValue("10") long senderPollMs,
                               @Positive @DefaultValue("200") long claimIntervalMs,
                               @Positive @DefaultValue("1000") long dueCheckMs,
                               @NotNull @DurationMin(seconds = 10, message = Durations.AT_LEAST_TEN_SECONDS) @DefaultValue("PT2M") Duration claimLease,
                               @Positive @DefaultValue("10000") long parkedPollMs,
                               @Positive @DefaultValue("50") int parkedBatchSize,
                               @NotNull @DurationMin(seconds = 10, message = Durations.AT_LEAST_TEN_SECONDS) @DefaultValue("PT5M") Duration sendingTimeout,
                               @Positive @DefaultValue("60000") long stalePollMs,
                               @Valid @DefaultValue Timeouts timeouts,
                               @NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) @DefaultValue("PT1M") Duration resendGuard,
                               @Valid @DefaultValue Breaker breaker,
                               @Min(0) @Max(1000) @DefaultValue("100") long rateLimitMarginMs) {

    /** Why more than one in-process retry is refused. */
    public static final String ONE_RETRY = "must be 0 or 1: an in-process retry holds its consumer thread, so Herald retries at most"
            + " once in-process and then parks the delivery (herald.delivery.park-delays)";

    /**
     * @param connectMs  until the connection is open (nothing sent yet)
     * @param responseMs until the provider's answer; a timed-out call is UNCERTAIN, or retried with the same idempotency key
     *                   where the channel re-sends cut-off calls
     */
    public record Timeouts(@Positive @DefaultValue("5000") long connectMs,
                           @Positive @DefaultValue("20000") long responseMs) {
    }

    /**
     * @param window       the last calls the failure rate is computed over; the breaker opens when half of them failed
     * @param minimumCalls calls needed before the breaker may open
     * @param openSeconds  how long it stays open before it lets a trial call through
     */
    public record Breaker(@Positive @DefaultValue("10") int window,
                          @Positive @DefaultValue("5") int minimumCalls,
                          @Positive @DefaultValue("30") long openSeconds) {
    }
}
