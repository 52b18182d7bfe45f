package io.herald.notification;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.config.HeraldSettings;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import org.yaml.snakeyaml.Yaml;

/**
 * The notification catalog (config/catalog.yaml): which notification types exist, their
 * customer-facing category, priority, channels, strategy, templates and send window, and what happens to a message that is
 * late ({@link LatePolicy}). Read at startup; a broken catalog stops startup with the file and the key at fault.
 */
@Component
public class NotificationCatalog {

    public static final Set<String> CHANNELS = Set.of("email", "sms", "push", "in_app", "ops_webhook");
    private static final Set<String> PRIORITIES = Set.of("low", "normal", "high");
    private static final Set<String> STRATEGIES = Set.of("all", "first-success");
    private static final Set<String> OPS_MODES = Set.of("digest", "each");

    /**
     * One notification type. strategy "all" sends on every listed channel; "first-success" tries
     * them in order and stops at the first one sent. templates names the folder under templates/;
     * window is how long after the event the message is still worth sending. ops says how its
     * ops_webhook channel is posted: "digest" (default, grouped with others of the type) or "each".
     * approval, when set, holds its notifications for an approver (null: sent without approval).
     */
    public record Entry(String type, String category, String priority, List<String> channels, String strategy,
                        String templates, Duration window, String ops, Approval approval) {
        public Entry(String type, String category, String priority, List<String> channels, String strategy,
                     String templates, Duration window, String ops) {
            this(type, category, priority, channels, strategy, templates, window, ops, null);
        }

        public boolean firstSuccess() {
            return "first-success".equals(strategy);
        }

        /** Its ops webhook posts go out one per notification rather than grouped in a digest. */
        public boolean opsEach() {
            return "each".equals(ops);
        }
    }

    /**
     * approval: required (every notification of the type), or {field: amountRefunded, above: 1000}: only when the
     * number at the start of data.&lt;field&gt; ("1250.00 GBP" reads 1250.00) is above the threshold. A notification whose
     * field is missing or not a number is held too: when in doubt, a person decides.
     */
    public record Approval(String field, BigDecimal above) {
        private static final Pattern LEADING_NUMBER = Pattern.compile("^\\s*(-?\\d+(?:\\.\\d+)?)");

        public static Approval always() {
            return new Approval(null, null);
        }

        /** Why this notification must be approved before it is sent, in words; null when it need not be. */
        public String holdReason(CanonicalNotification notification) {
            if (field == null) {
                return "every " + notification.type() + " notification needs an approver (config/catalog.yaml: approval: required)";
            }
            Object value = notification.data() == null ? null : notification.data().get(field);
            Matcher number = LEADING_NUMBER.matcher(value == null ? "" : String.valueOf(value));
            if (!number.find()) {
                return notification.type() + " needs an approver above " + above.toPlainString() + " in data." + field
                        + ", and this one's " + field + " is " + (value == null ? "missing" : "not a number (" + value + ")")
                        + ": held for a person to decide";
            }
            BigDecimal amount = new BigDecimal(number.group(1));
            return amount.compareTo(above) > 0
                    ? notification.type() + " with " + field + " " + value + " is above the approval threshold " + above.toPlainString()
                    + " (config/catalog.yaml)"
                    : null;
        }
    }

    /** The delivery outcomes a ticket note can be written for (ticket-notes), as delivery states. */
    public static final List<String> TICKET_NOTE_OUTCOMES = List.of("SENT", "DELIVERED", "BOUNCED", "UNDELIVERED", "COMPLAINED", "FAILED", "UNCERTAIN");

    /** The late-message policies (late:) a type may have. */
    public static final List<String> LATE_POLICIES = List.of("send", "drop", "hold");
    private static final Pattern FIELD_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * What happens to a message that is late (issue 14 point 5): past its type's window, or past the time its data names in
     * {@code validUntil} (e.g. data.nextPaymentAttempt: "we will try again on ..." must not go out once that time passed).
     * late: send (the default) sends it anyway, flagged as a window miss; drop ends it EXPIRED, not sent; hold keeps it HELD
     * until an operator sends or dismisses it. validUntil null: only the window counts.
     */
    public record LatePolicy(String late, String validUntil) {
        public static final LatePolicy SEND = new LatePolicy("send", null);

        public boolean sendsLate() {
            return "send".equals(late);
        }
    }

    private final Path file;
    private final Map<String, Entry> entries;
    private final Map<String, Set<String>> ticketNotes;
    private final Map<String, LatePolicy> latePolicies;

