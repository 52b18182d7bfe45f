package io.herald.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.logging.LoggingInitializationContext;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.mock.env.MockEnvironment;

/**
 * Herald's real logging configuration (logback-spring.xml through Spring Boot's logging system), as text
 * and as JSON: an exception whose message, cause and suppressed exception carry a customer's email and
 * phone number is logged with them as arguments too; the console output shows neither in full, in the
 * message nor anywhere in the stack trace. Configured secrets and credential-shaped values are masked the same way.
 */
@ExtendWith(OutputCaptureExtension.class)
class MaskedLogsTest {

    private static final String EMAIL = "jenny.rosen@example.org";
    private static final String PHONE = "+15555550100";
    private static final String SPACED_PHONE = "+44 7700 900123";
    private static final String CONFIGURED_SECRET = "local-billing-signing-key-42";
    /** Secret settings LogSecrets once missed (its list was written by hand), and the ops webhook's URL. */
    private static final Map<String, String> MORE_SECRETS = Map.of(
            "herald.incidents.token", "incidents-token-7f3a9c",
            "herald.security.app.api-key", "app-client-key-0123456789abcdef0123456789",
            "herald.security.oidc.client-secret", "oidc-client-secret-9d8c7b",
            "herald.security.users[0].password", "listed-user-password-55",
            "herald.ops-webhook.url", "https://hooks.example.com/services/T000/B000/XyZsecretPath");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Logger log = LoggerFactory.getLogger("io.herald.test.MaskedLogs");

    @AfterEach
    void backToTheDefaultTextLog() {
        configureLogging("text", "ecs");
    }

    @Test
    void textLogsMaskMessagesArgumentsAndTheWholeStackTrace(CapturedOutput output) {
        configureLogging("text", "ecs");
        logTheFailure();

        String logged = logLinesOf(output);
        assertThat(logged).contains("SMS to j***@example.org (+155…0100) failed",
                "java.lang.IllegalStateException: provider refused +155…0100 of j***@example.org",
                "Caused by: java.io.IOException: number +447…0123 unknown for j***@example.org",
                "Suppressed: java.io.IOException: retry for j***@example.org refused too");
        assertNothingInFull(logged);
    }

