package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.FileSystemResource;
import org.springframework.mock.env.MockEnvironment;

/**
 * Which channels send a cut-off provider call again: as shipped none of the HTTP channels (their real
 * providers do not document honouring an Idempotency-Key), in-app always, email never; a channel set
 * to re-send although its provider honours nothing starts with a WARN naming the risk.
 */
@ExtendWith(OutputCaptureExtension.class)
class CutOffCallsSettingsTest {

    @Test
    void asShippedNoHttpChannelSendsACutOffCallAgainAndNothingIsWarned(CapturedOutput output) throws Exception {
        StandardEnvironment shipped = new StandardEnvironment();
        new YamlPropertySourceLoader().load("application", new FileSystemResource("config/application.yaml"))
                .forEach(shipped.getPropertySources()::addLast);

        CutOffCalls calls = new CutOffCalls(shipped, null, null, null, null, null);

        assertThat(calls.resentChannels()).containsExactly("in_app");
        assertThat(calls.resends("sms")).isFalse();
        assertThat(calls.resends("push")).isFalse();
        assertThat(calls.resends("ops_webhook")).isFalse();
        assertThat(calls.resends("email")).isFalse();
        assertThat(output.getAll()).doesNotContain("resend-cut-off-calls");
    }

    @Test
    void aProviderThatHonoursTheKeyGetsItsCutOffCallsSentAgainByDefault(CapturedOutput output) {
        CutOffCalls calls = new CutOffCalls(new MockEnvironment().withProperty("herald.sms.honours-idempotency-key", "true")
                .withProperty("herald.ops-webhook.honours-idempotency-key", "true")
                .withProperty("herald.ops-webhook.resend-cut-off-calls", "false"), null, null, null, null, null);

        assertThat(calls.resentChannels()).containsExactlyInAnyOrder("in_app", "sms");
        assertThat(output.getAll()).doesNotContain("resend-cut-off-calls");
    }

    @Test
    void resendingOnAProviderThatHonoursNothingStartsWithAWarningOfDuplicates(CapturedOutput output) {
        CutOffCalls calls = new CutOffCalls(new MockEnvironment().withProperty("herald.push.resend-cut-off-calls", "true"), null, null, null, null, null);

        assertThat(calls.resends("push")).isTrue();
        assertThat(output.getAll()).contains("WARN").contains("herald.push.resend-cut-off-calls is true but"
                + " herald.push.honours-idempotency-key is false").contains("may deliver it twice (a duplicate message)");
    }

    @Test
    void aValueThatIsNotTrueOrFalseStopsHeraldNamingTheKeyAndTheVariableThatSetIt() {
        // It said "(config/application.yaml, or HERALD_OPS_WEBHOOK_HONOURS_IDEMPOTENCY_KEY)" whatever had set it.
        org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
        environment.getPropertySources().replace(org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new org.springframework.core.env.SystemEnvironmentPropertySource(
                        org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        java.util.Map.of("HERALD_OPS_WEBHOOK_HONOURS_IDEMPOTENCY_KEY", "yes")));
        assertThatThrownBy(() -> new CutOffCalls(environment, null, null, null, null, null))
                .hasMessage("herald.ops-webhook.honours-idempotency-key (environment variable HERALD_OPS_WEBHOOK_HONOURS_IDEMPOTENCY_KEY)"
                        + " must be true or false, not 'yes'");
    }
}
