package io.herald.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.boot.origin.SystemEnvironmentOrigin;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.OriginLookup;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * Fails startup, before anything connects, when a herald.* key (in a config file, a system property, a command-line
 * argument) or a HERALD_* environment variable is not a setting Herald has: a misspelt key
 * ({@code herald.email.rate-per-second} for {@code herald.mail.rate-per-second}) is otherwise ignored without a word and
 * the value it was meant to change stays at its default. The message names each such key, where it was set (file and
 * line, or "environment variable") and the nearest real setting. What Herald has is the configuration processor's
 * metadata (SettingsMetadata): a key under a list or map setting (herald.security.users[0].role,
 * HERALD_INCIDENTS_NOTICES_SEGMENTS_EU) is taken as that setting's. The variables Kubernetes adds for a Service whose name
 * starts with "herald" (HERALD_SERVICE_HOST, HERALD_PORT_8080_TCP_ADDR, …) are not settings and are passed over.
 */
public class UnknownSettings implements EnvironmentPostProcessor, Ordered {

    /** Kubernetes' service links: &lt;SERVICE&gt;_SERVICE_HOST, _SERVICE_PORT[_&lt;name&gt;], _PORT[_&lt;n&gt;_&lt;proto&gt;[_PROTO|_PORT|_ADDR]]. */
    private static final Pattern SERVICE_LINK = Pattern.compile(
            "HERALD(_[A-Z0-9_]+)?_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)");

    private final Set<String> exact = new TreeSet<>();
    private final Set<String> open = new TreeSet<>();
    private final List<String> names = new ArrayList<>();

    public UnknownSettings() {
        this(SettingsMetadata.herald());
    }

    UnknownSettings(List<SettingsMetadata.Setting> settings) {
        for (SettingsMetadata.Setting setting : settings) {
            names.add(setting.name());
            String squashed = squash(setting.name());
            exact.add(squashed);
            // A parent written empty (herald.receipts: {}) is no setting of its own, and no mistake either.
            for (int dot = setting.name().indexOf('.'); dot > 0; dot = setting.name().indexOf('.', dot + 1)) {
                exact.add(squash(setting.name().substring(0, dot)));
            }
            if (setting.type().startsWith("java.util.Map") || setting.type().startsWith("java.util.List")
                    || setting.type().startsWith("java.util.Set")) {
                open.add(squashed);
            }
        }
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        List<String> unknown = new ArrayList<>();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> enumerable)) {
                continue;
            }
            boolean variables = source instanceof SystemEnvironmentPropertySource;
            for (String name : enumerable.getPropertyNames()) {
                if (ours(name, variables) && !known(name)) {
                    unknown.add(describe(source, name, variables));
                }
            }
        }
        if (!unknown.isEmpty()) {
            String message = "Herald cannot start: " + (unknown.size() == 1 ? "a setting it does not have" : "settings it does not have")
                    + " (misspelt, or from another version): " + String.join("; ", unknown) + ". Herald would ignore "
                    + (unknown.size() == 1 ? "it" : "them") + " and keep the default. Correct or remove "
                    + (unknown.size() == 1 ? "it" : "each") + " where it is set; every setting is listed in the README under"
                    + " 'Configuration reference' and on the console's Configuration page.";
            // Logging is not initialised yet at this point: make sure the operator sees it.
            System.err.println(message);
            throw new IllegalStateException(message);
        }
    }

    /** A herald.* key, or a HERALD_* environment variable that is not one of Kubernetes' service links. */
    static boolean ours(String name, boolean variable) {
        if (variable) {
            String upper = name.toUpperCase(Locale.ROOT);
            return upper.startsWith("HERALD_") && !SERVICE_LINK.matcher(upper).matches();
        }
        return name.toLowerCase(Locale.ROOT).startsWith("herald.");
    }

    /** Whether Herald binds this key, however it is written (kebab, camelCase, an environment variable, with list indexes). */
    boolean known(String name) {
        String squashed = squash(name);
        return exact.contains(squashed) || open.stream().anyMatch(squashed::startsWith);
    }

    private String describe(PropertySource<?> source, String name, boolean variable) {
        String where = where(source, name);
        String nearest = nearest(name);
        return name + " (" + where + ")" + (nearest == null ? "" : ", did you mean " + (variable
                ? RequiredSettings.environmentVariable(nearest) : nearest) + "?");
    }

    /** Where a property is set, in words: a file and line, "environment variable", "command line", "system property". */
    public static String where(PropertySource<?> source, String name) {
        if (source instanceof SystemEnvironmentPropertySource) {
            return "environment variable";
        }
        return inWords(source, OriginLookup.getOrigin(source, name));
    }

    /** A file and line where the origin names one; else the command line, a system property, or the source's own name. */
    private static String inWords(PropertySource<?> source, Origin origin) {
        if (origin != null && !origin.toString().startsWith("\"")) {
            return origin.toString();
        }
        return switch (source.getName()) {
            case "commandLineArgs" -> "command line";
            case "systemProperties" -> "system property";
            default -> origin != null ? origin.toString() : source.getName();
        };
    }

    /**
     * Where a setting's value comes from, in the same words: "environment variable HERALD_X_Y", a file and line, "command
     * line", "system property"; "not set" when no source sets it. For the checks made outside the settings'
     * validation, which used to name config/application.yaml wherever the value was set.
     */
    public static String where(Environment environment, String key) {
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            ConfigurationProperty property = source.getConfigurationProperty(name);
            if (property == null || !(source.getUnderlyingSource() instanceof PropertySource<?> underlying)) {
                continue;
            }
            Origin origin = property.getOrigin();
            if (underlying instanceof SystemEnvironmentPropertySource) {
                return origin instanceof SystemEnvironmentOrigin variable ? "environment variable " + variable.getProperty()
                        : "environment variable " + RequiredSettings.environmentVariable(key);
            }
            return inWords(underlying, origin);
        }
        return "not set";
    }

    /** The real setting closest to a wrong one, if it is close enough to be the one meant. */
    String nearest(String name) {
        String squashed = squash(name);
        return names.stream().min(Comparator.comparingInt(candidate -> distance(squash(candidate), squashed)))
                .filter(candidate -> distance(squash(candidate), squashed) <= Math.max(3, squashed.length() / 4))
                .orElse(null);
    }

    /** Letters and digits only, upper case: herald.ops-webhook.url, herald.opsWebhook.url and HERALD_OPS_WEBHOOK_URL are one. */
    static String squash(String name) {
        return name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int change = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + change);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** After RequiredSettings (a missing required setting is the first thing to fix). */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
