package io.herald.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Fails startup, before anything connects, when a setting the active profile lists under
 * {@code herald.required-settings} is blank, or still the placeholder of deploy/kubernetes ("change-me"),
 * naming the property and its environment variable. Without it a missing broker address would surface minutes later as a
 * connection retry loop, and a Secret applied unedited would start Herald with an admin password anyone can read.
 */
public class RequiredSettings implements EnvironmentPostProcessor, Ordered {

    static final String KEY = "herald.required-settings";
    /**
     * The placeholder deploy/kubernetes/secret.yaml ships in every secret (change-me, whsec_change_me, …/change-me), and
     * configmap.yaml in the values that name an account (the SMS account in its URL, the sender number, the FCM project).
     */
    static final java.util.regex.Pattern PLACEHOLDER = java.util.regex.Pattern.compile("(?i)change[-_]me");

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        List<String> required = Binder.get(environment).bind(KEY, Bindable.listOf(String.class)).orElse(List.of());
        List<String> missing = new ArrayList<>();
        for (String entry : required) {
            // "a|b": either will do (herald.push.service-account-file|herald.push.access-token); the first one set is checked.
            List<String> either = List.of(entry.split("\\|"));
            String property = either.stream().map(String::strip).filter(p -> !value(environment, p).isBlank()).findFirst()
                    .orElse(either.get(0).strip());
            String value = value(environment, property);
            if (value.isBlank()) {
                missing.add(either.stream().map(p -> p.strip() + " (environment variable " + environmentVariable(p.strip()) + ")")
                        .collect(java.util.stream.Collectors.joining(" or ")));
            } else if (PLACEHOLDER.matcher(value).find()) {
                missing.add(property + " (environment variable " + environmentVariable(property) + ", still the placeholder 'change-me'"
                        + " of deploy/kubernetes/secret.yaml or configmap.yaml)");
            }
        }
        // Any other setting still the placeholder (the Secret's optional mail login applied unedited): the relay would refuse it
        // and every email fail, found only once customers miss their mail.
        if (!required.isEmpty()) {
            for (String variable : placeholders(environment)) {
                if (missing.stream().noneMatch(reported -> reported.contains("environment variable " + variable + ","))) {
                    missing.add("environment variable " + variable + " (still the placeholder 'change-me' of deploy/kubernetes/secret.yaml"
                            + " or configmap.yaml)");
                }
            }
        }
        if (!missing.isEmpty()) {
            String profiles = String.join(",", environment.getActiveProfiles());
            String message = "Herald cannot start: missing required setting" + (missing.size() > 1 ? "s" : "") + " "
                    + String.join(", ", missing) + ". They are listed under '" + KEY + "' in config/application-"
                    + (profiles.isEmpty() ? "<profile>" : profiles) + ".yaml; set them in the environment.";
            // Logging is not initialised yet at this point: make sure the operator sees it.
            System.err.println(message);
            throw new IllegalStateException(message);
        }
    }

    /** Herald's settings whose value in effect is the placeholder, by their environment variable (HERALD_MAIL_PASSWORD). */
    private static java.util.Set<String> placeholders(ConfigurableEnvironment environment) {
        java.util.Set<String> found = new java.util.TreeSet<>();
        for (org.springframework.core.env.PropertySource<?> source : environment.getPropertySources()) {
            if (source instanceof org.springframework.core.env.EnumerablePropertySource<?> names) {
                for (String name : names.getPropertyNames()) {
                    // The value in effect (Spring reads HERALD_MAIL_USERNAME as herald.mail.username): one a command-line argument
                    // overrides is not the placeholder any more.
                    String value = name.startsWith("HERALD_") ? value(environment, name.toLowerCase(java.util.Locale.ROOT).replace('_', '.'))
                            : name.startsWith("herald.") ? value(environment, name) : null;
                    if (value != null && PLACEHOLDER.matcher(value).find()) {
                        found.add(name.startsWith("HERALD_") ? name : environmentVariable(name));
                    }
                }
            }
        }
        return found;
    }

    private static String value(ConfigurableEnvironment environment, String property) {
        try {
            String value = environment.getProperty(property);
            return value == null ? "" : value;
        } catch (IllegalArgumentException unresolvable) {
            return "";
        }
    }

    static String environmentVariable(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
