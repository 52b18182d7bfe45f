package io.herald.config;

import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.metrics.*: gauges for the dashboard and alert rules (deploy/grafana, deploy/prometheus).
 *
 * @param gaugeIntervalMs how often the parked, breaker and consumer-lag gauges are refreshed
 */
@Validated
@ConfigurationProperties("herald.metrics")
public record MetricsSettings(@Positive @DefaultValue("15000") long gaugeIntervalMs) {
}
