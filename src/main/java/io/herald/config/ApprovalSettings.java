package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.approvals.*: notifications whose catalog type requires approval (config/catalog.yaml, key approval).
 *
 * @param expireAfter    a notification not approved or rejected within this time expires: its deliveries end EXPIRED with
 *                       the reason, not sent, and the ops webhook is alerted as for a failure
 * @param pollIntervalMs how often the expiry sweep runs (routes/approvals.camel.yaml)
 * @param batchSize      notifications expired per statement; a larger backlog is worked off over several sweeps
 */
@Validated
@ConfigurationProperties("herald.approvals")
public record ApprovalSettings(@NotNull @DurationMin(minutes = 1, message = Durations.AT_LEAST_A_MINUTE) @DefaultValue("PT24H") Duration expireAfter,
                               @Positive @DefaultValue("30000") long pollIntervalMs,
                               @Positive @DefaultValue("500") int batchSize) {
}
