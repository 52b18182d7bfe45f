package io.herald.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.crm.*: the CRM's outbox table, polled in Herald's database.
 *
 * @param enabled        poll the CRM outbox (false where there is no CRM)
 * @param outboxTable    the outbox table, optionally schema-qualified (crm.crm_outbox)
 * @param pollIntervalMs how often the outbox is polled
 * @param batchSize      rows claimed per transaction
 * @param maxRowBytes    a larger row is quarantined (step outbox), not sent; keep it below the CRM topic's
 *                       max.message.bytes and the producers' max.request.size (herald.ingest.kafka-max-request-size, 2 MiB)
 */
@Validated
@ConfigurationProperties("herald.crm")
public record CrmSettings(@DefaultValue("true") boolean enabled,
                          @NotBlank @Pattern(regexp = "[A-Za-z_][A-Za-z0-9_.]*",
                                  message = "must be a table name, optionally with its schema (crm.crm_outbox)")
                          @DefaultValue("crm_outbox") String outboxTable,
                          @Positive @DefaultValue("500") long pollIntervalMs,
                          @Positive @DefaultValue("200") int batchSize,
                          @Positive @DefaultValue("1000000") int maxRowBytes) {
}
