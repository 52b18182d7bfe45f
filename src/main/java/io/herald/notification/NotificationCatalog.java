package io.herald.notification;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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

    /** The catalog's top-level keys and a type's settings (the header of config/catalog.yaml describes each). */
    private static final Set<String> TOP_KEYS = Set.of("categories", "notifications");
    private static final Set<String> ENTRY_KEYS = Set.of("category", "priority", "channels", "strategy", "templates", "window", "late",
            "valid-until", "ops", "approval", "ticket-notes", "reminders", "digest", "cancelled-by");

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

        /** The channel a first-success chain tries after {@code channel}, or null (the last one, or not first-success). */
        public String nextAfter(String channel) {
            if (!firstSuccess()) {
                return null;
            }
            int next = channels.indexOf(channel) + 1;
            return next > 0 && next < channels.size() ? channels.get(next) : null;
        }

        /** Its ops webhook posts go out one per notification rather than grouped in a digest. */
        public boolean opsEach() {
            return "each".equals(ops);
        }
    }

    /**
     * approval: required (every notification of the type), or {field: amountRefunded, above: 1000}: only when the
     * number at the start of data.&lt;field&gt; ("1250.00 GBP" reads 1250.00) is above the threshold. The threshold may be
     * per currency, {@code above: {GBP: 1000, JPY: 150000}}: an amount is compared with its own currency's, and one in a
     * currency not listed is held (1000 means little in yen, much in dinars). A notification whose field is missing or
     * not a number is held too: when in doubt, a person decides.
     */
    public record Approval(String field, BigDecimal above, Map<String, BigDecimal> abovePerCurrency) {
        private static final Pattern AMOUNT = Pattern.compile("^\\s*(-?\\d+(?:\\.\\d+)?)(?:\\s+([A-Za-z]{3}))?");

        public static Approval always() {
            return new Approval(null, null, Map.of());
        }

        /** Why this notification must be approved before it is sent, in words; null when it need not be. */
        public String holdReason(CanonicalNotification notification) {
            if (field == null) {
                return "every " + notification.type() + " notification needs an approver (config/catalog.yaml: approval: required)";
            }
            Object value = notification.data() == null ? null : notification.data().get(field);
            Matcher amount = AMOUNT.matcher(value == null ? "" : String.valueOf(value));
            if (!amount.find()) {
                return notification.type() + " needs an approver above " + threshold() + " in data." + field
                        + ", and this one's " + field + " is " + (value == null ? "missing" : "not a number (" + value + ")")
                        + ": held for a person to decide";
            }
            BigDecimal limit = above;
            String currency = amount.group(2) == null ? null : amount.group(2).toUpperCase(java.util.Locale.ROOT);
            if (!abovePerCurrency.isEmpty()) {
                limit = currency == null ? null : abovePerCurrency.get(currency);
                if (limit == null) {
                    return notification.type() + " with " + field + " " + value + " has no approval threshold for "
                            + (currency == null ? "an amount without a currency" : currency) + " (config/catalog.yaml lists "
                            + String.join(", ", abovePerCurrency.keySet()) + "): held for a person to decide";
                }
            }
            return new BigDecimal(amount.group(1)).compareTo(limit) > 0
                    ? notification.type() + " with " + field + " " + value + " is above the approval threshold " + limit.toPlainString()
                    + (abovePerCurrency.isEmpty() ? "" : " " + currency) + " (config/catalog.yaml)"
                    : null;
        }

        private String threshold() {
            return abovePerCurrency.isEmpty() ? above.toPlainString()
                    : String.join(", ", abovePerCurrency.entrySet().stream().map(e -> e.getValue().toPlainString() + " " + e.getKey()).toList());
        }
    }

    /** The delivery outcomes a ticket note can be written for (ticket-notes), as delivery states. */
    public static final List<String> TICKET_NOTE_OUTCOMES = List.of("SENT", "DELIVERED", "BOUNCED", "UNDELIVERED", "COMPLAINED", "FAILED", "UNCERTAIN");

    /**
     * reminders (issue 14 point 2), one key in three forms. On a booking type, the reminders it gets:
     * {@code {type: crm.appointment_reminder, before: [PT24H, PT2H], of: startsAt, for: appointmentId}}: one notification
     * of {@code type} per offset, due that long before the time in data.&lt;of&gt;, waiting under the match key
     * "appointment:&lt;data.appointmentId&gt;" (the {@code for} field without its "Id"). On a reschedule type
     * {@code {move: crm.appointment_scheduled}}: its notifications move that booking type's pending reminders of the same
     * appointment to their new data.&lt;of&gt;; on a cancellation type {@code {cancel: crm.appointment_scheduled}}: they
     * cancel them. Here each form carries the booking's plan, so a caller needs nothing else.
     *
     * @param action  {@link #BOOK}, {@link #MOVE} or {@link #CANCEL}
     * @param booking the booking type whose reminders these are
     * @param type    the reminders' own notification type (its channels, templates, window)
     * @param before  how long before the time each reminder is due, in catalog order
     * @param of      the data field holding the appointment's time (ISO-8601 with an offset)
     * @param appointment the data field naming the appointment (the {@code for} setting)
     */
    public record Reminders(String action, String booking, String type, List<Duration> before, String of, String appointment) {
        public static final String BOOK = "book";
        public static final String MOVE = "move";
        public static final String CANCEL = "cancel";

        /** What a waiting reminder is matched by: "appointment:APT-17" (the {@code for} field without "Id", and its value). */
        public String matchKey(CanonicalNotification notification) {
            Object id = notification.data() == null ? null : notification.data().get(appointment);
            if (id == null || String.valueOf(id).isBlank()) {
                throw new InvalidNotification(notification.type() + " has reminders for data." + appointment + " (config/catalog.yaml),"
                        + " and this one has no " + appointment + ": its reminders cannot be found or scheduled. Check the mapping of "
                        + notification.sourceEventId());
            }
            String name = appointment.endsWith("Id") && appointment.length() > 2 ? appointment.substring(0, appointment.length() - 2) : appointment;
            return name + ":" + id;
        }

        /** The appointment's time, data.&lt;of&gt;; an event without a readable one cannot have reminders, and says so. */
        public Instant time(CanonicalNotification notification) {
            Object value = notification.data() == null ? null : notification.data().get(of);
            try {
                return OffsetDateTime.parse(String.valueOf(value)).toInstant();
            } catch (DateTimeParseException e) {
                throw new InvalidNotification(notification.type() + " has reminders before data." + of + " (config/catalog.yaml), and this"
                        + " one's " + of + " is " + (value == null ? "missing" : "'" + value + "', not an ISO-8601 time with an offset")
                        + ": nothing was sent or scheduled. Check the mapping of " + notification.sourceEventId());
            }
        }
    }

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
    private final Map<String, Reminders> reminders;
    private final Map<String, Digest> digests;
    private final Map<String, Category> categories;
    private final Map<String, CancelledBy> cancelledBy;
    private final Map<String, LatePolicy> latePolicies;

    @Autowired
    public NotificationCatalog(HeraldSettings settings) {
        this(settings.catalog());
    }

    public NotificationCatalog(String file) {
        this.file = Path.of(file);
        this.entries = load(this.file);
        this.ticketNotes = ticketNotes(this.file);
        this.reminders = reminders(this.file, this.entries.keySet());
        this.reminders.forEach((booking, plan) -> {
            if (Reminders.BOOK.equals(plan.action()) && entries.get(plan.type()).approval() != null) {
                // Reminders are made and scheduled when their booking is dispatched, and fire by themselves.
                throw invalid(this.file, "notifications." + plan.type() + ".approval", "cannot be set on " + plan.type() + ", the"
                        + " reminder type of " + booking + ": its reminders fire by themselves, with no approver; require approval on "
                        + booking + " instead");
            }
        });
        this.digests = digests(this.file, this.entries);
        Map<?, ?> root = (Map<?, ?>) readYaml(this.file);
        this.categories = Category.load(this.file, root, entries.values().stream().map(Entry::category).collect(java.util.stream.Collectors.toSet()));
        this.cancelledBy = CancelledBy.load(this.file, (Map<?, ?>) root.get("notifications"));
        this.latePolicies = latePolicies(this.file);
    }

    /** The category's timing rules (top-level categories: quiet hours, high-priority); empty when it has none. */
    public java.util.Optional<Category> category(String name) {
        return java.util.Optional.ofNullable(categories.get(name));
    }

    /** What cancels a waiting notification of this type (cancelled-by); empty when nothing but an operator does. */
    public java.util.Optional<CancelledBy> cancelledBy(String type) {
        return java.util.Optional.ofNullable(cancelledBy.get(type));
    }

    /** The types a notification of this type cancels while they wait, with their rule (type -> cancelled-by). */
    public Map<String, CancelledBy> cancelledWhen(String type) {
        Map<String, CancelledBy> cancelled = new LinkedHashMap<>();
        cancelledBy.forEach((waiting, rule) -> {
            if (rule.types().contains(type)) {
                cancelled.put(waiting, rule);
            }
        });
        return cancelled;
    }


    /** The reminders a type books, moves or cancels (reminders:), or null when it has none. */
    public Reminders reminders(String type) {
        return reminders.get(type);
    }

    /** The types that cancel this booking type's appointments ({@code reminders: {cancel: <booking type>}}), in no order. */
    public List<String> cancellationsOf(String bookingType) {
        return reminders.entrySet().stream().filter(type -> Reminders.CANCEL.equals(type.getValue().action())
                && type.getValue().booking().equals(bookingType)).map(Map.Entry::getKey).toList();
    }

    /** The types that move this booking type's appointments ({@code reminders: {move: <booking type>}}), in no order. */
    public List<String> movesOf(String bookingType) {
        return reminders.entrySet().stream().filter(type -> Reminders.MOVE.equals(type.getValue().action())
                && type.getValue().booking().equals(bookingType)).map(Map.Entry::getKey).toList();
    }

    /**
     * reminders per type (see {@link Reminders}), checked: the booking form needs type (another catalog type, not itself
     * a booking), before (positive ISO-8601 durations, none twice), of and for (data fields); move and cancel name a
     * type with the booking form. Read after {@link #load}, which checked the rest of the file.
     */
    private static Map<String, Reminders> reminders(Path file, Set<String> types) {
        Map<String, Map<?, ?>> declared = new LinkedHashMap<>();
        ((Map<?, ?>) ((Map<?, ?>) readYaml(file)).get("notifications")).forEach((name, value) -> {
            Object setting = ((Map<?, ?>) value).get("reminders");
            String key = "notifications." + name + ".reminders";
            if (setting == null) {
                return;
            }
            if (!(setting instanceof Map<?, ?> map) || map.isEmpty()) {
                throw invalid(file, key, "must be {type: <reminder type>, before: [PT24H, PT2H], of: <time field>, for: <id field>}"
                        + " on a booking type, or {move: <booking type>} / {cancel: <booking type>}; was " + setting);
            }
            declared.put(String.valueOf(name), map);
        });
        Map<String, Reminders> plans = new LinkedHashMap<>();
        declared.forEach((name, map) -> {
            if (map.containsKey("move") || map.containsKey("cancel")) {
                return;
            }
            String key = "notifications." + name + ".reminders";
            for (Object setting : map.keySet()) {
                if (!Set.of("type", "before", "of", "for").contains(String.valueOf(setting))) {
                    throw invalid(file, key + "." + setting, "is not a setting of reminders; a booking type's reminders are"
                            + " {type: <reminder type>, before: [PT24H, PT2H], of: <time field>, for: <id field>}");
                }
            }
            String type = text(map.get("type"));
            if (type == null || !types.contains(type)) {
                throw invalid(file, key + ".type", "must name the reminders' own notification type, listed in this catalog (e.g."
                        + " crm.appointment_reminder), was " + map.get("type"));
            }
            if (type.equals(name) || declared.containsKey(type)) {
                throw invalid(file, key + ".type", "names " + type + ", which has reminders of its own: a reminder type is a plain type"
                        + " (its channels, templates and window)");
            }
            if (!(map.get("before") instanceof List<?> offsets) || offsets.isEmpty()) {
                throw invalid(file, key + ".before", "must be a non-empty list of ISO-8601 durations before the time, e.g. [PT24H, PT2H]");
            }
            List<Duration> before = new ArrayList<>();
            for (Object offset : offsets) {
                Duration duration;
                try {
                    duration = Duration.parse(String.valueOf(offset).strip());
                } catch (DateTimeParseException e) {
                    throw invalid(file, key + ".before", "must list ISO-8601 durations such as PT24H or PT2H, has '" + offset + "'");
                }
                if (duration.isNegative() || duration.isZero()) {
                    throw invalid(file, key + ".before", "must list positive durations (how long before the time), has " + offset);
                }
                if (before.contains(duration)) {
                    throw invalid(file, key + ".before", "lists " + offset + " twice: " + offsets);
                }
                before.add(duration);
            }
            String of = text(map.get("of"));
            if (of == null) {
                throw invalid(file, key + ".of", "is required: the data field with the appointment's time (e.g. startsAt)");
            }
            String appointment = text(map.get("for"));
            if (appointment == null) {
                throw invalid(file, key + ".for", "is required: the data field naming the appointment (e.g. appointmentId), which a"
                        + " reschedule or cancellation names too");
            }
            plans.put(name, new Reminders(Reminders.BOOK, name, type, List.copyOf(before), of, appointment));
        });
        Map<String, Reminders> all = new LinkedHashMap<>(plans);
        declared.forEach((name, map) -> {
            if (plans.containsKey(name)) {
                return;
            }
            String key = "notifications." + name + ".reminders";
            if (map.size() != 1) {
                throw invalid(file, key, "must be just {move: <booking type>} or {cancel: <booking type>}, was " + map);
            }
            String action = String.valueOf(map.keySet().iterator().next());
            String booking = text(map.get(action));
            Reminders plan = booking == null ? null : plans.get(booking);
            if (plan == null) {
                throw invalid(file, key + "." + action, "must name a booking type with reminders in this catalog (e.g."
                        + " crm.appointment_scheduled), was " + map.get(action));
            }
            all.put(name, new Reminders("move".equals(action) ? Reminders.MOVE : Reminders.CANCEL, booking, plan.type(), plan.before(),
                    plan.of(), plan.appointment()));
        });
        return Map.copyOf(all);
    }

    /**
     * digest: {window: PT2M, key: ticketId}: the type's notifications for one customer and one value of data.&lt;key&gt;
     * (or refs.&lt;key&gt;) arriving within {@code window} of the first become one message, sent when the window closes
     * (io.herald.digest).
     */
    public record Digest(Duration window, String key) {
    }

    /** The type's digest window, or null when each notification goes out on its own (the default). */
    public Digest digest(String type) {
        return digests.get(type);
    }

    /**
     * digest per type: absent (none) or {window: &lt;ISO-8601 duration&gt;, key: &lt;data field&gt;}. The window is shorter than
     * the type's send window (the digest must still be worth sending when it goes out); not with approval (each
     * notification is decided by a person) and not for a type that only posts to the ops webhook (it has its own
     * digests, ops: digest). Read after {@link #load}, which checked the rest of the file.
     */
    private static Map<String, Digest> digests(Path file, Map<String, Entry> entries) {
        Map<String, Digest> digests = new LinkedHashMap<>();
        String usage = "must be {window: <ISO-8601 duration>, key: <data field>}, e.g. {window: PT2M, key: ticketId}";
        ((Map<?, ?>) ((Map<?, ?>) readYaml(file)).get("notifications")).forEach((name, value) -> {
            String key = "notifications." + name + ".digest";
            Object setting = ((Map<?, ?>) value).get("digest");
            if (setting == null) {
                return;
            }
            if (!(setting instanceof Map<?, ?> digest)) {
                throw invalid(file, key, usage + "; was " + setting);
            }
            for (Object part : digest.keySet()) {
                if (!Set.of("window", "key").contains(String.valueOf(part))) {
                    throw invalid(file, key + "." + part, "is not a setting of digest; " + usage);
                }
            }
            Entry entry = entries.get(String.valueOf(name));
            if (text(digest.get("window")) == null) {
                throw invalid(file, key + ".window", "is required: how long after the first notification the digest is sent (e.g. PT2M)");
            }
            Duration window;
            try {
                window = Duration.parse(text(digest.get("window")));
            } catch (DateTimeParseException e) {
                throw invalid(file, key + ".window", "must be an ISO-8601 duration such as PT2M, was '" + digest.get("window") + "'");
            }
            if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(entry.window()) >= 0) {
                throw invalid(file, key + ".window", "must be at least PT1S and shorter than the type's window (" + entry.window()
                        + "), so the digest is still worth sending when it goes out; was " + window);
            }
            String field = text(digest.get("key"));
            if (field == null || !field.matches("[A-Za-z][A-Za-z0-9_]*")) {
                throw invalid(file, key + ".key", "is required: the data field the events are grouped by (e.g. ticketId), was "
                        + digest.get("key"));
            }
            if (entry.approval() != null) {
                throw invalid(file, key, "cannot be used with approval: each notification of the type waits for a person's decision");
            }
            if (entry.channels().stream().allMatch("ops_webhook"::equals)) {
                throw invalid(file, key, "needs a customer channel: the ops webhook has digests of its own (ops: digest)");
            }
            digests.put(String.valueOf(name), new Digest(window, field));
        });
        return Map.copyOf(digests);
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
        ((Map<?, ?>) ((Map<?, ?>) readYaml(file)).get("notifications")).forEach((name, value) -> {
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
            if ("hold".equals(late) && settings.get("approval") != null) {
                // An operator's send-now releases a held message at once: it would go out with no approver's decision.
                throw invalid(file, key + ".late", "cannot be 'hold' for a type that requires approval: releasing the held message"
                        + " would send it without an approver; use late: drop, or send");
            }
            if (!"send".equals(late) || validUntil != null) {
                policies.put(String.valueOf(name), new LatePolicy(late, validUntil == null ? null : validUntil.strip()));
            }
        });
        return Map.copyOf(policies);
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
        List<String> known = TICKET_NOTE_OUTCOMES.stream().map(o -> o.toLowerCase(Locale.ROOT)).toList();
        String usage = "must be true (a note for every outcome), false (the default) or a list of outcomes from " + known
                + ", e.g. [sent, bounced, failed]";
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = strictYaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read" + because(e, "herald.catalog"), e);
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
            notes.put(String.valueOf(name), Set.copyOf(outcomes.stream().map(o -> String.valueOf(o).toUpperCase(Locale.ROOT)).toList()));
        });
        return Map.copyOf(notes);
    }

    public boolean knows(String type) {
        return entries.containsKey(type);
    }

    public Entry entry(String type) {
        Entry entry = entries.get(type);
        if (entry == null) {
            throw new InvalidNotification("type '" + type + "' is not in the notification catalog (" + named() + ")");
        }
        return entry;
    }

    public Collection<Entry> entries() {
        return entries.values();
    }

    /**
     * The catalog as reasons recorded for operators name it (a quarantined event, a failed delivery, an incident): the file's
     * name and the setting that points at it ("catalog.yaml, herald.catalog"), not where this server keeps the file.
     */
    public String named() {
        return file.getFileName() + ", herald.catalog";
    }

    public String source() {
        return file.toString();
    }

    private static Map<String, Entry> load(Path file) {
        Object root;
        try (InputStream in = Files.newInputStream(file)) {
            root = strictYaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read" + because(e, "herald.catalog"), e);
        } catch (RuntimeException e) {
            String notUtf8 = io.herald.config.Utf8Text.notUtf8(file, e);
            throw new IllegalStateException("Notification catalog " + file + (notUtf8 != null ? " " + notUtf8 : " is not valid YAML: " + e.getMessage()), e);
        }
        if (!(root instanceof Map<?, ?> top) || !(top.get("notifications") instanceof Map<?, ?> types) || types.isEmpty()) {
            throw invalid(file, "notifications", "must be a map of notification type to its settings");
        }
        onlyKnownKeys(file, "", top, TOP_KEYS);
        Map<String, Entry> entries = new LinkedHashMap<>();
        types.forEach((name, value) -> {
            String key = "notifications." + name;
            if (!(value instanceof Map<?, ?> settings)) {
                throw invalid(file, key, "must be a map with category, priority, channels and window");
            }
            onlyKnownKeys(file, key, settings, ENTRY_KEYS);
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
            if ("first-success".equals(strategy) && channels.contains("ops_webhook")) {
                // The team's post would count as reaching the customer: the customer channels after it were skipped.
                throw invalid(file, key + ".channels", "cannot list ops_webhook with strategy first-success: the chain is for reaching"
                        + " the customer, and a post to the internal team would end it as if the customer had been reached; list the"
                        + " customer channels only (the team's post is then not sent for this type)");
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
        String usage = "must be 'required' or a threshold {field: <data field>, above: <number, or one per currency>}, e.g."
                + " {field: amountRefunded, above: 1000} or {field: amountRefunded, above: {GBP: 1000, JPY: 150000}}";
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
        if (threshold.get("above") instanceof Map<?, ?> perCurrency) {
            Map<String, BigDecimal> limits = new LinkedHashMap<>();
            for (Map.Entry<?, ?> limit : perCurrency.entrySet()) {
                String currency = String.valueOf(limit.getKey()).strip();
                if (!currency.matches("[A-Z]{3}")) {
                    throw invalid(file, key + ".above." + currency, "must be an ISO currency code in capitals (e.g. GBP, JPY)");
                }
                limits.put(currency, number(file, key + ".above." + currency, limit.getValue()));
            }
            if (limits.isEmpty()) {
                throw invalid(file, key + ".above", "lists no currency; " + usage);
            }
            return new Approval(field, null, java.util.Collections.unmodifiableMap(limits));
        }
        return new Approval(field, number(file, key + ".above", threshold.get("above")), Map.of());
    }

    private static BigDecimal number(Path file, String key, Object value) {
        try {
            return new BigDecimal(String.valueOf(value).strip());
        } catch (NumberFormatException e) {
            throw invalid(file, key, "must be a number (e.g. 1000), was '" + value + "'");
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

    /** The file, already checked by {@link #load}, for the passes that read one key each. */
    private static Object readYaml(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return strictYaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification catalog " + file + " cannot be read" + because(e, "herald.catalog"), e);
        }
    }

    /**
     * Why a configuration file cannot be read, with the setting that names it: ": there is no such file (herald.catalog,
     * environment variable HERALD_CATALOG, names it)". The bare exception message was the path again, so a misspelt
     * HERALD_CATALOG read "cannot be read: /etc/herald/catalg.yaml" and never said which setting to correct.
     */
    static String because(IOException e, String setting) {
        String why = e instanceof NoSuchFileException ? "there is no such file"
                : e instanceof AccessDeniedException ? "Herald may not read it"
                : e instanceof FileNotFoundException || e.getMessage() == null ? "it is not a readable file" : e.getMessage();
        return ": " + why + " (" + setting + ", environment variable " + setting.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_')
                + ", names it)";
    }

    /** A YAML reader that refuses a key written twice (the later one used to win without a word: a type defined twice). */
    static Yaml strictYaml() {
        org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(options);
    }

    /** Refuses a key the catalog does not know (a typo such as 'aproval' would have switched its setting off without a word). */
    static void onlyKnownKeys(Path file, String at, Map<?, ?> settings, Set<String> known) {
        for (Object name : settings.keySet()) {
            if (!known.contains(String.valueOf(name))) {
                throw invalid(file, at.isEmpty() ? String.valueOf(name) : at + "." + name,
                        "is not a catalog setting; known: " + new java.util.TreeSet<>(known));
            }
        }
    }

    static IllegalStateException invalid(Path file, String key, String problem) {
        return new IllegalStateException("Notification catalog " + file + ": key '" + key + "' " + problem);
    }
}
