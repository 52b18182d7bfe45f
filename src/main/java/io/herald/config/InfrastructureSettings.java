package io.herald.config;

import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.infrastructure.*: PostgreSQL or Kafka unreachable; the failed step waits and is tried again, never skipped.
 *
 * @param retryDelayMs       first pause after a database or broker fault; doubles on each try
 * @param maxRetryDelayMs    the longest pause between tries, for as long as the outage lasts
 * @param dbConnectTimeoutMs how long a database call (and the readiness check) waits for a connection
 * @param kafkaSendTimeoutMs how long a send to Kafka may take before it counts as a fault (webhooks then answer 503)
 */
@Validated
@ConfigurationProperties("herald.infrastructure")
public record InfrastructureSettings(@Positive @DefaultValue("500") long retryDelayMs,
                                     @Positive @DefaultValue("10000") long maxRetryDelayMs,
                                     @Positive @DefaultValue("5000") long dbConnectTimeoutMs,
                                     @Positive @DefaultValue("6000") long kafkaSendTimeoutMs) {
}
