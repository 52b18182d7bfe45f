package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.herald.testsupport.HostileLocale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A startup message names the environment variable to set as the operator must spell it, whatever the JVM's locale: with
 * LANG=tr_TR.UTF-8 it said HERALD_BİLLİNG_WEBHOOK_SECRET (dotted capital İ), a variable no shell has set.
 */
class SettingNamesInTurkishLocaleTest {

    @RegisterExtension
    static final HostileLocale TURKISH = new HostileLocale("tr-TR", "Europe/Istanbul");

    @Test
    void theEnvironmentVariableOfASettingIsSpelledInAsciiInATurkishLocale() {
        assertThat(RequiredSettings.environmentVariable("herald.billing.webhook-secret")).isEqualTo("HERALD_BILLING_WEBHOOK_SECRET");
        assertThat(RequiredSettings.environmentVariable("herald.delivery.provider-timeouts.sms.read-ms"))
                .isEqualTo("HERALD_DELIVERY_PROVIDER_TIMEOUTS_SMS_READ_MS");
    }
}
