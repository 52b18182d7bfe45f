package io.herald.logging;

import java.nio.charset.Charset;
import java.util.Locale;

import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import org.springframework.boot.logging.logback.StructuredLogEncoder;

/**
 * Herald's console encoder (logback-spring.xml): lines of text (Spring Boot's pattern) or one JSON object per
 * line (Spring Boot's structured logging: ecs, logstash or gelf), chosen by herald.logging.format. Either way
 * the encoder sees the event through {@link MaskedLoggingEvent}: message, arguments, MDC and the whole
 * exception chain's messages masked, so no full email or phone number, and no configured or credential-shaped
 * secret ({@link LogSecrets}), reaches the log.
 */
public class MaskingEncoder extends EncoderBase<ILoggingEvent> {

    private String format = "text";
    private String jsonFormat = "ecs";
    private String pattern;
    private Charset charset;
    private Encoder<ILoggingEvent> encoder;
    private LogSecrets secrets = LogSecrets.none();

    /** text (default) or json. */
    public void setFormat(String format) {
        this.format = format;
    }

    /** The JSON shape when format is json: ecs (default), logstash or gelf (Spring Boot's structured formats). */
    public void setJsonFormat(String jsonFormat) {
        this.jsonFormat = jsonFormat;
    }

    /** The text line's pattern when format is text. */
    public void setPattern(String pattern) {
        this.pattern = pattern;
    }

    public void setCharset(Charset charset) {
        this.charset = charset;
    }

    @Override
    public void start() {
        // Spring Boot's logging system keeps the Environment in the logback context (as its StructuredLogEncoder reads it).
        Object environment = getContext().getObject(org.springframework.core.env.Environment.class.getName());
        secrets = LogSecrets.of(environment instanceof org.springframework.core.env.Environment env ? env : null);
        String chosen = format == null || format.isBlank() ? "text" : format.strip().toLowerCase(Locale.ROOT);
        String layout = jsonFormat == null || jsonFormat.isBlank() ? "ecs" : jsonFormat.strip().toLowerCase(Locale.ROOT);
        if (chosen.equals("json")) {
            // A JSON layout Herald does not have is written as ecs until LoggingSettings refuses it, naming the key.
            StructuredLogEncoder json = new StructuredLogEncoder();
            json.setContext(getContext());
            json.setFormat(JSON_FORMATS.contains(layout) ? layout : "ecs");
            if (charset != null) {
                json.setCharset(charset);
            }
            encoder = json;
        } else {
            // text, or a format Herald does not have: the logging must start, so that the settings' refusal
            // (LoggingSettings: the key, the value, where it was set) can be logged; throwing here lost that box
            // behind "Logging system failed to initialize" and Logback's stack trace.
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setContext(getContext());
            text.setPattern(pattern);
            if (charset != null) {
                text.setCharset(charset);
            }
            encoder = text;
        }
        encoder.start();
        super.start();
    }

    /** Spring Boot's structured log formats (herald.logging.json-format). */
    private static final java.util.Set<String> JSON_FORMATS = java.util.Set.of("ecs", "logstash", "gelf");

    @Override
    public void stop() {
        if (encoder != null) {
            encoder.stop();
        }
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return encoder.headerBytes();
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return encoder.encode(new MaskedLoggingEvent(event, secrets));
    }

    @Override
    public byte[] footerBytes() {
        return encoder.footerBytes();
    }
}
