package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.config.SettingsMetadata;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;

/**
 * The console's Configuration page lists every herald.* setting Herald binds (from the settings' metadata, so
 * a new setting cannot be left off), with the value in force; secrets only as "set" or "not set", never their value.
 */
class ConfigurationPageTest extends HeraldIntegrationTest {

    private static final Pattern ROW = Pattern.compile(
            "<tr data-key=\"([^\"]+)\">\\s*<td><code>[^<]*</code></td><td class=\"value\">([^<]*)</td>");

    @Test
    void listsEveryNonSecretSettingWithItsValueAndNoSecret() throws Exception {
        HttpResponse<String> page = apiAs(ADMIN, "GET", "/console/config", null);
        assertThat(page.statusCode()).isEqualTo(200);
        // Behind a load balancer each instance answers with its own settings: the page says which one answered.
        assertThat(page.body()).contains("<b id=\"instance\">" + io.herald.web.InstanceName.NAME + "</b>");
        Map<String, String> shown = new LinkedHashMap<>();
        Matcher row = ROW.matcher(page.body());
        while (row.find()) {
            shown.put(row.group(1), row.group(2).replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"));
        }
        List<String> nonSecret = SettingsMetadata.herald().stream().filter(setting -> !setting.secret())
                .map(SettingsMetadata.Setting::name).toList();
        assertThat(nonSecret).hasSizeGreaterThan(100);
        assertThat(nonSecret).as("herald.* settings of the metadata missing from /console/config").allSatisfy(key ->
                assertThat(shown).containsKey(key));

        // The value in force, not the default: the tests set the ops webhook's rate and the retry delay of the local profile.
        assertThat(shown).containsEntry("herald.ops-webhook.rate-per-second", "50")
                .containsEntry("herald.delivery.retry-delay-ms", "200")
                .containsEntry("herald.delivery.park-delays", "PT2S, PT4S, PT8S")
                .containsEntry("herald.mail.port", String.valueOf(infra.heraldSettings().get("herald.mail.port")));
        // A webhook URL's path is its secret: only where it points.
        assertThat(shown.get("herald.ops-webhook.url")).endsWith("/…").doesNotContain("local-demo-ops");

        // Secrets: whether they are set, never what they are.
        assertThat(shown).containsEntry("herald.support.webhook-secret", "set (not shown)")
                .containsEntry("herald.sms.auth-token", "set (not shown)")
                .containsEntry("herald.security.oidc.client-secret", "not set")
                .containsEntry("herald.security.users", "4 entries");
        assertThat(page.body()).doesNotContain(SUPPORT_SECRET, BILLING_SECRET, "local-demo-sms-token", "local-demo-push-token",
                "admin-demo", "operator-demo", "viewer-demo", "local-demo-ops");
    }
}
