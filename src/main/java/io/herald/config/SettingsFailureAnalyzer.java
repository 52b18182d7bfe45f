package io.herald.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.validation.BindValidationException;
import org.springframework.boot.context.properties.bind.validation.ValidationErrors;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;
import org.springframework.core.convert.ConversionFailedException;
import org.springframework.validation.FieldError;
import org.springframework.validation.ObjectError;

/**
 * What the operator reads when one of Herald's settings (herald.*, management.health.*) cannot be used: each
 * bad key as it is written in the files and its environment variable, the value, where it was set, and why.
 * Spring Boot's own analysis names a record's components in camelCase (herald.delivery.parkedPollMs) and
 * a wrong type by its Java annotations; this one says herald.delivery.parked-poll-ms and "a whole number".
 * Other settings are left to Spring Boot.
 */
public class SettingsFailureAnalyzer extends AbstractFailureAnalyzer<BindException> implements Ordered {

    /** The failed context's settings: where a value named by a settings record's own check was set. */
    private final org.springframework.core.env.Environment environment;

    public SettingsFailureAnalyzer(org.springframework.core.env.Environment environment) {
        this.environment = environment;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, BindException failure) {
        if (!ours(failure.getName().toString())) {
            return null;
        }
        List<String> keys = new ArrayList<>();
        StringBuilder description = new StringBuilder();
        if (failure.getCause() instanceof BindValidationException validation) {
            ValidationErrors errors = validation.getValidationErrors();
            for (ObjectError error : errors) {
                String key = error instanceof FieldError field ? errors.getName() + "." + kebab(field.getField()) : errors.getName().toString();
                String reason = error.getDefaultMessage();
                String named = namedKey(reason, errors.getName().toString());
                if (named != null) {
                    // A check across settings (@AssertTrue isConsistent) names the key to correct itself; the method's
                    // name (herald.retention.consistent) is no setting.
                    key = named;
                    reason = reason.substring(named.length() + 1);
                }
                ConfigurationProperty property = bound(errors, key);
                java.util.regex.Matcher item = ITEM.matcher(key);
                if (property == null && item.matches() && bound(errors, item.group(1)) != null) {
                    // One item of a list written on one line (park-delays: 60,300,900): the key as written, the item by number.
                    key = item.group(1);
                    property = bound(errors, key);
                    Object rejected = ((FieldError) error).getRejectedValue();
                    String number = "item " + (Integer.parseInt(item.group(2)) + 1);
                    reason = rejected == null || rejected.toString().isBlank()
                            ? number + " is empty (two commas in a row?): give every item a value, or remove it"
                            : number + " (" + rejected + ") " + reason;
                }
                describe(description, key, property, reason);
                if (!keys.contains(key)) {
                    keys.add(key);
                }
            }
        } else if (ownCheck(failure) != null) {
            // A check the settings record makes itself says "herald.x.y must be ...": that key, and the rest as the reason.
            String message = ownCheck(failure);
            String key = message.substring(0, message.indexOf(' '));
            describe(description, key, set(key), message.substring(key.length() + 1));
            keys.add(key);
        } else {
            String key = failure.getName().toString();
            describe(description, key, failure.getProperty(), reason(failure));
            keys.add(key);
        }
        if (keys.isEmpty()) {
            return null;
        }
        String action = "Correct " + String.join(", ", keys) + " where it is set (Origin above: a file, the command line, or the"
                + " environment variable " + String.join(", ", keys.stream().map(SettingsFailureAnalyzer::environmentVariable).toList())
                + "). The README's configuration reference says what each setting takes.";
        return new FailureAnalysis("Herald's settings are not usable:\n" + description, action, failure);
    }

    /** The key a check's message starts with ("herald.retention.ledger must be ..."), when it is one of the group's; or null. */
    private static String namedKey(String message, String group) {
        if (message == null || !message.startsWith(group + ".") || message.indexOf(' ') < 0) {
            return null;
        }
        return message.substring(0, message.indexOf(' '));
    }

    /** A list's item as a validation error names it: herald.delivery.park-delays[0]. */
    private static final java.util.regex.Pattern ITEM = java.util.regex.Pattern.compile("(.+)\\[(\\d+)]");

    private static final java.util.regex.Pattern SECRET_KEY = java.util.regex.Pattern.compile("(?i)(secret|password|token|account-sid|api-key)");

    /** Herald's settings: herald.* (HeraldSettings and WebhookSettings are bound at "herald" itself) and management.health.*. */
    private static boolean ours(String name) {
        return name.equals("herald") || name.startsWith("herald.") || name.startsWith("management.health");
    }

