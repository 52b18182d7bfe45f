package io.herald.config;

import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.dispatch.*: notifications become deliveries queued in the ledger, a Kafka poll at a time.
 *
 * @param batchSize       notifications per batch at most (the dispatch consumer's max.poll.records)
 * @param batchIntervalMs a partial batch is handed over after this long at the latest
 * @param pollTimeoutMs   how long one poll waits for records
 * @param consumers       dispatch consumer threads per instance (each takes some of the topic's partitions): dispatch is a
 *                        light step, one transaction per batch, so one thread keeps up with far more than the senders; more
 *                        threads only split what arrives within a batch interval into more, smaller batches
 */
@Validated
@ConfigurationProperties("herald.dispatch")
public record DispatchSettings(@Positive @DefaultValue("500") int batchSize,
                               @Positive @DefaultValue("50") long batchIntervalMs,
                               @Positive @DefaultValue("100") long pollTimeoutMs,
                               @Positive @DefaultValue("1") int consumers) {
}
