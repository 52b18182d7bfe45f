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
 * herald.sms.*: the SMS channel, a Twilio-style Messages API.
 *
 * @param url                   the Messages endpoint, e.g. https://api.twilio.com/2010-04-01/Accounts/ACxxx/Messages.json
 * @param accountSid            the account (basic auth user)
 * @param authToken             the account's token (basic auth password)
 * @param from                  the sender number
 * @param ratePerSecond         SMS per second of all instances together (the permits are kept in PostgreSQL)
 * @param maxInFlight           calls in flight at once, per instance: a provider that hangs fills only these
 * @param connectTimeoutMs      until the connection is open (default: herald.delivery.timeouts.connect-ms)
 * @param responseTimeoutMs     until the provider's answer (default: herald.delivery.timeouts.response-ms)
 * @param honoursIdempotencyKey the provider documents honouring an Idempotency-Key header (Twilio does not)
 * @param resendCutOffCalls     a call cut off (crash, or sent without an answer) is re-sent with the same key; false: it is
 *                              UNCERTAIN, never re-sent by itself (default: honours-idempotency-key)
 * @param maxRetries            in-process retries of SMS after the first attempt, 0 or 1 (default: herald.delivery.max-retries)
 * @param retryDelayMs          the SMS retry's delay (default: herald.delivery.retry-delay-ms)
 * @param maxRetryDelayMs       the longest an SMS waits in-process for its retry (default: herald.delivery.max-retry-delay-ms)
 * @param webhookBaseUrl        Herald's public base URL as the SMS provider calls it (status callbacks and inbound SMS are signed
 *                              over the full URL); blank: the URL of the request as Herald received it
 * @param maxLength             the longest SMS text the provider takes, in characters (Twilio: 1600); a longer message is
 *                              sent with the data's longest texts shortened (io.herald.dispatch.MessageParts)
 * @param maxSegments           the most segments one SMS may cost (each is billed: 153 GSM-7 characters, or 67 when one
 *                              character is outside GSM-7, as Chinese or emoji are); a longer message is shortened the same way
 */
@Validated
@ConfigurationProperties("herald.sms")
public record SmsSettings(@NotNull @DefaultValue("") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String url,
                          @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String accountSid,
                          @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String authToken,
                          @NotNull @DefaultValue("") String from,
                          @Min(1) @Max(1_000_000) @DefaultValue("10") int ratePerSecond,
                          @Positive @DefaultValue("16") int maxInFlight,
                          @Positive Long connectTimeoutMs,
                          @Positive Long responseTimeoutMs,
                          @DefaultValue("false") boolean honoursIdempotencyKey,
                          Boolean resendCutOffCalls,
                          @Min(0) @Max(value = 1, message = DeliverySettings.ONE_RETRY) Integer maxRetries,
                          @Positive Long retryDelayMs,
                          @Positive Long maxRetryDelayMs,
                          @NotNull @DefaultValue("") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String webhookBaseUrl,
                          @Min(70) @Max(100_000) @DefaultValue("1600") int maxLength,
                          @Min(1) @Max(1_000) @DefaultValue("10") int maxSegments) {
}