    @Autowired
    public NotificationCatalog(HeraldSettings settings) {
        this(settings.catalog());
    }

    public NotificationCatalog(String file) {
        this.file = Path.of(file);
        this.entries = load(this.file);
        this.ticketNotes = ticketNotes(this.file);
        this.latePolicies = latePolicies(this.file);
    }

    /** The type's late-message policy (late, valid-until); late: send without valid-until when the catalog says nothing. */
    public LatePolicy latePolicy(String type) {
        return latePolicies.getOrDefault(type, LatePolicy.SEND);
    }

    /**
     * late and valid-until per type, checked: late one of {@link #LATE_POLICIES}; valid-until a data field name, and only with
     * late: drop or hold (with send, a message past that time would go out as if it were still to come); late: hold with an
     * ops_webhook posted in digests is refused (the digest would post before the operator decided). Read after {@link #load}.
     */
    private static Map<String, LatePolicy> latePolicies(Path file) {
        Map<String, LatePolicy> policies = new LinkedHashMap<>();
        ((Map<?, ?>) ((Map<?, ?>) read(file)).get("notifications")).forEach((name, value) -> {
            Map<?, ?> settings = (Map<?, ?>) value;
            String key = "notifications." + name;
            Object lateSetting = settings.get("late");
            String late = text(lateSetting) == null ? "send" : text(lateSetting).strip();
            if (!LATE_POLICIES.contains(late)) {
                throw invalid(file, key + ".late", "must be one of " + LATE_POLICIES + " (what happens to a message past its window:"
                        + " sent late and flagged, not sent (EXPIRED), or held for an operator), was '" + lateSetting + "'");
            }
            String validUntil = text(settings.get("valid-until"));
            if (validUntil != null && !FIELD_NAME.matcher(validUntil.strip()).matches()) {
                throw invalid(file, key + ".valid-until", "must name one field of the notification's data holding an ISO-8601 time"
                        + " (e.g. nextPaymentAttempt), was '" + validUntil + "'");
            }
            if (validUntil != null && "send".equals(late)) {
                throw invalid(file, key + ".valid-until", "needs late: drop or late: hold: with late: send a message past data."
                        + validUntil.strip() + " would go out as if that time were still to come");
            }
            if ("hold".equals(late) && settings.get("channels") instanceof List<?> channels && channels.contains("ops_webhook")
                    && !"each".equals(text(settings.get("ops")))) {
                throw invalid(file, key + ".ops", "must be 'each' for a type with late: hold: a digest would post the ops webhook"
                        + " before the operator decided");
            }
            if (!"send".equals(late) || validUntil != null) {
                policies.put(String.valueOf(name), new LatePolicy(late, validUntil == null ? null : validUntil.strip()));
            }
        });
        return Map.copyOf(policies);
    }

    private static Object read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return new Yaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * ticket-notes: the delivery outcomes (states, e.g. SENT, BOUNCED) of this type that get a private note on the
     * helpdesk ticket (issue 13 point 6); empty when off (the default).
     */
    public Set<String> ticketNotes(String type) {
        return ticketNotes.getOrDefault(type, Set.of());
    }

    /** Every type with ticket notes on, with its outcomes. */
    public Map<String, Set<String>> ticketNotes() {
        return ticketNotes;
    }

    /**
     * ticket-notes per type: absent or false (none), true (every outcome), or a list of outcomes from
     * {@link #TICKET_NOTE_OUTCOMES} in lower case, e.g. [sent, bounced, failed]. Read after {@link #load}, which checked the file.
     */
    private static Map<String, Set<String>> ticketNotes(Path file) {
        Map<String, Set<String>> notes = new LinkedHashMap<>();
        List<String> known = TICKET_NOTE_OUTCOMES.stream().map(String::toLowerCase).toList();
        String usage = "must be true (a note for every outcome), false (the default) or a list of outcomes from " + known
                + ", e.g. [sent, bounced, failed]";
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = new Yaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read: " + e.getMessage(), e);
        }
        ((Map<?, ?>) ((Map<?, ?>) root).get("notifications")).forEach((name, value) -> {
            String key = "notifications." + name + ".ticket-notes";
            Object setting = ((Map<?, ?>) value).get("ticket-notes");
            if (setting == null || Boolean.FALSE.equals(setting)) {
                return;
            }
            if (Boolean.TRUE.equals(setting)) {
                notes.put(String.valueOf(name), Set.copyOf(TICKET_NOTE_OUTCOMES));
                return;
            }
            if (!(setting instanceof List<?> outcomes) || outcomes.isEmpty()) {
                throw invalid(file, key, usage + "; was " + setting);
            }
            for (Object outcome : outcomes) {
                if (!known.contains(String.valueOf(outcome))) {
                    throw invalid(file, key, "has unknown outcome '" + outcome + "'; " + usage);
                }
            }
            notes.put(String.valueOf(name), Set.copyOf(outcomes.stream().map(o -> String.valueOf(o).toUpperCase()).toList()));
        });
        return Map.copyOf(notes);
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

