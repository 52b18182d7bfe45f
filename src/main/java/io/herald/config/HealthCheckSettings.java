package io.herald.config;

import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * management.health.*-check-interval-ms: Herald's own health checks run in the background and /actuator/health answers
 * their last result, so a health request never waits for PostgreSQL or Kafka.
 *
 * @param dbCheckIntervalMs    how often the "db" health (DatabaseHealth) is checked
 * @param kafkaCheckIntervalMs how often the "kafka" health (KafkaHealth) is checked: the brokers in herald.kafka.brokers answer
 */
@Validated
@ConfigurationProperties("management.health")
public record HealthCheckSettings(@Positive @DefaultValue("5000") long dbCheckIntervalMs,
                                  @Positive @DefaultValue("5000") long kafkaCheckIntervalMs) {
}
