package io.herald.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.push.*: the push channel, an FCM HTTP v1-style API.
 *
 * @param url                   the send endpoint, e.g. https://fcm.googleapis.com/v1/projects/my-project/messages:send
 * @param accessToken           a fixed bearer token of the calls (a sandbox; FCM's own tokens last an hour: use serviceAccountFile)
 * @param serviceAccountFile    the Firebase service account's JSON key file: Herald mints FCM's short-lived access tokens from
 *                              it and renews them before they expire (io.herald.dispatch.PushAccessTokens); takes precedence
 * @param ratePerSecond         pushes per second of all instances together
 * @param maxInFlight           calls in flight at once, per instance
 * @param connectTimeoutMs      until the connection is open (default: herald.delivery.timeouts.connect-ms)
 * @param responseTimeoutMs     until the provider's answer (default: herald.delivery.timeouts.response-ms)
 * @param honoursIdempotencyKey the provider documents honouring an Idempotency-Key header (FCM HTTP v1 does not)
 * @param resendCutOffCalls     as herald.sms.resend-cut-off-calls, for push (default: honours-idempotency-key)
 * @param maxRetries            in-process retries of push after the first attempt, 0 or 1 (default: herald.delivery.max-retries)
 * @param retryDelayMs          the push retry's delay (default: herald.delivery.retry-delay-ms)
 * @param maxRetryDelayMs       the longest a push waits in-process for its retry (default: herald.delivery.max-retry-delay-ms)
 * @param maxLength             the longest title and body together, in bytes (UTF-8, as FCM counts its 4,096-byte payload, token
 *                              and data included; a Chinese or emoji character is 3 or 4 bytes); a longer push is sent with the
 *                              data's longest texts shortened
 * @param maxDevices            the most devices (push tokens) of one customer a push is sent to, in the order of their directory
 *                              entry; the rest are named in the delivery's reason as not called
 */
@Validated
@ConfigurationProperties("herald.push")
public record PushSettings(@NotNull @DefaultValue("") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String url,
                           @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String accessToken,
                           @Min(1) @Max(1_000_000) @DefaultValue("50") int ratePerSecond,
                           @Positive @DefaultValue("16") int maxInFlight,
                           @Positive Long connectTimeoutMs,
                           @Positive Long responseTimeoutMs,
                           @DefaultValue("false") boolean honoursIdempotencyKey,
                           Boolean resendCutOffCalls,
                           @Min(0) @Max(value = 1, message = DeliverySettings.ONE_RETRY) Integer maxRetries,
                           @Positive Long retryDelayMs,
                           @Positive Long maxRetryDelayMs,
                           @Min(20) @Max(4_000) @DefaultValue("1000") int maxLength,
                           @NotNull @DefaultValue("") String serviceAccountFile,
                           @Min(1) @Max(500) @DefaultValue("10") int maxDevices) {
}
