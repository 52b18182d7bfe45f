package io.herald.config;

import jakarta.validation.constraints.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.logging.*: the console log (logback-spring.xml reads these); emails and phone numbers are masked in every format.
 *
 * @param format     text (lines) or json (one JSON object per line)
 * @param jsonFormat the JSON layout: ecs (Elastic Common Schema), logstash or gelf
 */
@Validated
@ConfigurationProperties("herald.logging")
public record LoggingSettings(@Pattern(regexp = "text|json", message = "must be text or json") @DefaultValue("text") String format,
                              @Pattern(regexp = "ecs|logstash|gelf", message = "must be ecs, logstash or gelf")
                              @DefaultValue("ecs") String jsonFormat) {
}
