package io.herald.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.ops-webhook.*: the internal teams' channel, a Slack-style incoming webhook; also where alerts are posted.
 *
 * @param url                   the incoming webhook's URL (its path is a secret: the console shows only the host)
 * @param ratePerSecond         posts per second of all instances together; a digest costs one post
 * @param maxInFlight           calls in flight at once, per instance
 * @param connectTimeoutMs      until the connection is open (default: herald.delivery.timeouts.connect-ms)
 * @param responseTimeoutMs     until the webhook's answer (default: herald.delivery.timeouts.response-ms)
 * @param honoursIdempotencyKey the webhook documents honouring an Idempotency-Key header (Slack's do not)
 * @param resendCutOffCalls     as herald.sms.resend-cut-off-calls, for posts of one notification each (default: honours-idempotency-key)
 * @param digestIntervalMs      types with ops: digest get one post per type per interval, listing them
 * @param digestLines           lines listed per digest post, then "... and N more"
 * @param digestMaxItems        notifications per digest at most; more wait for the next interval
 * @param digestMaxRetryDelayMs a failed digest is posted again after the interval, doubling up to this
 * @param digestLeaseMs         a digest claimed by an instance that stopped is posted again (same key) after this
 * @param maxRetries            in-process retries of a post after the first attempt, 0 or 1 (default: herald.delivery.max-retries)
 * @param retryDelayMs          the post's retry delay (default: herald.delivery.retry-delay-ms)
 * @param maxRetryDelayMs       the longest a post waits in-process for its retry (default: herald.delivery.max-retry-delay-ms)
 */
@Validated
@ConfigurationProperties("herald.ops-webhook")
public record OpsWebhookSettings(@NotNull @DefaultValue("") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String url,
                                 @Min(1) @Max(1_000_000) @DefaultValue("1") int ratePerSecond,
                                 @Positive @DefaultValue("2") int maxInFlight,
                                 @Positive Long connectTimeoutMs,
                                 @Positive Long responseTimeoutMs,
                                 @DefaultValue("false") boolean honoursIdempotencyKey,
                                 Boolean resendCutOffCalls,
                                 @Positive @DefaultValue("10000") long digestIntervalMs,
                                 @Positive @DefaultValue("20") int digestLines,
                                 @Positive @DefaultValue("1000") int digestMaxItems,
                                 @Positive @DefaultValue("300000") long digestMaxRetryDelayMs,
                                 @Min(value = 10000, message = "must be at least 10000 ms: a digest being posted must not be taken over")
                                 @DefaultValue("60000") long digestLeaseMs,
                                 @Min(0) @Max(value = 1, message = DeliverySettings.ONE_RETRY) Integer maxRetries,
                                 @Positive Long retryDelayMs,
                                 @Positive Long maxRetryDelayMs) {
}
