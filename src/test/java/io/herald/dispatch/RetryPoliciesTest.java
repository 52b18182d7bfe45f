package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** At most one short in-process retry: more is a configuration error at startup, naming the key. */
class RetryPoliciesTest {

    @Test
    void oneOrNoInProcessRetryIsAccepted() {
        assertThatCode(() -> new RetryPolicies(new MockEnvironment().withProperty("herald.delivery.max-retries", "1"))).doesNotThrowAnyException();
        assertThatCode(() -> new RetryPolicies(new MockEnvironment().withProperty("herald.delivery.max-retries", "0")
                .withProperty("herald.sms.max-retries", "1"))).doesNotThrowAnyException();
    }

    @Test
    void moreInProcessRetriesStopHeraldNamingTheKey() {
        assertThatThrownBy(() -> new RetryPolicies(new MockEnvironment().withProperty("herald.delivery.max-retries", "4")))
                .hasMessageContaining("herald.delivery.max-retries (\"herald.delivery.max-retries\" from property source \"mockProperties\")"
                        + " must be 0 or 1")
                .hasMessageContaining("parks the delivery");
        assertThatThrownBy(() -> new RetryPolicies(new MockEnvironment().withProperty("herald.delivery.max-retries", "1")
                .withProperty("herald.push.max-retries", "3")))
                .hasMessageContaining("herald.push.max-retries (\"herald.push.max-retries\" from property source \"mockProperties\") must be 0"
                        + " or 1, not '3'");
    }
}
