package io.herald.config;

import java.util.List;

import org.springframework.stereotype.Component;

/**
 * Each channel's settings by the channel's name as the catalog and the ledger write it (email, sms, push, in_app,
 * ops_webhook), with the fallbacks applied: a channel's retry settings default to herald.delivery.*, its provider
 * timeouts to herald.delivery.timeouts.*, its resend-cut-off-calls to its honours-idempotency-key. For beans that
 * handle every channel alike (senders, rate limits, retry policies) instead of reading herald.&lt;channel&gt;.* one by one.
 */
@Component
public class PerChannelSettings {

    /** Every channel, in the order the console lists them. */
    public static final List<String> CHANNELS = List.of("email", "sms", "push", "in_app", "ops_webhook");

    private final MailSettings mail;
    private final SmsSettings sms;
    private final PushSettings push;
    private final InAppSettings inApp;
    private final OpsWebhookSettings opsWebhook;
    private final DeliverySettings delivery;

    public PerChannelSettings(MailSettings mail, SmsSettings sms, PushSettings push, InAppSettings inApp,
                              OpsWebhookSettings opsWebhook, DeliverySettings delivery) {
        this.mail = mail;
        this.sms = sms;
        this.push = push;
        this.inApp = inApp;
        this.opsWebhook = opsWebhook;
        this.delivery = delivery;
    }

    /** herald.&lt;channel&gt;.rate-per-second: provider calls per second of all instances together. */
    public int ratePerSecond(String channel) {
        return switch (known(channel)) {
            case "email" -> mail.ratePerSecond();
            case "sms" -> sms.ratePerSecond();
            case "push" -> push.ratePerSecond();
            case "in_app" -> inApp.ratePerSecond();
            default -> opsWebhook.ratePerSecond();
        };
    }

    /** herald.&lt;channel&gt;.max-in-flight: deliveries of the channel sent at once by one instance. */
    public int maxInFlight(String channel) {
        return switch (known(channel)) {
            case "email" -> mail.maxInFlight();
            case "sms" -> sms.maxInFlight();
            case "push" -> push.maxInFlight();
            case "in_app" -> inApp.maxInFlight();
            default -> opsWebhook.maxInFlight();
        };
    }

    /** herald.&lt;channel&gt;.max-retries, else herald.delivery.max-retries. */
    public int maxRetries(String channel) {
        Integer own = switch (known(channel)) {
            case "email" -> mail.maxRetries();
            case "sms" -> sms.maxRetries();
            case "push" -> push.maxRetries();
            case "in_app" -> inApp.maxRetries();
            default -> opsWebhook.maxRetries();
        };
        return own != null ? own : delivery.maxRetries();
    }

    /** herald.&lt;channel&gt;.retry-delay-ms, else herald.delivery.retry-delay-ms. */
    public long retryDelayMs(String channel) {
        Long own = switch (known(channel)) {
            case "email" -> mail.retryDelayMs();
            case "sms" -> sms.retryDelayMs();
            case "push" -> push.retryDelayMs();
            case "in_app" -> inApp.retryDelayMs();
            default -> opsWebhook.retryDelayMs();
        };
        return own != null ? own : delivery.retryDelayMs();
    }

    /** herald.&lt;channel&gt;.max-retry-delay-ms, else herald.delivery.max-retry-delay-ms. */
    public long maxRetryDelayMs(String channel) {
        Long own = switch (known(channel)) {
            case "email" -> mail.maxRetryDelayMs();
            case "sms" -> sms.maxRetryDelayMs();
            case "push" -> push.maxRetryDelayMs();
            case "in_app" -> inApp.maxRetryDelayMs();
            default -> opsWebhook.maxRetryDelayMs();
        };
        return own != null ? own : delivery.maxRetryDelayMs();
    }

    /** herald.&lt;channel&gt;.connect-timeout-ms (email: herald.mail.connect-timeout-ms), else herald.delivery.timeouts.connect-ms. */
    public long connectTimeoutMs(String channel) {
        Long own = switch (known(channel)) {
            case "sms" -> sms.connectTimeoutMs();
            case "push" -> push.connectTimeoutMs();
            case "ops_webhook" -> opsWebhook.connectTimeoutMs();
            case "email" -> (long) mail.connectTimeoutMs();
            default -> null;
        };
        return own != null ? own : delivery.timeouts().connectMs();
    }

    /** herald.&lt;channel&gt;.response-timeout-ms (email: herald.mail.read-timeout-ms), else herald.delivery.timeouts.response-ms. */
    public long responseTimeoutMs(String channel) {
        Long own = switch (known(channel)) {
            case "sms" -> sms.responseTimeoutMs();
            case "push" -> push.responseTimeoutMs();
            case "ops_webhook" -> opsWebhook.responseTimeoutMs();
            case "email" -> (long) mail.readTimeoutMs();
            default -> null;
        };
        return own != null ? own : delivery.timeouts().responseMs();
    }

    /** herald.&lt;channel&gt;.resend-cut-off-calls (sms, push, ops_webhook), else the channel's honours-idempotency-key; false for the others. */
    public boolean resendCutOffCalls(String channel) {
        return switch (known(channel)) {
            case "sms" -> sms.resendCutOffCalls() != null ? sms.resendCutOffCalls() : sms.honoursIdempotencyKey();
            case "push" -> push.resendCutOffCalls() != null ? push.resendCutOffCalls() : push.honoursIdempotencyKey();
            case "ops_webhook" -> opsWebhook.resendCutOffCalls() != null ? opsWebhook.resendCutOffCalls() : opsWebhook.honoursIdempotencyKey();
            default -> false;
        };
    }

    /** herald.&lt;channel&gt;.honours-idempotency-key (sms, push, ops_webhook); false for the others. */
    public boolean honoursIdempotencyKey(String channel) {
        return switch (known(channel)) {
            case "sms" -> sms.honoursIdempotencyKey();
            case "push" -> push.honoursIdempotencyKey();
            case "ops_webhook" -> opsWebhook.honoursIdempotencyKey();
            default -> false;
        };
    }

    private static String known(String channel) {
        if (!CHANNELS.contains(channel)) {
            throw new IllegalArgumentException("'" + channel + "' is not a channel Herald sends on (" + String.join(", ", CHANNELS) + ")");
        }
        return channel;
    }
}
