package io.herald.config;

import jakarta.validation.constraints.Min;
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
 * @param dbReadTimeoutS     how long a database call waits for PostgreSQL's answer (the JDBC driver's socketTimeout): a
 *                           connection a failover or the network dropped without closing answers nothing, and the call
 *                           (the group commit holding every channel's writes) would otherwise wait for ever
 * @param dbIdleInTransactionTimeoutS how long PostgreSQL keeps a session of Herald's that is in a transaction and sends
 *                           nothing (PostgreSQL's idle_in_transaction_session_timeout, set on every connection of the pool):
 *                           an instance that froze or lost its network in the middle of a transaction would otherwise hold
 *                           its row and advisory locks (a claimed delivery, the CRM poller's turn) until the server's TCP
 *                           keepalive notices, about two hours, and every instance needing them would wait
 * @param kafkaSendTimeoutMs how long a send to Kafka may take before it counts as a fault and is tried again: every producer
 *                           but the billing and support webhooks' (herald.ingest.kafka-*), i.e. notification intake, the CRM
 *                           outbox poller, dead letters and the incidents webhook (their delivery.timeout.ms and max.block.ms);
 *                           at least 5000, their request.timeout.ms
 */
@Validated
@ConfigurationProperties("herald.infrastructure")
public record InfrastructureSettings(@Positive @DefaultValue("500") long retryDelayMs,
                                     @Positive @DefaultValue("10000") long maxRetryDelayMs,
                                     @Positive @DefaultValue("5000") long dbConnectTimeoutMs,
                                     @Min(value = 10, message = "must be at least 10 (seconds): above the longest statement Herald runs")
                                     @jakarta.validation.constraints.Max(value = 3600, message = "must be at most 3600 (seconds): a hung"
                                             + " connection would hold every channel's writes that long")
                                     @DefaultValue("60") long dbReadTimeoutS,
                                     @Min(value = 5, message = "must be at least 5 (seconds), and above the longest wait inside one of Herald's"
                                             + " transactions (an alert post, a Kafka send: checked at startup)")
                                     @jakarta.validation.constraints.Max(value = 86400, message = "must be at most 86400 (seconds): a frozen"
                                             + " instance's locks are held this long")
                                     @DefaultValue("120") long dbIdleInTransactionTimeoutS,
                                     @Min(value = REQUEST_TIMEOUT_MS, message = AT_LEAST_THE_REQUEST_TIMEOUT)
                                     @DefaultValue("6000") long kafkaSendTimeoutMs) {

    /** camel.component.kafka.request-timeout-ms in config/application.yaml: one request to the broker. */
    static final long REQUEST_TIMEOUT_MS = 5000;

    /** Kafka refuses, when a route starts, a producer whose delivery.timeout.ms is below linger.ms (0) + request.timeout.ms. */
    static final String AT_LEAST_THE_REQUEST_TIMEOUT = "must be at least 5000 (milliseconds): it is the Kafka producers'"
            + " delivery.timeout.ms, which Kafka requires to be at least their request.timeout.ms (5000,"
            + " camel.component.kafka.request-timeout-ms in config/application.yaml); a lower value stops the routes that send to Kafka";
}
