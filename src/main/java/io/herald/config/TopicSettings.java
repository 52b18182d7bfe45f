package io.herald.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.topics.*: Herald's Kafka topics, created at startup when missing.
 *
 * @param supportEvents     support (Zendesk-style) webhook events
 * @param billingEvents     billing (Stripe-style) webhook events
 * @param crmEvents         events read from the CRM outbox
 * @param notifications     canonical notifications, input of dispatch
 * @param deadLetters       records that could not be processed even into quarantine
 * @param partitions        partitions of the topics Herald creates (an existing topic is never changed): at most this many
 *                          consumer threads per topic work at once, across all instances
 * @param replicationFactor copies of each partition of the topics Herald creates; at most the number of brokers
 */
@Validated
@ConfigurationProperties("herald.topics")
public record TopicSettings(@NotBlank @DefaultValue("herald.support.events") String supportEvents,
                            @NotBlank @DefaultValue("herald.billing.events") String billingEvents,
                            @NotBlank @DefaultValue("herald.crm.events") String crmEvents,
                            @NotBlank @DefaultValue("herald.notifications") String notifications,
                            @NotBlank @DefaultValue("herald.dead-letters") String deadLetters,
                            @Positive @DefaultValue("12") int partitions,
                            @Positive @DefaultValue("3") int replicationFactor) {
}
