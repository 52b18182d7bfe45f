package io.herald.notification;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A type's {@code cancelled-by} in the catalog (issue 14 point 4): a newer event that makes a waiting notification of
 * this type pointless, e.g. billing.payment_failed {@code cancelled-by: {types: [billing.invoice_paid], match: invoiceId}}.
 * When a notification of one of {@code types} is dispatched, the waiting (SCHEDULED) notifications of this type that
 * name the same {@code match} value are cancelled, never sent. The value is read from the notification's refs (then its
 * data); the match key both sides meet on is the field without its "Id" and the value: {@code invoice:in_123}.
 * A type may name itself: then only a newer one of its kind cancels it, one that occurred strictly later at the source
 * (a charge.refunded telling the running total: an older total received after a newer one is not sent). Two of the same
 * second cancel neither. A type with a digest may name itself too (support.ticket_status_changed: the ticket's status):
 * its updates within a window are listed in the digest in the order they occurred, whatever order they arrived in, and only
 * one that would open a new digest after a newer one of its kind was told (or is on its way) is cancelled
 * (io.herald.digest.CustomerDigests); a newer one never cancels the older ones waiting in a digest.
 */
public record CancelledBy(List<String> types, String match) {

    private static final Pattern FIELD = Pattern.compile("^[A-Za-z][A-Za-z0-9_]*$");
    private static final String USAGE = "must be {types: [<notification type>, ...], match: <ref or data field>},"
            + " e.g. {types: [billing.invoice_paid], match: invoiceId}";

    /** What a notification names for this rule (e.g. "invoice:in_123"); null when it names nothing (the field is empty). */
    public String matchKey(CanonicalNotification notification) {
        Object value = notification.refs() == null ? null : notification.refs().get(match);
        if (value == null && notification.data() != null) {
            value = notification.data().get(match);
        }
        if (value == null || String.valueOf(value).isBlank()) {
            return null;
        }
        return what() + ":" + value;
    }

    /** Whether a newer notification of the type itself cancels it (the type names itself in {@code types}). */
    public boolean byNewerOfItsKind(String type) {
        return types.contains(type);
    }

    /** The thing both notifications are about, in words: "invoice" for invoiceId. */
    public String what() {
        return match.endsWith("Id") && match.length() > 2 ? match.substring(0, match.length() - 2) : match;
    }

    /** cancelled-by of every type that has one, checked: the cancelling types must be in the catalog, the field a name. */
    static Map<String, CancelledBy> load(Path file, Map<?, ?> types) {
        Map<String, CancelledBy> rules = new LinkedHashMap<>();
        types.forEach((name, value) -> {
            String key = "notifications." + name + ".cancelled-by";
            Object setting = value instanceof Map<?, ?> settings ? settings.get("cancelled-by") : null;
            if (setting == null) {
                return;
            }
            if (!(setting instanceof Map<?, ?> rule)) {
                throw NotificationCatalog.invalid(file, key, USAGE + "; was " + setting);
            }
            for (Object part : rule.keySet()) {
                if (!Set.of("types", "match").contains(String.valueOf(part))) {
                    throw NotificationCatalog.invalid(file, key + "." + part, "is not a setting of cancelled-by; " + USAGE);
                }
            }
            if (!(rule.get("types") instanceof List<?> cancelling) || cancelling.isEmpty()) {
                throw NotificationCatalog.invalid(file, key + ".types", "must be a non-empty list of the notification types that cancel it; " + USAGE);
            }
            for (Object type : cancelling) {
                if (!types.containsKey(String.valueOf(type))) {
                    throw NotificationCatalog.invalid(file, key + ".types", "names '" + type + "', which is not a notification type in the"
                            + " catalog; known: " + new TreeSet<>(types.keySet().stream().map(String::valueOf).toList()));
                }
            }
            String match = rule.get("match") == null ? null : String.valueOf(rule.get("match")).strip();
            if (match == null || !FIELD.matcher(match).matches()) {
                throw NotificationCatalog.invalid(file, key + ".match", "must name the ref or data field both notifications carry"
                        + " (e.g. invoiceId), was '" + rule.get("match") + "'");
            }
            rules.put(String.valueOf(name), new CancelledBy(cancelling.stream().map(String::valueOf).toList(), match));
        });
        return Map.copyOf(rules);
    }
}
