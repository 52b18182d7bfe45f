package io.herald.config;

import java.time.Duration;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMax;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.receipts.*: reporting on delivery receipts (SMS status callbacks, email events).
 *
 * @param spike a spike of bounced or undelivered messages on one channel, alerted on the ops webhook once when it starts and once
 *              when it ends (with herald.alerts.enabled, every herald.alerts.poll-interval-ms)
 * @param early a receipt that arrived before its send was recorded (kept UNMATCHED), applied once the send is
 */
@Validated
@ConfigurationProperties("herald.receipts")
public record ReceiptSettings(@Valid @DefaultValue Spike spike, @Valid @DefaultValue Early early) {

    /**
     * @param window         how long after its arrival an unmatched receipt is still looked at (at most a day): a send recorded
     *                       later than this leaves the receipt UNMATCHED
     * @param pollIntervalMs how often unmatched receipts of the window are matched again (each run one transaction)
     */
    public record Early(@NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE)
                        @DurationMax(hours = 24, message = "must be at most a day (PT24H)") @DefaultValue("PT15M") Duration window,
                        @Min(value = 1000, message = "must be at least 1000 (a second)") @DefaultValue("5000") long pollIntervalMs) {
    }

    /**
     * @param threshold messages of one channel reported bounced or undelivered within the window that make a spike
     * @param window    the period they are counted in; the spike ends (and that is announced) once the count in it falls below the
     *                  threshold
     */
    public record Spike(@Positive @DefaultValue("20") int threshold,
                        @NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE) @DefaultValue("PT15M") Duration window) {
    }
}
