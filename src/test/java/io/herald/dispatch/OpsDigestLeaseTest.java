package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import io.herald.config.DeliverySettings;
import io.herald.config.InAppSettings;
import io.herald.config.MailSettings;
import io.herald.config.OpsWebhookSettings;
import io.herald.config.PerChannelSettings;
import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;

/**
 * A digest's lease must outlast its post: renewed right before the post, a lease shorter than the ops webhook's connect
 * and response timeouts could run out while the post waits for its answer, and another instance would claim the digest
 * and post it a second time. Refused at startup, naming the key and the numbers.
 */
class OpsDigestLeaseTest {

    @Test
    void aLeaseShorterThanTheLongestPostIsRefusedNamingTheKeys() {
        assertThatThrownBy(() -> opsDigests(Map.of("herald.ops-webhook.digest-lease-ms", "30000")))
                .hasMessage("Setting herald.ops-webhook.digest-lease-ms (command line) must be more than the longest post,"
                        + " 2 x herald.ops-webhook.connect-timeout-ms + response-timeout-ms (30000 ms), plus 5000 ms to record it, or another"
                        + " instance may take a digest over while it is being posted and post it again; was 30000");
        assertThatThrownBy(() -> opsDigests(Map.of("herald.ops-webhook.response-timeout-ms", "60000")))
                .hasMessageContaining("(70000 ms)").hasMessageEndingWith("was 60000");
    }

    @Test
    void theShippedTimeoutsAndLeaseFitAndShorterTimeoutsAllowAShorterLease() {
        assertThatCode(() -> opsDigests(Map.of())).doesNotThrowAnyException();
        assertThatCode(() -> opsDigests(Map.of("herald.ops-webhook.digest-lease-ms", "20000", "herald.ops-webhook.connect-timeout-ms", "2000",
                "herald.ops-webhook.response-timeout-ms", "8000"))).doesNotThrowAnyException();
    }

    private static OpsDigests opsDigests(Map<String, String> settings) {
        // As if given on the command line: the refusal names where the value was set.
        org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
        environment.getPropertySources().addFirst(new org.springframework.core.env.MapPropertySource("commandLineArgs",
                new HashMap<>(settings)));
        Binder binder = Binder.get(environment);
        OpsWebhookSettings opsWebhook = binder.bindOrCreate("herald.ops-webhook", OpsWebhookSettings.class);
        PerChannelSettings channels = new PerChannelSettings(binder.bindOrCreate("herald.mail", MailSettings.class),
                binder.bindOrCreate("herald.sms", SmsSettings.class), binder.bindOrCreate("herald.push", PushSettings.class),
                binder.bindOrCreate("herald.in-app", InAppSettings.class), opsWebhook,
                binder.bindOrCreate("herald.delivery", DeliverySettings.class));
        return new OpsDigests(null, null, null, null, opsWebhook, channels, null, null, environment);
    }
}
