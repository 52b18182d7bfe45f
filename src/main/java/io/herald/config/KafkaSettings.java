package io.herald.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.kafka.*: the Kafka cluster and Herald's consumers.
 *
 * @param brokers          the bootstrap servers, host:port separated by commas (blank in prod until set)
 * @param groupId          consumer group prefix; each consumer route adds a dot and the route id
 * @param consumers        consumer threads per topic, each taking some of its partitions
 * @param sessionTimeoutMs how long a crashed instance keeps its partitions before the group moves them
 */
@Validated
@ConfigurationProperties("herald.kafka")
public record KafkaSettings(@NotNull @DefaultValue("localhost:9092") String brokers,
                            @NotBlank @DefaultValue("herald") String groupId,
                            @Positive @DefaultValue("3") int consumers,
                            @Positive @DefaultValue("45000") long sessionTimeoutMs) {
}
