package io.herald.logging;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.springframework.core.env.Environment;

/**
 * Secrets kept out of the log: the configured ones (webhook secrets, provider tokens, passwords, the ops webhook's URL,
 * whose path is its key) wherever their value appears, and anything shaped like a credential (Stripe-style keys,
 * Authorization values, password=... pairs). Applied with {@link Masking} to every log event (MaskingEncoder).
 */
final class LogSecrets {

    /** Settings whose values are secrets. */
    static final List<String> SETTINGS = List.of("herald.support.webhook-secret", "herald.billing.webhook-secret",
            "herald.sms.auth-token", "herald.push.access-token", "herald.mail.password", "herald.db.password",
            "herald.admin.password", "herald.operator.password", "herald.viewer.password", "herald.ops-webhook.url",
            "herald.helpdesk.api-token");

    private static final Pattern STRIPE_KEY = Pattern.compile("\\b(whsec|sk_live|sk_test|rk_live|rk_test)_[A-Za-z0-9]{6,}");
    private static final Pattern AUTHORIZATION = Pattern.compile("(?i)\\b(bearer|basic)\\s+[A-Za-z0-9._~+/=-]{8,}");
    private static final Pattern PAIR = Pattern.compile(
            "(?i)\\b(password|passwd|secret|auth[_-]?token|access[_-]?token|api[_-]?key)(\"?\\s*[:=]\\s*\"?)[^\\s\"',;&}]+");

    private final List<String> configured;

    private LogSecrets(List<String> configured) {
        this.configured = configured;
    }

    static LogSecrets none() {
        return new LogSecrets(List.of());
    }

    /** The secrets configured in this environment (values of 10 characters or more: shorter ones, such as a local database password "postgres", would mask ordinary words). */
    static LogSecrets of(Environment environment) {
        if (environment == null) {
            return none();
        }
        Stream<String> values = SETTINGS.stream().map(key -> {
            try {
                return environment.getProperty(key);
            } catch (RuntimeException unresolvable) {
                return null;
            }
        });
        return new LogSecrets(values.filter(Objects::nonNull).map(String::strip).filter(v -> v.length() >= 10).distinct()
                .sorted(Comparator.comparingInt(String::length).reversed()).toList());
    }

    String mask(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String masked = text;
        for (String secret : configured) {
            masked = masked.replace(secret, "***");
        }
        masked = STRIPE_KEY.matcher(masked).replaceAll("$1_***");
        masked = AUTHORIZATION.matcher(masked).replaceAll("$1 ***");
        masked = PAIR.matcher(masked).replaceAll("$1$2***");
        return Masking.mask(masked);
    }
}
