package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.ingest.*: webhooks in, source events to notifications.
 *
 * @param batchSize              source events per intake batch at most (the ingest consumers' max.poll.records)
 * @param batchIntervalMs        a partial batch is handed over after this long at the latest
 * @param pollTimeoutMs          how long one poll waits for records
 * @param maxBodyBytes           larger webhook bodies get 413 and are recorded (refused from Content-Length, unread)
 * @param kafkaMaxRequestSize    every producer's max.request.size (the webhooks', intake's, the CRM poller's) and the created
 *                               topics' max.message.bytes: at least max-body-bytes + 64 KiB (record overhead)
 * @param kafkaMaxBlockMs        with Kafka unreachable, a webhook answers 503 after about this long (max.block.ms)
 * @param kafkaRequestTimeoutMs  the webhook producers' request.timeout.ms
 * @param kafkaDeliveryTimeoutMs the webhook producers' delivery.timeout.ms: at least the request timeout (checked at startup);
 *                               not retried past it
 * @param mappingTimeLimit       how long one event's DataSonnet mapping may run: an event whose mapping takes longer is
 *                               quarantined saying so, and its source's next events go on (MappingTimeLimit; the mapping
 *                               routes pass it to it)
 * @param mappingOverrunsMax     how many mappings stopped waiting for may still run at once (Java cannot stop them; each ends
 *                               when its evaluation does): with that many running, every source's next mapping waits for one
 *                               to end, and nothing is quarantined for it
 */
@Validated
@ConfigurationProperties("herald.ingest")
public record IngestSettings(@Positive @DefaultValue("500") int batchSize,
                             @Positive @DefaultValue("50") long batchIntervalMs,
                             @Positive @DefaultValue("100") long pollTimeoutMs,
                             @Positive @DefaultValue("1048576") long maxBodyBytes,
                             @Positive @DefaultValue("2097152") int kafkaMaxRequestSize,
                             @Positive @DefaultValue("3000") long kafkaMaxBlockMs,
                             @Positive @DefaultValue("2000") long kafkaRequestTimeoutMs,
                             @Positive @DefaultValue("4000") long kafkaDeliveryTimeoutMs,
                             @NotNull @DurationMin(seconds = 1, message = Durations.AT_LEAST_A_SECOND) @DefaultValue("PT60S") Duration mappingTimeLimit,
                             @Positive @DefaultValue("4") int mappingOverrunsMax) {

    /**
     * Room for the record's key, headers and batch framing a producer counts on top of a webhook body: kafka-max-request-size
     * must leave this much above max-body-bytes.
     */
    public static final long PRODUCER_OVERHEAD_BYTES = 64 * 1024;

    public IngestSettings {
        if (maxBodyBytes > Integer.MAX_VALUE - 1) {
            throw new IllegalArgumentException("herald.ingest.max-body-bytes must be at most " + (Integer.MAX_VALUE - 1) + " bytes, was "
                    + maxBodyBytes);
        }
        if (maxBodyBytes > 0 && kafkaMaxRequestSize > 0 && kafkaMaxRequestSize < maxBodyBytes + PRODUCER_OVERHEAD_BYTES) {
            throw new IllegalArgumentException("herald.ingest.kafka-max-request-size must be at least herald.ingest.max-body-bytes ("
                    + maxBodyBytes + ") + " + PRODUCER_OVERHEAD_BYTES + " bytes, was " + kafkaMaxRequestSize
                    + ": a webhook body near the limit could never be queued");
        }
        // Kafka refuses a producer whose delivery.timeout.ms is below linger.ms (0 here) + request.timeout.ms, and only when
        // the webhook route starts, naming no Herald setting: said here, at startup, naming both.
        if (kafkaRequestTimeoutMs > 0 && kafkaDeliveryTimeoutMs > 0 && kafkaDeliveryTimeoutMs < kafkaRequestTimeoutMs) {
            throw new IllegalArgumentException("herald.ingest.kafka-delivery-timeout-ms must be at least herald.ingest.kafka-request-timeout-ms"
                    + " (" + kafkaRequestTimeoutMs + "), was " + kafkaDeliveryTimeoutMs + ": Kafka refuses a producer whose"
                    + " delivery.timeout.ms is below its request.timeout.ms; raise the first or lower the second");
        }
    }
}
