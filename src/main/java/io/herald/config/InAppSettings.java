package io.herald.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.in-app.*: the in-app inbox channel (rows in Herald's database, read by the product's inbox client).
 *
 * @param ratePerSecond   inbox rows written per second of all instances together
 * @param maxInFlight     inbox rows written at once, per instance
 * @param maxRetries      in-process retries after the first attempt, 0 or 1 (default: herald.delivery.max-retries)
 * @param retryDelayMs    the retry's delay (default: herald.delivery.retry-delay-ms)
 * @param maxRetryDelayMs the longest a delivery waits in-process for its retry (default: herald.delivery.max-retry-delay-ms)
 */
@Validated
@ConfigurationProperties("herald.in-app")
public record InAppSettings(@Min(1) @Max(1_000_000) @DefaultValue("200") int ratePerSecond,
                            @Positive @DefaultValue("8") int maxInFlight,
                            @Min(0) @Max(value = 1, message = DeliverySettings.ONE_RETRY) Integer maxRetries,
                            @Positive Long retryDelayMs,
                            @Positive Long maxRetryDelayMs) {
}
