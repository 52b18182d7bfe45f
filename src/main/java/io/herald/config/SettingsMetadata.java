package io.herald.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Herald's own settings as the configuration processor describes them (META-INF/spring-configuration-metadata.json,
 * written at build time from the records in this package and their javadoc): name, type, default and description
 * of every herald.* key. The console's Configuration page lists them; tests check the README against them.
 */
public final class SettingsMetadata {

    public static final String RESOURCE = "META-INF/spring-configuration-metadata.json";

    /** Keys whose values are never shown: passwords, secrets, tokens, API keys, and the account list (it holds passwords). */
    private static final Pattern SECRET = Pattern.compile(".*(password|secret|token|api-key)$|herald\\.security\\.users");

    /**
     * One setting.
     *
     * @param name         the property, e.g. herald.delivery.parked-poll-ms
     * @param type         its Java type, e.g. java.lang.Long or java.util.List&lt;java.time.Duration&gt;
     * @param description  what it does (from the record's javadoc); may be empty
     * @param defaultValue the default when nothing sets it, as text; null if none is declared
     */
    public record Setting(String name, String type, String description, String defaultValue) {

        public boolean secret() {
            return isSecret(name);
        }

        /** The part after herald., up to the next dot: mail, delivery, alerts...; "general" for herald.routes and the like. */
        public String section() {
            String rest = name.startsWith("herald.") ? name.substring("herald.".length()) : name;
            int dot = rest.indexOf('.');
            return dot < 0 ? "general" : rest.substring(0, dot);
        }
    }

    private SettingsMetadata() {
    }

    public static boolean isSecret(String name) {
        return SECRET.matcher(name).matches();
    }

    /** Every herald.* setting of the metadata on the classpath, by name. */
    public static List<Setting> herald() {
        ClassLoader loader = SettingsMetadata.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath: build Herald with Maven (the configuration"
                        + " processor writes it)");
            }
            return herald(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(RESOURCE + " cannot be read", e);
        }
    }

    static List<Setting> herald(JsonNode metadata) {
        List<Setting> settings = new ArrayList<>();
        for (JsonNode property : metadata.path("properties")) {
            String name = property.path("name").asText();
            if (!name.startsWith("herald.") || property.has("deprecation")) {
                continue;
            }
            JsonNode defaultValue = property.get("defaultValue");
            String shown = defaultValue == null || defaultValue.isNull() ? null
                    : defaultValue.isArray() ? join(defaultValue) : defaultValue.asText();
            settings.add(new Setting(name, property.path("type").asText(), property.path("description").asText(""), shown));
        }
        settings.sort(Comparator.comparing(Setting::name));
        return List.copyOf(settings);
    }

    private static String join(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return String.join(",", values);
    }
}