    private static void describe(StringBuilder description, String key, ConfigurationProperty property, String reason) {
        description.append("\n    Property: ").append(key);
        if (property != null) {
            // A secret's value is never printed, not even a wrong one: the log would carry it.
            description.append("\n    Value: ").append(SECRET_KEY.matcher(key).find() ? "(hidden, as it is a secret)"
                    : "\"" + property.getValue() + '"');
            if (property.getOrigin() != null) {
                description.append("\n    Origin: ").append(property.getOrigin());
            }
        }
        description.append("\n    Reason: ").append(reason).append('\n');
    }

    /** The value a key was given and where, from the context's settings; null if it was not set (its default failed). */
    private ConfigurationProperty set(String key) {
        if (environment == null) {
            return null;
        }
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
        for (org.springframework.boot.context.properties.source.ConfigurationPropertySource source
                : org.springframework.boot.context.properties.source.ConfigurationPropertySources.get(environment)) {
            ConfigurationProperty property = source.getConfigurationProperty(name);
            if (property != null) {
                return property;
            }
        }
        return null;
    }

    private static ConfigurationProperty bound(ValidationErrors errors, String key) {
        ConfigurationPropertyName name = ConfigurationPropertyName.adapt(key, '.');
        return errors.getBoundProperties().stream().filter(property -> property.getName().equals(name)).findFirst().orElse(null);
    }

    /** The message of a settings record's own check ("herald.scheduling.default-time-zone must be ..."), or null. */
    private static String ownCheck(BindException failure) {
        Throwable specific = org.springframework.core.NestedExceptionUtils.getMostSpecificCause(failure);
        String message = specific instanceof IllegalArgumentException ? specific.getMessage() : null;
        return message != null && message.startsWith("herald.") && message.indexOf(' ') > 0 ? message : null;
    }

    /** Why a value could not be read, in words (the Java conversion detail stays in the stack trace). */
    private static String reason(BindException failure) {
        Throwable cause = failure.getCause();
        if (cause instanceof ConversionFailedException conversion) {
            Class<?> type = conversion.getTargetType().getObjectType();
            if (type == Long.class || type == Integer.class) {
                return "not a whole number";
            }
            if (type == Double.class) {
                return "not a number";
            }
            if (type == Boolean.class) {
                return "must be true or false";
            }
            if (type == Duration.class) {
                return "not a duration: give one such as PT5M, 30s or 500ms";
            }
            if (type.isEnum()) {
                return "must be one of " + String.join(", ", java.util.Arrays.stream(type.getEnumConstants())
                        .map(constant -> constant instanceof SettingChoice choice ? choice.spelled()
                                : ((Enum<?>) constant).name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
            }
            return "cannot be read as " + type.getSimpleName();
        }
        if (cause instanceof org.springframework.core.convert.ConverterNotFoundException notAValue && notAValue.getTargetType() != null) {
            // One value for a group of settings, a list or a map (HERALD_DELIVERY_TIMEOUTS=5000): Spring's words name Java types.
            return notOneValue(failure.getName().toString(), notAValue.getTargetType());
        }
        return "cannot be used as it is written; the README's configuration reference says what this setting takes";
    }

    /** What a key that holds a group of settings, a list or a map takes instead of one value. */
    private static String notOneValue(String key, org.springframework.core.convert.TypeDescriptor target) {
        if (target.isMap()) {
            return "is a map, not one value: set each entry as its own key, " + key + ".<name>";
        }
        if (target.isCollection() || target.isArray()) {
            org.springframework.core.convert.TypeDescriptor item = target.getElementTypeDescriptor();
            List<String> keys = item == null ? List.of() : settingsOf(key + "[0]", item.getObjectType());
            return keys.isEmpty() ? "is a list: give its items separated by commas, or one by one as " + key + "[0], " + key + "[1], …"
                    : "is a list, not one value: set each item's settings, " + String.join(", ", keys) + " ("
                    + environmentVariable(keys.get(0)) + ", …)";
        }
        List<String> keys = settingsOf(key, target.getObjectType());
        return keys.isEmpty() ? "cannot be read as it is written; the README's configuration reference says what this setting takes"
                : "is a group of settings, not one value: set " + String.join(", ", keys);
    }

    /** The keys under a group of settings (a record's components, as they are written), or none. */
    private static List<String> settingsOf(String key, Class<?> type) {
        if (type == null || !type.isRecord()) {
            return List.of();
        }
        return java.util.Arrays.stream(type.getRecordComponents()).map(component -> key + "." + kebab(component.getName())).toList();
    }

    /** parkedPollMs -> parked-poll-ms, signatureBurst.threshold -> signature-burst.threshold, parkDelays[0] -> park-delays[0]. */
    static String kebab(String field) {
        return field.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    static String environmentVariable(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_').replace("[", "_").replace("]", "");
    }
}
