package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The signature-burst alert names the setting an operator must compare with the sender's, per webhook source. */
class SignatureSettingTest {

    @Test
    void eachSourceNamesTheSettingItsSignaturesAreCheckedWith() {
        assertThat(SignatureFailureBursts.signingSetting("sms-status")).isEqualTo("herald.sms.auth-token");
        assertThat(SignatureFailureBursts.signingSetting("sms-inbound")).isEqualTo("herald.sms.auth-token");
        assertThat(SignatureFailureBursts.signingSetting("email-events")).isEqualTo("herald.email-events.verification-key");
        assertThat(SignatureFailureBursts.signingSetting("incidents")).isEqualTo("herald.incidents.token");
        assertThat(SignatureFailureBursts.signingSetting("support")).isEqualTo("herald.support.webhook-secret");
        assertThat(SignatureFailureBursts.signingSetting("billing")).isEqualTo("herald.billing.webhook-secret");
    }
}
