package io.herald.config;

import java.time.Duration;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.hibernate.validator.constraints.time.DurationMin;
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
 * @param retention         how long the topics Herald creates keep each record (their retention.ms): the events, with the
 *                          customers' addresses in them, stay in the broker that long whatever Herald's own retention and
 *                          erasure remove; a record not read within it (Herald stopped that long) is deleted unread, so at
 *                          least a day (checked when the settings are bound, before anything connects, and again in HeraldTopics)
 */
@Validated
@ConfigurationProperties("herald.topics")
public record TopicSettings(@NotBlank @DefaultValue("herald.support.events") String supportEvents,
                            @NotBlank @DefaultValue("herald.billing.events") String billingEvents,
                            @NotBlank @DefaultValue("herald.crm.events") String crmEvents,
                            @NotBlank @DefaultValue("herald.notifications") String notifications,
                            @NotBlank @DefaultValue("herald.dead-letters") String deadLetters,
                            @Positive @DefaultValue("12") int partitions,
                            @Positive @Max(value = Short.MAX_VALUE, message = "must be at most the number of brokers")
                            @DefaultValue("3") int replicationFactor,
                            @NotNull @DurationMin(days = 1, message = RETENTION_AT_LEAST_A_DAY) @DefaultValue("P7D") Duration retention) {

    /** Why a shorter retention is refused: the broker would delete unread what a Herald stopped that long was to read. */
    static final String RETENTION_AT_LEAST_A_DAY = "must be at least a day (P1D): the broker deletes a record not read within it,"
            + " so a Herald stopped for longer would lose the events accepted meanwhile";
}