    public Collection<Entry> entries() {
        return entries.values();
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
                throw invalid(file, key, "must be a map with category, priority, channels and window");
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
            if (channels.stream().distinct().count() != channels.size()) {
                throw invalid(file, key + ".channels", "lists a channel twice: " + channels);
            }
            String strategy = text(settings.get("strategy")) == null ? "all" : text(settings.get("strategy"));
            if (!STRATEGIES.contains(strategy)) {
                throw invalid(file, key + ".strategy", "must be one of " + STRATEGIES + ", was " + strategy);
            }
            String templates = text(settings.get("templates")) == null ? String.valueOf(name) : text(settings.get("templates"));
            Duration window = window(file, key + ".window", settings.get("window"));
            String ops = text(settings.get("ops")) == null ? "digest" : text(settings.get("ops"));
            if (!OPS_MODES.contains(ops)) {
                throw invalid(file, key + ".ops", "must be one of " + OPS_MODES + " (how its ops_webhook posts go out), was " + ops);
            }
            Approval approval = approval(file, key + ".approval", settings.get("approval"));
            if (approval != null && channels.contains("ops_webhook") && !"each".equals(ops)) {
                throw invalid(file, key + ".ops", "must be 'each' for a type that requires approval: a digest would post the"
                        + " ops webhook before the approver decided");
            }
            entries.put(String.valueOf(name), new Entry(String.valueOf(name), category, priority,
                    channels.stream().map(String::valueOf).toList(), strategy, templates, window, ops, approval));
        });
        return Map.copyOf(entries);
    }

    /** approval: absent (none), "required", or {field: &lt;data field&gt;, above: &lt;number&gt;}. */
    private static Approval approval(Path file, String key, Object value) {
        String usage = "must be 'required' or a threshold {field: <data field>, above: <number>}, e.g. {field: amountRefunded, above: 1000}";
        if (value == null) {
            return null;
        }
        if (value instanceof String text) {
            if (text.strip().equals("required")) {
                return Approval.always();
            }
            throw invalid(file, key, usage + "; was '" + text + "'");
        }
        if (!(value instanceof Map<?, ?> threshold)) {
            throw invalid(file, key, usage + "; was " + value);
        }
        for (Object name : threshold.keySet()) {
            if (!Set.of("field", "above").contains(String.valueOf(name))) {
                throw invalid(file, key + "." + name, "is not a setting of approval; " + usage);
            }
        }
        String field = text(threshold.get("field"));
        if (field == null) {
            throw invalid(file, key + ".field", "is required: the data field whose amount is compared (e.g. amountRefunded)");
        }
        try {
            return new Approval(field, new BigDecimal(String.valueOf(threshold.get("above")).strip()));
        } catch (NumberFormatException e) {
            throw invalid(file, key + ".above", "must be a number (e.g. 1000), was '" + threshold.get("above") + "'");
        }
    }

    /** An ISO-8601 duration (PT15M, PT24H, P3D): required, positive. */
    private static Duration window(Path file, String key, Object value) {
        if (text(value) == null) {
            throw invalid(file, key, "is required: how long after the event the message must be sent (ISO-8601, e.g. PT15M, PT24H)");
        }
        try {
            Duration window = Duration.parse(text(value));
            if (window.isNegative() || window.isZero()) {
                throw invalid(file, key, "must be positive, was " + value);
            }
            return window;
        } catch (DateTimeParseException e) {
            throw invalid(file, key, "must be an ISO-8601 duration such as PT15M or PT24H, was '" + value + "'");
        }
    }

    private static String text(Object value) {
        return value == null || String.valueOf(value).isBlank() ? null : String.valueOf(value);
    }

    private static IllegalStateException invalid(Path file, String key, String problem) {
        return new IllegalStateException("Notification catalog " + file + ": key '" + key + "' " + problem);
    }
}
