package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.FileSystemResource;

/**
 * A herald.* key or HERALD_* variable Herald does not have stops startup, named with where it was set and the setting
 * that was probably meant; the shipped configuration files have none.
 */
@ExtendWith(OutputCaptureExtension.class)
class UnknownSettingsTest {

    @Test
    void aMisspeltKeyInAFileStopsStartupNamingTheFileTheLineAndTheSettingMeant(CapturedOutput output) {
        SpringApplication application = new SpringApplication(BadSettingStartupTest.OnlySettings.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> application.run("--spring.config.location=classpath:bad-settings/misspelt-key.yaml"))
                .hasMessageContaining("herald.email.rate-per-second (class path resource [bad-settings/misspelt-key.yaml] - 5:22)")
                .hasMessageContaining("did you mean herald.mail.rate-per-second?");
        assertThat(output.getErr()).contains("Herald cannot start: a setting it does not have (misspelt, or from another version):"
                + " herald.email.rate-per-second").contains("Correct or remove it where it is set");
    }

    /** Spring Boot's stack-trace printer cannot print Herald's masked exceptions: every line with one would be dropped. */
    @Test
    void springBootsStructuredStackTraceSettingsAreRefusedNamingWhereTheyAreSet(CapturedOutput output) {
        SpringApplication application = new SpringApplication(BadSettingStartupTest.OnlySettings.class);
        application.setWebApplicationType(WebApplicationType.NONE);
        assertThatThrownBy(() -> application.run("--spring.config.location=classpath:bad-settings/valid.yaml",
                "--logging.structured.json.stacktrace.max-length=2000"))
                .hasMessageContaining("logging.structured.json.stacktrace.max-length (command line) configures Spring Boot's structured")
                .hasMessageContaining("every log line with an exception would be dropped. Remove it");
        assertThat(output.getErr()).contains("Herald cannot start: logging.structured.json.stacktrace.max-length");
    }

    @Test
    void aMisspeltEnvironmentVariableIsNamedAsOneAndKubernetesServiceLinksAreNotSettings() {
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("HERALD_MAIL_RATE_PER_SECOND", "5");
        variables.put("HERALD_EMAIL_RATE_PER_SECOND", "5");
        variables.put("HERALD_INCIDENTS_NOTICES_SEGMENTS_EU_CHECKOUT", "cus_1");   // a map setting's entry
        variables.put("HERALD_SECURITY_USERS_0_ROLE", "ADMIN");                      // a list setting's entry
        variables.put("HERALD_SERVICE_HOST", "10.0.0.7");                            // Kubernetes, for a Service named herald
        variables.put("HERALD_SERVICE_PORT_HTTP", "8080");
        variables.put("HERALD_PORT", "tcp://10.0.0.7:8080");
        variables.put("HERALD_PORT_8080_TCP_ADDR", "10.0.0.7");
        variables.put("HERALD_METRICS_SERVICE_HOST", "10.0.0.8");                    // … and for one named herald-metrics
        variables.put("HOME", "/home/herald");
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));

        assertThatThrownBy(() -> new UnknownSettings().postProcessEnvironment(environment, new SpringApplication()))
                .hasMessageContaining("HERALD_EMAIL_RATE_PER_SECOND (environment variable), did you mean HERALD_MAIL_RATE_PER_SECOND?")
                .message().doesNotContain("SERVICE").doesNotContain("HERALD_PORT").doesNotContain("SEGMENTS")
                .doesNotContain("USERS").doesNotContain("HOME");
    }

    @Test
    void keysAreKnownHoweverTheyAreWritten() {
        UnknownSettings settings = new UnknownSettings();
        assertThat(List.of("herald.mail.rate-per-second", "herald.mail.ratePerSecond", "herald.mail.rate_per_second",
                "HERALD_OPS_WEBHOOK_URL", "herald.delivery.park-delays[2]", "herald.security.users[0].role",
                "herald.security.oidc.role-mapping.[herald-admins]", "herald.receipts", "herald.local.smtp-port"))
                .allSatisfy(key -> assertThat(settings.known(key)).as(key).isTrue());
        assertThat(List.of("herald.email.rate-per-second", "herald.mail.rate-per-minute", "herald.delivery.parked-pol-ms",
                "herald.kafka.broker", "HERALD_DB_URI"))
                .allSatisfy(key -> assertThat(settings.known(key)).as(key).isFalse());
        assertThat(settings.nearest("herald.delivery.parked-pol-ms")).isEqualTo("herald.delivery.parked-poll-ms");
        assertThat(settings.nearest("herald.something.else.entirely")).isNull();
    }

    /** config/application*.yaml: every herald.* key in them is one Herald has (prod's are not started by the unit tests). */
    @Test
    void theShippedConfigurationFilesHoldOnlySettingsHeraldHas() throws IOException {
        UnknownSettings settings = new UnknownSettings();
        List<String> keys = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("config"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("application")).toList()) {
                for (PropertySource<?> source : new YamlPropertySourceLoader().load(file.toString(), new FileSystemResource(file))) {
                    for (String name : ((EnumerablePropertySource<?>) source).getPropertyNames()) {
                        if (UnknownSettings.ours(name, false)) {
                            keys.add(name);
                        }
                    }
                }
            }
        }
        assertThat(keys).hasSizeGreaterThan(100).allSatisfy(key -> assertThat(settings.known(key)).as(key).isTrue());
    }
}
