package io.herald.config;

import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.console.*: the operations console.
 *
 * @param baseUrl how people reach Herald's console; alerts link to it
 */
@Validated
@ConfigurationProperties("herald.console")
public record ConsoleSettings(@NotNull @DefaultValue("http://localhost:8080") @jakarta.validation.constraints.Pattern(regexp = WebAddresses.HTTP, message = WebAddresses.NOT_HTTP) String baseUrl) {
}
