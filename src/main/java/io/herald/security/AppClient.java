package io.herald.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The product's in-app inbox client (herald.security.app.api-key, HERALD_SECURITY_APP_API_KEY): it sends
 * "Authorization: Bearer &lt;key&gt;" and gets the APP role, which reads and marks its customers' inbox
 * (/api/customers/{id}/inbox) and nothing else. Blank: no such client.
 */
@org.springframework.validation.annotation.Validated
@ConfigurationProperties("herald.security.app")
public record AppClient(String apiKey) {

    static final int MIN_LENGTH = 32;
    static final String TOO_SHORT = "herald.security.app.api-key must be at least " + MIN_LENGTH + " characters (a random value, e.g."
            + " openssl rand -hex 32), or blank for no in-app client";

    public boolean enabled() {
        return !OidcSettings.blank(apiKey);
    }

    /** Checked with the other settings when they are bound (the failure box then shows where it was set), and here. */
    public AppClient validated() {
        if (!isLongEnough()) {
            throw new IllegalStateException(TOO_SHORT);
        }
        return this;
    }

    @jakarta.validation.constraints.AssertTrue(message = TOO_SHORT)
    public boolean isLongEnough() {
        return !enabled() || apiKey.strip().length() >= MIN_LENGTH;
    }

    /** Compared in constant time: how much of a guess matched is not told by the time taken. */
    boolean matches(String token) {
        return enabled() && MessageDigest.isEqual(apiKey.strip().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }
}
