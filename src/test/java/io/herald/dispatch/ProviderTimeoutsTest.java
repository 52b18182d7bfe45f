package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** Provider timeouts are checked at startup: each set, above 0, and a delivery's worst case within the sending timeout. */
class ProviderTimeoutsTest {

    private static MockEnvironment defaults() {
        MockEnvironment env = new MockEnvironment()
                .withProperty("herald.delivery.sending-timeout", "PT5M")
                .withProperty("herald.delivery.max-retries", "4")
                .withProperty("herald.delivery.max-retry-delay-ms", "10000")
                .withProperty("herald.mail.connect-timeout-ms", "10000")
                .withProperty("herald.mail.read-timeout-ms", "20000")
                .withProperty("herald.mail.write-timeout-ms", "10000")
                .withProperty("herald.alerts.connect-timeout-ms", "5000")
                .withProperty("herald.alerts.response-timeout-ms", "20000");
        for (String channel : new String[] {"sms", "push", "ops-webhook"}) {
            env.setProperty("herald." + channel + ".connect-timeout-ms", "5000");
            env.setProperty("herald." + channel + ".response-timeout-ms", "20000");
        }
        return env;
    }

    @Test
    void theDefaultsFitWellWithinTheSendingTimeout() {
        assertThatCode(() -> new ProviderTimeouts(defaults())).doesNotThrowAnyException();
    }

    /** The alert post waits inside a transaction: PostgreSQL's idle-in-transaction limit must be above it, or the alert repeats. */
    @Test
    void anIdleInTransactionLimitBelowTheAlertPostStopsStartupNamingBoth() {
        MockEnvironment tight = defaults().withProperty("herald.infrastructure.db-idle-in-transaction-timeout-s", "10");
        assertThatThrownBy(() -> new ProviderTimeouts(tight))
                .hasMessageContaining("herald.infrastructure.db-idle-in-transaction-timeout-s (10 s) must be above the longest wait inside"
                        + " one of Herald's transactions: herald.alerts.connect-timeout-ms + herald.alerts.response-timeout-ms (25000 ms)");
        assertThatCode(() -> new ProviderTimeouts(defaults().withProperty("herald.infrastructure.db-idle-in-transaction-timeout-s", "30")))
                .doesNotThrowAnyException();
    }

    @Test
    void aMissingOrZeroTimeoutStopsStartupNamingTheKeyAndWhereItWasSet() {
        MockEnvironment zero = defaults().withProperty("herald.sms.response-timeout-ms", "0");
        assertThatThrownBy(() -> new ProviderTimeouts(zero))
                .hasMessageNotContaining("config/application.yaml")
                .hasMessageContaining("herald.sms.response-timeout-ms (\"herald.sms.response-timeout-ms\" from property source \"mockProperties\")"
                        + " must be a number of milliseconds above 0")
                .hasMessageContaining("was '0'");
        MockEnvironment missing = defaults().withProperty("herald.alerts.response-timeout-ms", "");
        assertThatThrownBy(() -> new ProviderTimeouts(missing)).hasMessageContaining("herald.alerts.response-timeout-ms (\"herald.alerts.response-timeout-ms\" from property source");
    }

    @Test
    void timeoutsThatCouldHoldADeliveryPastTheSendingTimeoutStopStartup() {
        MockEnvironment slow = defaults().withProperty("herald.push.response-timeout-ms", "60000");
        assertThatThrownBy(() -> new ProviderTimeouts(slow))
                .hasMessageContaining("herald.push.connect-timeout-ms + herald.push.response-timeout-ms (65000 ms per try) with 4 retries")
                .hasMessageContaining("not below herald.delivery.sending-timeout (PT5M)")
                .hasMessageNotContaining("herald.sms");
        // A channel's own retry count is part of its worst case.
        MockEnvironment fewRetries = defaults().withProperty("herald.push.response-timeout-ms", "60000").withProperty("herald.push.max-retries", "1");
        assertThatCode(() -> new ProviderTimeouts(fewRetries)).doesNotThrowAnyException();
    }
}
