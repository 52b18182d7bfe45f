package io.herald.notification;

import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One customer-facing category's timing rules from the catalog's top-level {@code categories:} section (issue 14 point 4):
 * its quiet hours in the customer's local time ({@code quiet-hours: "21:00-08:00"}, may cross midnight), and whether a
 * high-priority notification waits for them too ({@code high-priority: hold}) or goes at once ({@code send}, the default).
 * A category without an entry has no quiet hours.
 */
public record Category(String name, LocalTime quietFrom, LocalTime quietUntil, boolean holdsHighPriority) {

    private static final Pattern RANGE = Pattern.compile("^\\s*(\\d{2}:\\d{2})\\s*-\\s*(\\d{2}:\\d{2})\\s*$");
    private static final Set<String> KEYS = Set.of("quiet-hours", "high-priority");
    private static final Set<String> HIGH_PRIORITY = Set.of("send", "hold");

    public boolean hasQuietHours() {
        return quietFrom != null;
    }

    /** As written in the catalog, e.g. "21:00-08:00". */
    public String quietHours() {
        return quietFrom + "-" + quietUntil;
    }

    /**
     * The categories section, checked against the types' categories ({@code used}): an unknown setting, a malformed
     * range, an empty range or a category no type has (a typo would silently hold nothing) stop startup with the key.
     */
    static Map<String, Category> load(Path file, Map<?, ?> root, Set<String> used) {
        Object section = root.get("categories");
        if (section == null) {
            return Map.of();
        }
        if (!(section instanceof Map<?, ?> categories)) {
            throw NotificationCatalog.invalid(file, "categories", "must be a map of category to its settings, e.g."
                    + " {billing: {quiet-hours: \"21:00-08:00\", high-priority: hold}}");
        }
        Map<String, Category> loaded = new LinkedHashMap<>();
        categories.forEach((name, value) -> {
            String key = "categories." + name;
            if (!used.contains(String.valueOf(name))) {
                throw NotificationCatalog.invalid(file, key, "is not the category of any notification type; the types' categories are "
                        + new TreeSet<>(used));
            }
            if (!(value instanceof Map<?, ?> settings)) {
                throw NotificationCatalog.invalid(file, key, "must be a map with quiet-hours (e.g. \"21:00-08:00\") and optionally"
                        + " high-priority (send or hold)");
            }
            for (Object setting : settings.keySet()) {
                if (!KEYS.contains(String.valueOf(setting))) {
                    throw NotificationCatalog.invalid(file, key + "." + setting, "is not a setting of a category; known: " + new TreeSet<>(KEYS));
                }
            }
            LocalTime[] range = range(file, key + ".quiet-hours", settings.get("quiet-hours"));
            Object high = settings.get("high-priority");
            String highPriority = high == null ? "send" : String.valueOf(high).strip();
            if (!HIGH_PRIORITY.contains(highPriority)) {
                throw NotificationCatalog.invalid(file, key + ".high-priority", "must be send (a high-priority notification ignores the"
                        + " quiet hours, the default) or hold (it waits for them too), was '" + high + "'");
            }
            if (range == null && high != null) {
                throw NotificationCatalog.invalid(file, key + ".high-priority", "needs quiet-hours beside it: without them nothing is held");
            }
            loaded.put(String.valueOf(name), new Category(String.valueOf(name), range == null ? null : range[0],
                    range == null ? null : range[1], "hold".equals(highPriority)));
        });
        return Map.copyOf(loaded);
    }

    private static LocalTime[] range(Path file, String key, Object value) {
        if (value == null) {
            return null;
        }
        String usage = "must be a local time range HH:MM-HH:MM in the customer's time zone, e.g. \"21:00-08:00\" (may cross midnight)";
        Matcher range = RANGE.matcher(String.valueOf(value));
        if (!range.matches()) {
            throw NotificationCatalog.invalid(file, key, usage + ", was '" + value + "'");
        }
        try {
            LocalTime from = LocalTime.parse(range.group(1));
            LocalTime until = LocalTime.parse(range.group(2));
            if (from.equals(until)) {
                throw NotificationCatalog.invalid(file, key, "starts and ends at the same time (" + value + "): " + usage);
            }
            return new LocalTime[] {from, until};
        } catch (DateTimeParseException e) {
            throw NotificationCatalog.invalid(file, key, usage + ", was '" + value + "' (not a time of day)");
        }
    }
}
