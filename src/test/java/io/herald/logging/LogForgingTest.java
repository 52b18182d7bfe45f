package io.herald.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

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
 * A value an event carries reaches the log inside a quarantine reason: the mapping quotes up to 40 characters of a field
 * that is not what it should be ("data.object.amount_due is the text '…'"), and Quarantine logs the reason as it is (the
 * ledger escapes it, the log did not). A line break in that field ended Herald's log line and started one the sender
 * wrote, which a person reading the log, or a log pipeline splitting it into lines, took for Herald's own. Through the
 * real logback-spring.xml: the value stays on its line, its line break visible as \n; a message written over several
 * lines on purpose keeps them.
 */
@ExtendWith(OutputCaptureExtension.class)
class LogForgingTest {

    private static final String FORGED = "2026-12-06T05:00:00.000Z  INFO 1 --- [main] io.herald.Fake : all sent";

    private final Logger log = LoggerFactory.getLogger("io.herald.ingest.Quarantine");

    @AfterEach
    void backToTheDefaultTextLog() {
        configureLogging("text");
    }

    @Test
    void aLineBreakInAQuotedFieldCannotStartALogLineOfItsOwn(CapturedOutput output) {
        configureLogging("text");
        String reason = "billing event evt_1 has no usable amount: data.object.amount_due is the text '1\n" + FORGED + "\r\n"
                + FORGED + "\u2028" + FORGED + "…'";
        log.warn("Quarantined {} event at step {}: {}", "billing", "mapping", reason);

        List<String> lines = output.getOut().lines().filter(l -> l.contains("Quarantined billing event")
                || l.contains("io.herald.Fake")).toList();
        assertThat(lines).hasSize(1);
        assertThat(lines.get(0)).contains("Quarantined billing event at step mapping: billing event evt_1 has no usable amount:"
                + " data.object.amount_due is the text '1\\n" + FORGED + "\\r\\n" + FORGED + "\\u2028" + FORGED);
        assertThat(output.getOut().lines()).noneMatch(l -> l.startsWith(FORGED));
    }

    /** Masked before its line break is escaped: a phone number or an email at the start of a line stays masked. */
    @Test
    void aPhoneNumberOrEmailAfterTheLineBreakIsStillMasked(CapturedOutput output) {
        for (String format : List.of("text", "json")) {
            configureLogging(format);
            log.warn("Quarantined {} event at step {}: {}", "support", "mapping", "subject is the text 'a\n07700900123\r\n"
                    + "jenny.rosen@example.org\n+447700900123'");
        }
        assertThat(output.getOut()).contains("077…0123", "***@example.org", "+447…0123")
                .doesNotContain("07700900123", "jenny.rosen", "+447700900123", "7700900123");
    }

    @Test
    void aMessageWrittenOverSeveralLinesOnPurposeKeepsThem(CapturedOutput output) {
        configureLogging("text");
        log.error("\n\n***************************\nAPPLICATION FAILED TO START\n***************************\n");
        assertThat(output.getOut()).contains("\nAPPLICATION FAILED TO START\n");
    }

    @Test
    void jsonLogsCarryTheValueInOneMessageToo(CapturedOutput output) {
        configureLogging("json");
        log.warn("Quarantined {} event at step {}: {}", "support", "mapping", "ticket subject is the text 'a\n" + FORGED + "'");
        assertThat(output.getOut()).contains("Quarantined support event at step mapping: ticket subject is the text 'a\\\\n"
                + FORGED + "'");
    }

    private static void configureLogging(String format) {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("spring.application.name", "herald")
                .withProperty("herald.logging.format", format)
                .withProperty("herald.logging.json-format", "ecs");
        LoggingSystem logging = LoggingSystem.get(LogForgingTest.class.getClassLoader());
        logging.cleanUp();
        logging.beforeInitialize();
        logging.initialize(new LoggingInitializationContext(environment), "classpath:logback-spring.xml", null);
    }
}
