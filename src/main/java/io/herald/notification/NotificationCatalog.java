package io.herald.notification;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.yaml.snakeyaml.Yaml;

/**
 * The notification catalog (config/catalog.yaml): which notification types exist, their
 * customer-facing category, priority and channels. Read at startup; a broken catalog stops
 * startup with the file and the key at fault.
 */
@Component
public class NotificationCatalog {

    public static final Set<String> CHANNELS = Set.of("email", "sms", "push", "in_app", "ops_webhook");
    private static final Set<String> PRIORITIES = Set.of("low", "normal", "high");

    public record Entry(String type, String category, String priority, List<String> channels) {
    }

    private final Path file;
    private final Map<String, Entry> entries;

    public NotificationCatalog(@Value("${herald.catalog:config/catalog.yaml}") String file) {
        this.file = Path.of(file);
        this.entries = load(this.file);
    }

    public boolean knows(String type) {
        return entries.containsKey(type);
    }

    public Entry entry(String type) {
        Entry entry = entries.get(type);
        if (entry == null) {
            throw new InvalidNotification("type '" + type + "' is not in the notification catalog (" + file + ")");
        }
        return entry;
    }

    public String source() {
        return file.toString();
    }

    private static Map<String, Entry> load(Path file) {
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalStateException("Notification catalog " + file + " is not valid YAML: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top) || !(top.get("notifications") instanceof Map<?, ?> types) || types.isEmpty()) {
            throw invalid(file, "notifications", "must be a map of notification type to its settings");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        types.forEach((name, value) -> {
            String key = "notifications." + name;
            if (!(value instanceof Map<?, ?> settings)) {
                throw invalid(file, key, "must be a map with category, priority and channels");
            }
            String category = text(settings.get("category"));
            if (category == null) {
                throw invalid(file, key + ".category", "is required (e.g. billing, orders, support)");
            }
            String priority = text(settings.get("priority"));
            if (priority == null || !PRIORITIES.contains(priority)) {
                throw invalid(file, key + ".priority", "must be one of " + PRIORITIES + ", was " + settings.get("priority"));
            }
            if (!(settings.get("channels") instanceof List<?> channels) || channels.isEmpty()) {
                throw invalid(file, key + ".channels", "must be a non-empty list of channels from " + CHANNELS);
            }
            for (Object channel : channels) {
                if (!CHANNELS.contains(String.valueOf(channel))) {
                    throw invalid(file, key + ".channels", "has unknown channel '" + channel + "'; known: " + CHANNELS);
                }
            }
            entries.put(String.valueOf(name), new Entry(String.valueOf(name), category, priority,
                    channels.stream().map(String::valueOf).toList()));
        });
        return Map.copyOf(entries);
    }

    private static String text(Object value) {
        return value == null || String.valueOf(value).isBlank() ? null : String.valueOf(value);
    }

    private static IllegalStateException invalid(Path file, String key, String problem) {
        return new IllegalStateException("Notification catalog " + file + ": key '" + key + "' " + problem);
    }
}
