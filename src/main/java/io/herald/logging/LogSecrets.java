package io.herald.logging;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.herald.config.SettingsMetadata;
import io.herald.config.SettingsMetadata.Setting;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Secrets kept out of the log: the configured ones (every herald.* setting the metadata calls secret: webhook secrets,
 * provider and API tokens, passwords, the accounts' passwords; and the ops webhook's URL, whose path is its key) wherever
 * their value appears, and anything shaped like a credential (Stripe-style keys, Authorization values, password=...,
 * client_secret: ..., "token":"..." pairs). Applied with {@link Masking} to every log event (MaskingEncoder).
 */
final class LogSecrets {

    /** Not named like a secret, but its path is the webhook's key. */
    static final Setting OPS_WEBHOOK_URL = new Setting("herald.ops-webhook.url", "java.lang.String", "", null);

    /** herald.security.users: a list of accounts, each {username, password, role}. */
    private static final Bindable<List<Map<String, String>>> ENTRIES = Bindable.of(ResolvableType.forClassWithGenerics(List.class,
            ResolvableType.forClassWithGenerics(Map.class, String.class, String.class)));

    private static final Pattern STRIPE_KEY = Pattern.compile("\\b(whsec|sk_live|sk_test|rk_live|rk_test)_[A-Za-z0-9]{6,}");
    private static final Pattern BEARER = Pattern.compile("(?i)\\b(bearer|basic)\\s+[A-Za-z0-9._~+/=-]{8,}");
    /** An Authorization header's value, whatever its scheme (Token, Bearer, none...). */
    private static final Pattern AUTHORIZATION = Pattern.compile(
            "(?i)\\b(authorization\\\\?\"?\\s*[:=]\\s*\\\\?\"?(?:[a-z]+\\s+)?)[^\\s\"',;\\\\]+");
    /**
     * A key that ends like a secret's name (password, client_secret, webhookSecret, token, api-key...) and its value, as
     * key=value, key: value or "key":"value" (JSON-escaped too). The key starts where a run of key characters starts, so
     * a long run (a link) is scanned once, not once per position.
     */
    private static final Pattern PAIR = Pattern.compile("(?i)(?<![\\w.-])([\\w.-]*?(?:password|passwd|secret|token|api[_-]?key))"
            + "(\\\\?\"?\\s*[:=]\\s*\\\\?\"?)[^\\s\"',;&}\\\\]+");

    private final List<String> configured;

    private LogSecrets(List<String> configured) {
        this.configured = configured;
    }

    static LogSecrets none() {
        return new LogSecrets(List.of());
    }

    /** The secret settings (SettingsMetadata decides which are secret) and the ops webhook's URL. */
    static List<Setting> settings() {
        return Stream.concat(SettingsMetadata.herald().stream().filter(Setting::secret), Stream.of(OPS_WEBHOOK_URL)).toList();
    }

    /** The secrets configured in this environment (values of 10 characters or more: shorter ones, such as a local database password "postgres", would mask ordinary words). */
    static LogSecrets of(Environment environment) {
        if (!(environment instanceof ConfigurableEnvironment configurable)) {
            return none();
        }
        Binder binder = Binder.get(configurable);
        return new LogSecrets(settings().stream().flatMap(setting -> values(binder, setting)).map(String::strip)
                .filter(v -> v.length() >= 10).distinct().sorted(Comparator.comparingInt(String::length).reversed()).toList());
    }

    /** A setting's value, or for a list of entries (herald.security.users) the values of their secret fields (password). */
    private static Stream<String> values(Binder binder, Setting setting) {
        String key = setting.name();
        try {
            if (setting.type().startsWith("java.util.List")) {
                return binder.bind(key, ENTRIES).orElse(List.of()).stream().flatMap(entry -> entry.entrySet().stream())
                        .filter(field -> SettingsMetadata.isSecret(key + "." + field.getKey())).map(Map.Entry::getValue)
                        .filter(Objects::nonNull);
            }
            return binder.bind(key, String.class).map(Stream::of).orElse(Stream.empty());
        } catch (RuntimeException unresolvable) {
            return Stream.empty();
        }
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
        masked = AUTHORIZATION.matcher(masked).replaceAll("$1***");
        masked = BEARER.matcher(masked).replaceAll("$1 ***");
        masked = PAIR.matcher(masked).replaceAll("$1$2***");
        return Masking.mask(masked);
    }
}
