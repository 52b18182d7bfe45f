package io.herald.notification;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Currency;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import io.herald.config.HeraldSettings;
import io.herald.ledger.StoredText;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import org.yaml.snakeyaml.Yaml;

/**
 * Sense before send (config/rules.yaml): after mapping, each notification is checked against the
 * rules of its type, so a payment of -0.01 USD, a price in XXX, a trial ending in 0001 or a draft
 * invoice never reaches a customer. A field is money ("49.00 USD": a number and an ISO 4217 currency
 * of real money, non-negative where it must be), a date (ISO-8601, within a plausible distance of now)
 * or text; it may be required, with a sentence to give when it is missing. Every notification's event
 * time is checked as a date too, and no text of its data may be longer than texts.max-length. Read at startup; a broken file stops startup naming the file and key.
 */
@Component
public class NotificationRules {

    /** A catalog money value: amount, space, ISO code ("49.00 USD", "-2.50 EUR"). */
    private static final Pattern MONEY = Pattern.compile("(-?\\d{1,15}(?:\\.\\d{1,3})?) ([A-Za-z]{3})");   // what a message can write
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([A-Za-z0-9_.]+)}");
    private static final Set<String> KINDS = Set.of("money", "date", "text");
    private static final Set<String> FIELD_KEYS = Set.of("label", "kind", "required", "missing", "non-negative", "past", "future",
            "implausible");

    /** One checked field of a type. */
    record Field(String path, String label, String kind, boolean required, String missing, boolean nonNegative,
                 Duration past, Duration future, boolean leaveOut) {
    }

    private final Path file;
    private final Duration past;
    private final Duration future;
    private final int maxText;
    private final Map<String, List<Field>> rules;
    private final NotificationCatalog catalog;

    @Autowired
    public NotificationRules(HeraldSettings settings, NotificationCatalog catalog) {
        this(settings.rules(), catalog);
    }

    public NotificationRules(String file, NotificationCatalog catalog) {
        this.file = Path.of(file);
        Map<?, ?> root = read(this.file);
        Map<?, ?> dates = root.get("dates") == null ? Map.of() : map(root.get("dates"), "dates");
        known(dates, "dates", Set.of("past", "future"));
        this.past = duration(dates.get("past"), "dates.past", Duration.ofDays(3650));
        this.future = duration(dates.get("future"), "dates.future", Duration.ofDays(3650));
        Map<?, ?> texts = root.get("texts") == null ? Map.of() : map(root.get("texts"), "texts");
        known(texts, "texts", Set.of("max-length"));
        this.maxText = positive(texts.get("max-length"), "texts.max-length", 10_000);
        this.rules = load(root, catalog);
        this.catalog = catalog;
    }

    /**
     * The problems of a mapped notification of a known type, each a sentence that names the field in
     * words; empty when it may be sent.
     */
    public List<String> problems(String type, JsonNode mapped, Instant now) {
        List<String> problems = new ArrayList<>();
        String occurred = mapped.path("occurredAt").asText(null);
        if (occurred != null) {
            checkDate("the event time", occurred, past, future, now, problems);
        }
        for (String part : List.of("data", "refs")) {
            tooLong(part, mapped.get(part), type, problems);
        }
        for (Field field : rules.getOrDefault(type, List.of())) {
            JsonNode value = at(mapped, field.path());
            boolean absent = value == null || value.isNull() || value.isMissingNode() || (value.isTextual() && value.asText().isBlank());
            if (absent) {
                if (field.missing() != null) {
                    problems.add(fill(field.missing(), mapped));
                } else if (field.required()) {
                    problems.add("the " + field.label() + " is missing");
                }
                continue;
            }
            if (field.leaveOut()) {
                continue;   // left out before these checks when it is no plausible date (leftOut)
            }
            switch (field.kind()) {
                case "money" -> checkMoney(field, value, problems);
                case "date" -> checkDate("the " + field.label(), value.asText(), field.past(), field.future(), now, problems);
                default -> {
                    if (!value.isTextual() && !value.isNumber()) {
                        problems.add("the " + field.label() + " is not text");
                    }
                }
            }
        }
        checkReminderTime(type, mapped, problems, now);
        return problems;
    }

    /**
     * A type that books or moves reminders (catalog reminders) times them by data.&lt;of&gt;: an instant, so a date-time with
     * its offset, never a plain date or a local time (whose instant Herald would have to guess). Checked here, at intake, so
     * such an event is quarantined for an operator to fix and re-drive; at dispatch it could only fail, and a move that failed
     * there left the reminders of the old time to go out.
     */
    private void checkReminderTime(String type, JsonNode mapped, List<String> problems, Instant now) {
        NotificationCatalog.Reminders plan = catalog.reminders(type);
        if (plan == null || NotificationCatalog.Reminders.CANCEL.equals(plan.action()) || plan.of() == null) {
            return;
        }
        JsonNode value = at(mapped, "data." + plan.of());
        List<Field> own = rules.getOrDefault(type, List.of()).stream().filter(f -> f.path().equals("data." + plan.of())).toList();
        if (value == null || value.isNull() || value.isMissingNode() || (value.isTextual() && value.asText().isBlank())) {
            if (own.stream().noneMatch(f -> f.required() || f.missing() != null)) {   // else a rule of the field has said it already
                problems.add("the appointment's time (data." + plan.of() + ") is missing; its reminders are timed by it");
            }
            return;
        }
        if (own.stream().anyMatch(f -> f.kind().equals("date")) && instant(value.asText()) == null) {
            return;   // its date rule has said it is no date and time at all
        }
        try {
            OffsetDateTime time = OffsetDateTime.parse(value.asText());
            int offset = time.getOffset().getTotalSeconds();
            if (own.isEmpty() && (time.toInstant().isBefore(now.minus(past)) || time.toInstant().isAfter(now.plus(future)))) {
                // A move has no date rule of its own: a time outside the plausible dates (a CRM's 0001-01-01) had cancelled the
                // real appointment's reminders, and one in 9999 was told to the customer.
                problems.add("the appointment's time (data." + plan.of() + ") " + StoredText.label(value.asText(), 60) + " is not plausible:"
                        + " Herald accepts dates from " + days(past) + " days before to " + days(future) + " days after now (config/rules.yaml,"
                        + " dates); its reminders are timed by it: correct the time at its source");
            } else if (offset < -12 * 3600 || offset > 14 * 3600) {
                problems.add("the appointment's time (data." + plan.of() + ") '" + StoredText.label(value.asText(), 60) + "' has an offset"
                        + " no time zone has (offsets run from -12:00 to +14:00); its reminders are timed by it: correct the time at"
                        + " its source");
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            problems.add("the appointment's time (data." + plan.of() + ") '" + StoredText.label(value.asText(), 60) + "' is not a date and"
                    + " time with an offset (e.g. 2026-11-24T14:30:00-05:00); its reminders are timed by it, and without the offset"
                    + " the hour it means is unknown");
        }
    }

    /**
     * The notification without its date fields marked {@code implausible: leave-out} that are no date or not plausible (a CRM's
     * placeholder 0001-01-01, 1970-01-01 or 9999-12-31 for a time it has not got): such a field is set to null, so the message
     * reads without it instead of telling the customer that date.
     */
    public JsonNode leftOut(String type, JsonNode mapped, Instant now) {
        JsonNode copy = null;
        for (Field field : rules.getOrDefault(type, List.of())) {
            JsonNode value = at(mapped, field.path());
            if (!field.leaveOut() || value == null || value.isNull() || value.isMissingNode()) {
                continue;
            }
            List<String> problems = new ArrayList<>();
            checkDate("the " + field.label(), value.asText(), field.past(), field.future(), now, problems);
            if (problems.isEmpty()) {
                continue;
            }
            copy = copy == null ? mapped.deepCopy() : copy;
            String[] steps = field.path().split("\\.");
            JsonNode parent = at(copy, String.join(".", java.util.Arrays.copyOf(steps, steps.length - 1)));
            if (parent instanceof com.fasterxml.jackson.databind.node.ObjectNode object) {
                object.putNull(steps[steps.length - 1]);
            }
        }
        return copy == null ? mapped : copy;
    }

    /** Every text longer than texts.max-length: no message needs one, and rendering or masking one costs without bound. */
    private void tooLong(String path, JsonNode node, String type, List<String> problems) {
        if (node == null) {
            return;
        }
        if (node.isTextual() && node.asText().length() > maxText) {
            String label = rules.getOrDefault(type, List.of()).stream().filter(f -> f.path().equals(path)).map(Field::label)
                    .findFirst().orElse("text at " + path);
            problems.add("the " + label + " is " + node.asText().length() + " characters long; Herald sends texts of at most "
                    + maxText + " characters (config/rules.yaml, texts.max-length)");
        } else if (node.isContainerNode()) {
            if (node.isObject()) {
                node.fields().forEachRemaining(e -> tooLong(path + "." + e.getKey(), e.getValue(), type, problems));
            } else {
                for (int i = 0; i < node.size(); i++) {
                    tooLong(path + "[" + i + "]", node.get(i), type, problems);
                }
            }
        }
    }

    public String source() {
        return file.toString();
    }

    private static void checkMoney(Field field, JsonNode value, List<String> problems) {
        Matcher money = MONEY.matcher(value.asText().strip());
        if (!value.isTextual() || !money.matches()) {
            problems.add("the " + field.label() + " '" + StoredText.label(value.asText(), 60) + "' is not an amount with a currency");
            return;
        }
        String code = money.group(2).toUpperCase(java.util.Locale.ROOT);
        Currency currency;
        try {
            currency = Currency.getInstance(code);
        } catch (IllegalArgumentException unknown) {
            problems.add("the currency " + code + " of the " + field.label() + " is not an ISO 4217 currency code");
            return;
        }
        if (currency.getDefaultFractionDigits() < 0) {
            problems.add("the currency " + code + " of the " + field.label() + " is not money (ISO 4217 reserves it for"
                    + " \"no currency\", testing, gold or other non-money uses)");
            return;
        }
        if (field.nonNegative() && new BigDecimal(money.group(1)).signum() < 0) {
            problems.add("the " + field.label() + " is negative (" + value.asText() + "); it must be zero or more");
        }
    }

    private static void checkDate(String label, String text, Duration past, Duration future, Instant now, List<String> problems) {
        Instant at = instant(text);
        if (at == null) {
            problems.add(label + " '" + StoredText.label(text, 60) + "' is not a date and time (ISO-8601, e.g. 2026-11-21T10:00:00Z)");
        } else if (at.isBefore(now.minus(past)) || at.isAfter(now.plus(future))) {
            problems.add(label + " " + StoredText.label(text, 60) + " is not plausible: Herald accepts dates from " + days(past) + " days before to "
                    + days(future) + " days after now (config/rules.yaml, dates)");
        }
    }

    private static long days(Duration d) {
        return d.toDays();
    }

    /** An ISO-8601 date-time with offset, or a plain date (start of day, UTC); null when neither. */
    static Instant instant(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException | ArithmeticException e) {
            try {
                return LocalDate.parse(text).atStartOfDay().toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException | ArithmeticException e2) {
                return null;
            }
        }
    }

    /** "invoice {data.invoiceId} has no number" with the notification's values, each shortened for a sentence. */
    private static String fill(String sentence, JsonNode mapped) {
        Matcher m = PLACEHOLDER.matcher(sentence);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            JsonNode value = at(mapped, m.group(1));
            String text = value == null || value.isNull() || value.isMissingNode() ? "?" : StoredText.label(value.asText(), 80);
            m.appendReplacement(out, Matcher.quoteReplacement(text));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static JsonNode at(JsonNode node, String path) {
        JsonNode current = node;
        for (String name : path.split("\\.")) {
            if (current == null || !current.isObject()) {
                return null;
            }
            current = current.get(name);
        }
        return current;
    }

    // ------------------------------------------------------------------ loading

    private Map<?, ?> read(Path path) {
        Object root;
        try (InputStream in = Files.newInputStream(path)) {
            root = NotificationCatalog.strictYaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException("Notification rules " + path + " cannot be read" + NotificationCatalog.because(e, "herald.rules"), e);
        } catch (RuntimeException e) {
            String notUtf8 = io.herald.config.Utf8Text.notUtf8(path, e);
            throw new IllegalStateException("Notification rules " + path + (notUtf8 != null ? " " + notUtf8 : " is not valid YAML: " + e.getMessage()), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw invalid("rules", "must be a map with 'dates' and 'rules'");
        }
        known(top, "", Set.of("dates", "texts", "rules"));
        return top;
    }

    /**
     * The data fields of a type declared as money or date, by name ("amountDue" for data.amountDue) with their
     * label: what a template must print in its written form ({{amountDueLocal}}, templates/README.md).
     */
    public Map<String, String> timeAndMoneyFields(String type) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (Field field : rules.getOrDefault(type, List.of())) {
            if (!field.kind().equals("text") && field.path().startsWith("data.")) {
                fields.put(field.path().substring("data.".length()), field.label());
            }
        }
        return fields;
    }

    /**
     * The data fields of a type declared as text, by name ("ticketSubject" for data.ticketSubject): someone's words, printed as
     * they were written even where they read like an amount or a time ("49.00 USD"), which a template may not print raw.
     */
    public Set<String> textFields(String type) {
        Set<String> fields = new java.util.LinkedHashSet<>();
        for (Field field : rules.getOrDefault(type, List.of())) {
            if (field.kind().equals("text") && field.path().startsWith("data.")) {
                fields.add(field.path().substring("data.".length()));
            }
        }
        return fields;
    }

    private Map<String, List<Field>> load(Map<?, ?> root, NotificationCatalog catalog) {
        Map<?, ?> types = root.get("rules") == null ? Map.of() : map(root.get("rules"), "rules");
        Map<String, List<Field>> loaded = new LinkedHashMap<>();
        types.forEach((type, fields) -> {
            String key = "rules." + type;
            if (!catalog.knows(String.valueOf(type))) {
                throw invalid(key, "names a type that is not in the notification catalog (" + catalog.source() + ")");
            }
            List<Field> checked = new ArrayList<>();
            map(fields, key).forEach((path, spec) -> checked.add(field(key + "." + path, String.valueOf(path), map(spec, key + "." + path))));
            loaded.put(String.valueOf(type), List.copyOf(checked));
        });
        return Map.copyOf(loaded);
    }

    /** A key these rules do not know is refused (a typo such as 'rule:' would have switched every rule off without a word). */
    private void known(Map<?, ?> settings, String at, Set<String> names) {
        for (Object name : settings.keySet()) {
            if (!names.contains(String.valueOf(name))) {
                throw invalid(at.isEmpty() ? String.valueOf(name) : at + "." + name, "is not a rules setting; known: " + new java.util.TreeSet<>(names));
            }
        }
    }

    private Field field(String key, String path, Map<?, ?> spec) {
        for (Object name : spec.keySet()) {
            if (!FIELD_KEYS.contains(String.valueOf(name))) {
                throw invalid(key + "." + name, "is not a rule setting; known: " + FIELD_KEYS);
            }
        }
        if (!path.matches("(data|refs)\\.[A-Za-z0-9_.]+")) {
            throw invalid(key, "must name a field of the notification's data or refs (e.g. data.amountDue)");
        }
        String label = text(spec.get("label"));
        if (label == null) {
            throw invalid(key + ".label", "is required: the field in words, as a person reads it (e.g. amount due)");
        }
        String kind = text(spec.get("kind"));
        if (kind == null || !KINDS.contains(kind)) {
            throw invalid(key + ".kind", "must be one of " + KINDS + ", was " + spec.get("kind"));
        }
        Object required = spec.get("required");
        if (required != null && !(required instanceof Boolean)) {
            throw invalid(key + ".required", "must be true or false, was " + required);
        }
        Object nonNegative = spec.get("non-negative");
        if (nonNegative != null && (!(nonNegative instanceof Boolean) || !"money".equals(kind))) {
            throw invalid(key + ".non-negative", "must be true or false, and only for kind money");
        }
        Object implausible = spec.get("implausible");
        if (implausible != null && (!"leave-out".equals(implausible) || !"date".equals(kind) || Boolean.TRUE.equals(required)
                || spec.get("missing") != null)) {
            throw invalid(key + ".implausible", "must be leave-out, and only for an optional field of kind date");
        }
        Duration fieldPast = duration(spec.get("past"), key + ".past", past);
        Duration fieldFuture = duration(spec.get("future"), key + ".future", future);
        return new Field(path, label, kind, Boolean.TRUE.equals(required), text(spec.get("missing")),
                Boolean.TRUE.equals(nonNegative), fieldPast, fieldFuture, implausible != null);
    }

    private int positive(Object value, String key, int fallback) {
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Integer number) || number <= 0) {
            throw invalid(key, "must be a positive whole number, was " + value);
        }
        return number;
    }

    private Duration duration(Object value, String key, Duration fallback) {
        if (value == null) {
            return fallback;
        }
        try {
            Duration d = Duration.parse(String.valueOf(value));
            if (d.isNegative() || d.isZero()) {
                throw invalid(key, "must be positive, was " + value);
            }
            return d;
        } catch (DateTimeParseException e) {
            throw invalid(key, "must be an ISO-8601 duration such as P3650D, was '" + value + "'");
        }
    }

    private Map<?, ?> map(Object value, String key) {
        if (!(value instanceof Map<?, ?> m)) {
            throw invalid(key, "must be a map");
        }
        return m;
    }

    private static String text(Object value) {
        return value == null || String.valueOf(value).isBlank() ? null : String.valueOf(value);
    }

    private IllegalStateException invalid(String key, String problem) {
        return new IllegalStateException("Notification rules " + file + ": key '" + key + "' " + problem);
    }
}