    @Test
    void jsonLogsAreOneObjectPerLineMaskedTheSameWay(CapturedOutput output) throws Exception {
        configureLogging("json", "ecs");
        logTheFailure();

        List<JsonNode> events = output.getOut().lines().filter(l -> l.startsWith("{")).map(MaskedLogsTest::json)
                .filter(e -> e.path("log").path("logger").asText().equals("io.herald.test.MaskedLogs")).toList();
        assertThat(events).hasSize(1);
        JsonNode event = events.get(0);
        assertThat(event.path("message").asText()).isEqualTo("SMS to j***@example.org (+155…0100) failed");
        assertThat(event.path("log").path("level").asText()).isEqualTo("ERROR");
        assertThat(event.path("error").path("type").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(event.path("error").path("message").asText()).isEqualTo("provider refused +155…0100 of j***@example.org");
        assertThat(event.path("error").path("stack_trace").asText())
                .contains("Caused by: java.io.IOException: number +447…0123 unknown for j***@example.org",
                        "Suppressed: java.io.IOException: retry for j***@example.org refused too");
        assertNothingInFull(output.getOut());
    }

    @Test
    void logstashShapeIsMaskedToo(CapturedOutput output) {
        configureLogging("json", "logstash");
        logTheFailure();

        JsonNode event = output.getOut().lines().filter(l -> l.startsWith("{")).map(MaskedLogsTest::json)
                .filter(e -> e.path("logger_name").asText().equals("io.herald.test.MaskedLogs")).findFirst().orElseThrow();
        assertThat(event.path("message").asText()).isEqualTo("SMS to j***@example.org (+155…0100) failed");
        assertThat(event.path("stack_trace").asText()).contains("Caused by: java.io.IOException: number +447…0123 unknown");
        assertNothingInFull(output.getOut());
    }

    @Test
    void configuredAndCredentialShapedSecretsAreMaskedInTextAndJson(CapturedOutput output) {
        for (String format : List.of("text", "json")) {
            configureLogging(format, "ecs");
            IllegalStateException failure = new IllegalStateException("signature check with whsec_0123456789abcdef failed",
                    new IOException("provider refused Authorization: Bearer ya29.a0AfH6SMBx3Kq9 and password=hunter2hunter2"));
            log.warn("billing webhook secret {} refused a delivery to {}", CONFIGURED_SECRET, EMAIL, failure);
        }
        assertThat(output.getOut()).contains("whsec_***", "Bearer ***", "password=***", "billing webhook secret *** refused")
                .doesNotContain(CONFIGURED_SECRET, "0123456789abcdef", "ya29.a0AfH6SMBx3Kq9", "hunter2hunter2", EMAIL);
    }

    @Test
    void everySecretSettingAndKeyValueShapedSecretIsMasked(CapturedOutput output) {
        for (String format : List.of("text", "json")) {
            configureLogging(format, "ecs");
            MORE_SECRETS.forEach((setting, value) -> log.warn("{} is {}", setting, value));
            log.warn("token request client_secret=s3cr3t-Value&grant_type=client_credentials, webhook_secret: wh-value-1,"
                    + " body {\"clientSecret\":\"json-secret-2\",\"token\":\"json-token-3\"}"
                    + " escaped {\\\"token\\\":\\\"esc-token-4\\\"}");
            log.warn("helpdesk refused Authorization: Token abc", new IOException("sent authorization=\"Token zd-5\""));
        }
        assertThat(output.getOut()).contains("client_secret=***&grant_type=client_credentials", "webhook_secret: ***,",
                "{\"clientSecret\":\"***\",\"token\":\"***\"}", "{\\\"token\\\":\\\"***\\\"}",
                "Authorization: Token ***", "herald.security.users[0].password is ***")
                .doesNotContain("s3cr3t-Value", "wh-value-1", "json-secret-2", "json-token-3", "esc-token-4", "Token abc", "zd-5")
                .doesNotContain(MORE_SECRETS.values().toArray(String[]::new));
    }

    /** A Zendesk user id and ticket id stay readable in a logged line and its exception; the phone numbers beside them do not. */
    @Test
    void zendeskIdsStayReadableAndPhoneNumbersBesideThemAreMasked(CapturedOutput output) {
        for (String format : List.of("text", "json")) {
            configureLogging(format, "ecs");
            log.warn("Quarantined support event for Zendesk user {} (ticket {}): requester phone {} or {}", "9000000123456",
                    "21823417", PHONE, "07700900123", new IllegalStateException(
                            "{\"requester_id\":9000000123456,\"ticket_id\":\"902183417\",\"phone\":\"" + SPACED_PHONE + "\"}"));
        }
        assertThat(output.getOut()).contains(
                        "Quarantined support event for Zendesk user 9000000123456 (ticket 21823417): requester phone +155…0100 or 077…0123",
                        "requester_id\":9000000123456", "ticket_id\":\"902183417\"", "+447…0123")
                .doesNotContain(PHONE, "5555550100", "07700900123", SPACED_PHONE, "7700 900123");
    }

    private void logTheFailure() {
        IOException cause = new IOException("number " + SPACED_PHONE + " unknown for " + EMAIL);
        IllegalStateException failure = new IllegalStateException("provider refused " + PHONE + " of " + EMAIL, cause);
        failure.addSuppressed(new IOException("retry for " + EMAIL + " refused too"));
        log.error("SMS to {} ({}) failed", EMAIL, PHONE, failure);
    }

    private static void assertNothingInFull(String logged) {
        assertThat(logged).doesNotContain(EMAIL, "rosen@", PHONE, "5555550100", SPACED_PHONE, "7700 900123");
    }

    private static String logLinesOf(CapturedOutput output) {
        return output.getOut();
    }

    private static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("not a JSON line: " + line, e);
        }
    }

    /** Spring Boot's logging system, (re)initialised with Herald's logback-spring.xml and these settings. */
    private static void configureLogging(String format, String jsonFormat) {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("spring.application.name", "herald")
                .withProperty("herald.logging.format", format)
                .withProperty("herald.logging.json-format", jsonFormat)
                .withProperty("herald.billing.webhook-secret", CONFIGURED_SECRET);
        MORE_SECRETS.forEach(environment::setProperty);
        LoggingSystem logging = LoggingSystem.get(MaskedLogsTest.class.getClassLoader());
        logging.cleanUp();
        logging.beforeInitialize();
        logging.initialize(new LoggingInitializationContext(environment), "classpath:logback-spring.xml", null);
    }
}
