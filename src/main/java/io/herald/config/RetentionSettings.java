package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.PositiveOrZero;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.retention.*: how long Herald keeps what it stores, applied by routes/retention.camel.yaml (io.herald.retention.RetentionJob).
 *
 * @param enabled          run the retention job (false: nothing is removed; partitions are still created ahead)
 * @param payloads         raw source events, canonical notifications' data, rendered subjects and bodies (notifications, quarantined
 *                         events, dead letters) are removed this long after they arrived; the rows (state, reason, counts) stay.
 *                         A notification with a delivery still in progress keeps its payload until that delivery settles
 * @param ledger           notifications, deliveries, attempts, resends, inbox messages, quarantined events, dead letters and refused
 *                         requests are deleted this long after they arrived (attempts and refused requests by whole months); the
 *                         audit trail and erasure records stay
 * @param rejectedExcerpts the excerpt of a refused webhook request's body is cleared this long after it arrived
 * @param receipts         provider delivery receipts go with their month once the whole month is older than this (a receipt a suppression points to stays)
 * @param batchSize        rows one statement removes at most; each batch is its own short transaction
 * @param intervalMs       how often the job runs
 * @param firstRunDelayMs  the first run, this long after startup (routes/retention.camel.yaml)
 * @param runLimit         one run stops starting new batches after this long (the next run goes on)
 * @param monthsAhead      monthly partitions created ahead of time for attempts and refused requests
 * @param lockTimeoutMs    creating or dropping a partition waits at most this long for its lock, then waits for the next run
 * @param archiveAfter     a settled notification (nothing in progress or held) moves with its deliveries from the engine's working
 *                         set to its month of the archive this long after it arrived; a month of the archive is dropped whole
 *                         once past {@code ledger} (V76, io.herald.ledger.LedgerArchive); longer than {@code ledger}, a
 *                         notification is deleted from the working set first, row by row
 */
@Validated
@ConfigurationProperties("herald.retention")
public record RetentionSettings(@DefaultValue("true") boolean enabled,
                                @NotNull @DurationMin(days = 1, message = Durations.AT_LEAST_A_DAY) @DefaultValue("P30D") Duration payloads,
                                @NotNull @DurationMin(days = 1, message = Durations.AT_LEAST_A_DAY) @DefaultValue("P400D") Duration ledger,
                                @NotNull @DurationMin(days = 1, message = Durations.AT_LEAST_A_DAY) @DefaultValue("P7D") Duration rejectedExcerpts,
                                @NotNull @DurationMin(days = 1, message = Durations.AT_LEAST_A_DAY) @DefaultValue("P400D") Duration receipts,
                                @Positive @Max(100_000) @DefaultValue("1000") int batchSize,
                                @Positive @DefaultValue("3600000") long intervalMs,
                                @PositiveOrZero @DefaultValue("60000") long firstRunDelayMs,
                                @NotNull @DurationMin(seconds = 10, message = Durations.AT_LEAST_TEN_SECONDS) @DefaultValue("PT5M") Duration runLimit,
                                @Positive @Max(24) @DefaultValue("3") int monthsAhead,
                                @Positive @DefaultValue("2000") long lockTimeoutMs,
                                @NotNull @DurationMin(days = 1, message = Durations.AT_LEAST_A_DAY) @DefaultValue("P30D") Duration archiveAfter) {

    @AssertTrue(message = "herald.retention.ledger must be at least herald.retention.payloads (the rows outlive their payloads)")
    public boolean isConsistent() {
        return payloads == null || ledger == null || ledger.compareTo(payloads) >= 0;
    }
}
