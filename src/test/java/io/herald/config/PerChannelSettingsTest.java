package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** A channel's own setting wins; without one, the herald.delivery.* value (or honours-idempotency-key) applies. */
class PerChannelSettingsTest {

    private final Binder binder = new Binder(new MapConfigurationPropertySource(Map.of(
            "herald.sms.max-retries", "0",
            "herald.sms.connect-timeout-ms", "1000",
            "herald.push.honours-idempotency-key", "true",
            "herald.ops-webhook.honours-idempotency-key", "true",
            "herald.ops-webhook.resend-cut-off-calls", "false",
            "herald.delivery.retry-delay-ms", "200",
            "herald.in-app.max-in-flight", "4")));

    private final PerChannelSettings channels = new PerChannelSettings(bind("herald.mail", MailSettings.class),
            bind("herald.sms", SmsSettings.class), bind("herald.push", PushSettings.class), bind("herald.in-app", InAppSettings.class),
            bind("herald.ops-webhook", OpsWebhookSettings.class), bind("herald.delivery", DeliverySettings.class));

    private <T> T bind(String prefix, Class<T> type) {
        return binder.bindOrCreate(prefix, type);
    }

    @Test
    void aChannelsOwnSettingWinsAndTheDeliveryDefaultFillsIn() {
        assertThat(channels.maxRetries("sms")).isZero();
        assertThat(channels.maxRetries("push")).isEqualTo(1);
        assertThat(channels.retryDelayMs("email")).isEqualTo(200);
        assertThat(channels.maxRetryDelayMs("in_app")).isEqualTo(5000);
        assertThat(channels.connectTimeoutMs("sms")).isEqualTo(1000);
        assertThat(channels.connectTimeoutMs("push")).isEqualTo(5000);
        assertThat(channels.responseTimeoutMs("email")).isEqualTo(20000);
        assertThat(channels.ratePerSecond("in_app")).isEqualTo(200);
        assertThat(channels.maxInFlight("in_app")).isEqualTo(4);
        assertThat(channels.maxInFlight("ops_webhook")).isEqualTo(2);
    }

    @Test
    void cutOffCallsAreResentOnlyWhereTheProviderHonoursTheKeyUnlessSetOtherwise() {
        assertThat(channels.resendCutOffCalls("sms")).isFalse();
        assertThat(channels.resendCutOffCalls("push")).isTrue();
        assertThat(channels.resendCutOffCalls("ops_webhook")).isFalse();
        assertThat(channels.honoursIdempotencyKey("ops_webhook")).isTrue();
        assertThat(channels.resendCutOffCalls("email")).isFalse();
    }

    @Test
    void anUnknownChannelIsNamed() {
        assertThatThrownBy(() -> channels.maxInFlight("fax")).hasMessage(
                "'fax' is not a channel Herald sends on (email, sms, push, in_app, ops_webhook)");
    }
}
