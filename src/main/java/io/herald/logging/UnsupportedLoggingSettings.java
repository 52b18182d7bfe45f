package io.herald.logging;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.herald.config.UnknownSettings;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Stops startup when Spring Boot's structured stack-trace printer is configured (logging.structured.json.stacktrace.*,
 * LOGGING_STRUCTURED_JSON_STACKTRACE_*): Herald masks each exception before it is written (MaskingEncoder), and that
 * printer accepts only logback's own exception records, so with it every log line carrying an exception would be
 * dropped, unseen. Named with where it is set.
 */
public class UnsupportedLoggingSettings implements EnvironmentPostProcessor, Ordered {

    static final String PREFIX = "logging.structured.json.stacktrace";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        List<String> found = new ArrayList<>();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (source instanceof EnumerablePropertySource<?> enumerable) {
                for (String name : enumerable.getPropertyNames()) {
                    if (name.toLowerCase(Locale.ROOT).replace('_', '.').startsWith(PREFIX)) {
                        found.add(name + " (" + UnknownSettings.where(source, name) + ")");
                    }
                }
            }
        }
        if (!found.isEmpty()) {
            String message = "Herald cannot start: " + String.join(", ", found) + " configures Spring Boot's structured stack-trace"
                    + " printer, which cannot print the stack traces Herald masks (emails and phone numbers): every log line with an"
                    + " exception would be dropped. Remove it; Herald's JSON logs (herald.logging.format: json) carry each stack trace,"
                    + " masked.";
            System.err.println(message);
            throw new IllegalStateException(message);
        }
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
