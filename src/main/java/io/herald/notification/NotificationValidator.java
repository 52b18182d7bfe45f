package io.herald.notification;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.ContactAddresses;
import io.herald.identity.ContactUpdate;
import io.herald.ledger.StoredText;
import org.springframework.stereotype.Component;

/**
 * Checks a mapping's output against the canonical contract (required fields, their types, a type the
 * catalog knows, ids that fit the ledger) and then against the rules of its type (config/rules.yaml).
 * Every problem is named in one readable reason. An id that does not fit (too long, a control
 * character) is refused rather than cut, because cutting it would change which customer or which
 * notification it is; the data of an accepted notification is made storable ({@link StoredText#content}).
 */
@Component
public class NotificationValidator {

    /** How far ahead of Herald's clock a contact change's update time may be (clocks differ a little, never by hours). */
    private static final java.time.Duration FUTURE_UPDATE_TOLERANCE = java.time.Duration.ofMinutes(15);

    private static final List<String> REQUIRED_TEXT = List.of("idempotencyKey", "source", "sourceEventId", "type", "occurredAt");

    /** Identity fields: (field, words, column size). Sizes are the ledger's (V1: notification, customer). */
    private record Id(String field, String words, int limit) {
    }

    private static final List<Id> IDS = List.of(
            new Id("idempotencyKey", "notification's identity (idempotency key, built from the event's ids)", 400),
            new Id("sourceEventId", "event id", 200),
            new Id("customerId", "customer id", 64));

    /** The channels a customer's preferences may name (in the order the refusal lists them). */
    private static final List<String> CUSTOMER_CHANNELS = List.of("email", "sms", "push", "in_app");

    private final NotificationCatalog catalog;
    private final NotificationRules rules;
    private final ObjectMapper json;
    private final io.herald.identity.CustomerDirectory directory;

    /** Without the directory (a test of the rules alone): a contact change's customer id with spaces around it is always refused. */
    public NotificationValidator(NotificationCatalog catalog, NotificationRules rules, ObjectMapper json) {
        this(catalog, rules, json, null);
    }

    @org.springframework.beans.factory.annotation.Autowired
    public NotificationValidator(NotificationCatalog catalog, NotificationRules rules, ObjectMapper json,
                                 io.herald.identity.CustomerDirectory directory) {
        this.catalog = catalog;
        this.rules = rules;
        this.json = json;
        this.directory = directory;
    }

    public CanonicalNotification validate(JsonNode mapped) {
        return validate(mapped, null);
    }

    /**
     * As {@link #validate(JsonNode)}, with the source event as it arrived ({@code rawEvent}, null when unknown): an event time
     * that is not a time and stands in it as the source sent it (a mapping that copies the source's field, as the shipped ones
     * do) is the source's to correct, not the mapping's.
     */
    public CanonicalNotification validate(JsonNode mapped, String rawEvent) {
        List<String> problems = new ArrayList<>();
        // Problems with what the source sent (an id too long, no customer at all), not with how the mapping wrote it.
        boolean fromSource = false;
        for (String field : REQUIRED_TEXT) {
            JsonNode value = mapped.get(field);
            if (value == null || value.isNull()) {
                problems.add(field + " is missing");
            } else if (!value.isTextual() || value.asText().isBlank()) {
                problems.add(field + " must be non-empty text, was " + describe(value));
            }
        }
        // A stable customer id, or (only when the source has none) an email resolved by the directory.
        String customerId = textOrNull(mapped, "customerId");
        if (mapped.hasNonNull("customerId") && customerId == null) {
            problems.add("the customer id (customerId) is " + describe(mapped.get("customerId")) + ", expected text");
        } else if (customerId == null && textOrNull(mapped, "customerEmail") == null && !mapped.path("customerLink").isObject()) {
            problems.add("customerId is missing (and there is no customerLink or customerEmail to resolve)");
            fromSource = true;
        }
        String email = textOrNull(mapped, "customerEmail");
        if (customerId == null && email != null && (email.length() > 320 || StoredText.unsafe(email))) {
            problems.add("the customer email is not a usable address (" + (email.length() > 320
                    ? email.length() + " characters, an address has at most 320)" : "it contains a control character)"));
            fromSource = true;
        }
        for (Id id : IDS) {
            JsonNode value = mapped.get(id.field());
            if (value == null || !value.isTextual()) {
                continue;
            }
            String text = value.asText();
            if (text.length() > id.limit()) {
                problems.add("the " + id.words() + " is " + text.length() + " characters long; Herald keeps at most " + id.limit()
                        + " and does not shorten ids, which would change what they identify. Correct it at the source");
                fromSource = true;
            } else if (StoredText.unsafe(text)) {
                problems.add("the " + id.words() + " contains a control or broken character (shown as '"
                        + StoredText.label(text, 80) + "'); an id must be printable text. Correct it at the source");
                fromSource = true;
            }
        }
        Instant occurredAt = null;
        if (mapped.hasNonNull("occurredAt")) {
            occurredAt = parseInstant(mapped.get("occurredAt").asText());
            if (occurredAt == null) {
                String time = mapped.get("occurredAt").asText();
                if (sentBySource(time, rawEvent)) {
                    problems.add("the event time '" + StoredText.label(time, 60) + "', as the source sent it, is not a date and time"
                            + " with its offset (ISO-8601, such as 2026-11-21T10:12:44Z). Correct the event at its source, then re-drive it");
                    fromSource = true;
                } else {
                    problems.add("the event time '" + StoredText.label(time, 60) + "' is not an ISO-8601 date and time with offset");
                }
            }
        }
        String type = mapped.path("type").asText("");
        if (!type.isBlank() && !catalog.knows(type)) {
            problems.add("type '" + StoredText.label(type, 80) + "' is not in the notification catalog (" + catalog.named() + ")");
        }
        for (String objectField : List.of("refs", "data")) {
            JsonNode value = mapped.get(objectField);
            if (value != null && !value.isNull() && !value.isObject()) {
                problems.add(objectField + " must be an object");
            }
        }
        if (!problems.isEmpty()) {
            String said = eventOf(mapped) + " is not a valid notification: " + String.join("; ", problems);
            // Blamed on the mapping only when all of it is the mapping's: an id the source sent too long is the source's to correct.
            throw fromSource ? new InvalidNotification(said) : new MappingOutputInvalid(said);
        }
        Instant now = Instant.now();
        mapped = rules.leftOut(type, mapped, now);   // a placeholder date is not told (implausible: leave-out)
        List<String> broken = rules.problems(type, mapped, now);
        if (!broken.isEmpty()) {
            throw new InvalidNotification(eventOf(mapped) + " (" + type + ") cannot be sent: " + String.join("; ", broken)
                    + ". Nothing was sent; correct the event at its source, then re-drive it");
        }
        String priority = mapped.path("priority").asText("");
        return new CanonicalNotification(
                mapped.get("idempotencyKey").asText(),
                mapped.get("source").asText(),
                mapped.get("sourceEventId").asText(),
                type,
                customerId,
                occurredAt,
                toMap(mapped.get("refs")),
                toMap(mapped.get("data")),
                priority.isBlank() || !List.of("low", "normal", "high").contains(priority) ? catalog.entry(type).priority() : priority);
    }

    /**
     * Why a contact change naming a customer id with spaces around it ("cus_1 ") cannot be applied, or null when it can: events
     * name customers by their id exactly (CustomerDirectory), so a new "cus_1 " would be a second customer beside "cus_1", and
     * the real one's new email or phone never applied. An entry the directory already holds under exactly that id (written
     * before such ids were refused) is that customer, and takes the change: refused, its email, phone and opt-outs could never
     * change again, and correcting the id in the CRM would make another customer beside it. With both entries in the directory
     * the change is not guessed to be for one of them.
     */
    private String spacedId(String customerId) {
        String stripped = io.herald.identity.CustomerDirectory.withoutSpacesAround(customerId);
        boolean heldAsWritten = directory != null && customerId.length() <= 64 && directory.find(customerId).isPresent();
        boolean heldWithout = directory != null && !stripped.isEmpty() && directory.find(stripped).isPresent();
        if (heldAsWritten && !heldWithout) {
            return null;
        }
        if (heldAsWritten) {
            return "the customer id '" + StoredText.label(customerId, 80) + "' has spaces around it, and Herald's directory holds both '"
                    + StoredText.label(customerId, 80) + "' (written before such ids were refused) and '" + StoredText.label(stripped, 80)
                    + "'; a change is not guessed to be for one of them. Correct the contact's customer id in the CRM to the entry it is"
                    + " for (if they are the same person, erase the other entry from the console's Customers page)";
        }
        return "the customer id '" + StoredText.label(customerId, 80) + "' has spaces around it; Herald matches customer ids"
                + " exactly, so it would be a customer of its own beside '" + StoredText.label(stripped, 80) + "'";
    }

    /**
     * A CRM contact change, checked before it is written to the directory: the customer id, email,
     * phone, locale and time zone must fit their columns and be printable (they identify or reach the
     * customer, so they are refused, not cut); the display name is cut to fit; lists and maps must
     * have the shape the directory keeps.
     */
    public ContactUpdate contactUpdate(JsonNode update, String source, String eventId) {
        List<String> problems = new ArrayList<>();
        String customerId = field(update, "customerId", "customer id", 64, true, problems);
        if (customerId != null && !StoredText.unsafe(customerId)
                && !customerId.equals(io.herald.identity.CustomerDirectory.withoutSpacesAround(customerId))) {
            String spacesProblem = spacedId(customerId);
            if (spacesProblem != null) {
                problems.add(spacesProblem);
            }
        }
        if (customerId != null && customerId.length() <= 64 && !StoredText.unsafe(customerId) && unaddressable(customerId) != null) {
            problems.add(unaddressable(customerId));
        }
        String email = field(update, "email", "email", 320, false, problems);
        String phone = field(update, "phone", "mobile phone", 32, false, problems);
        if (email != null && email.length() <= 320 && !StoredText.unsafe(email) && ContactAddresses.emailProblem(email) != null) {
            problems.add("the email cannot be sent to: " + ContactAddresses.emailProblem(email));
        }
        if (phone != null && phone.length() <= 32 && !StoredText.unsafe(phone) && ContactAddresses.phoneProblem(phone) != null) {
            problems.add("the mobile phone cannot be sent to: " + ContactAddresses.phoneProblem(phone));
        }
        String locale = field(update, "locale", "locale", 16, false, problems);
        String timeZone = field(update, "timeZone", "time zone", 64, false, problems);
        if (timeZone != null && timeZone.length() <= 64 && !StoredText.unsafe(timeZone) && !knownZone(timeZone)) {
            // Stored, it would make every time in the customer's messages read in UTC, and their quiet hours the default's.
            problems.add("the time zone '" + StoredText.label(timeZone, 64) + "' is not a time zone Herald knows (an IANA id such as"
                    + " Europe/Berlin)");
        }
        if (locale != null && locale.length() <= 16 && !StoredText.unsafe(locale) && !languageTag(locale)) {
            problems.add("the locale '" + StoredText.label(locale, 16) + "' is not a language tag (such as de-DE or en)");
        }
        JsonNode name = update.get("displayName");
        String displayName = name != null && name.isTextual() ? StoredText.truncate(StoredText.content(name.asText()), 200) : null;
        JsonNode first = update.get("firstName");
        String firstName = first != null && first.isTextual() ? StoredText.truncate(StoredText.content(first.asText()), 200).strip() : null;
        List<String> tokens = new ArrayList<>();
        JsonNode pushTokens = update.get("pushTokens");
        if (pushTokens != null && !pushTokens.isNull()) {
            if (!pushTokens.isArray()) {
                problems.add("the push tokens are " + describe(pushTokens) + ", expected a list of tokens");
            } else {
                pushTokens.forEach(t -> {
                    if (t.isTextual() && !StoredText.unsafe(t.asText()) && t.asText().length() <= 4096) {
                        tokens.add(t.asText());
                    } else {
                        problems.add("a push token is " + describe(t) + ", expected printable text");
                    }
                });
            }
        }
        Map<String, List<String>> preferences = new LinkedHashMap<>();
        JsonNode prefs = update.get("preferences");
        if (prefs != null && !prefs.isNull()) {
            if (!prefs.isObject()) {
                problems.add("the preferences are " + describe(prefs) + ", expected categories with their channels");
            } else {
                Set<String> used = catalog.entries().stream().map(NotificationCatalog.Entry::category).collect(java.util.stream.Collectors.toSet());
                prefs.fields().forEachRemaining(entry -> {
                    // Categories and channels are read in any case ("Billing", "Email", "in-app"): as written, they matched nothing.
                    String category = StoredText.label(entry.getKey().strip().toLowerCase(java.util.Locale.ROOT), 80);
                    List<String> channels = new ArrayList<>();
                    if (!entry.getValue().isArray()) {
                        problems.add("the preferences for '" + StoredText.label(entry.getKey(), 40) + "' are " + describe(entry.getValue())
                                + ", expected a list of channels");
                    } else {
                        entry.getValue().forEach(c -> {
                            String channel = c.isTextual() ? c.asText().strip().toLowerCase(java.util.Locale.ROOT).replace('-', '_') : null;
                            if (channel != null) {
                                channels.add(StoredText.label(channel, 40));
                            }
                        });
                        // A list that names none of Herald's channels for a category Herald sends (a typo: "emial") would
                        // quietly opt the customer out of all of it: refused. A channel Herald does not have next to one it
                        // has ("email", "whatsapp") is kept as the CRM gave it, and changes nothing.
                        if (used.contains(category) && entry.getValue().size() > 0 && channels.stream().noneMatch(CUSTOMER_CHANNELS::contains)) {
                            problems.add("the preferences for '" + StoredText.label(entry.getKey(), 40) + "' name no channel Herald sends"
                                    + " (" + StoredText.label(entry.getValue().toString(), 80) + "), not one of " + String.join(", ", CUSTOMER_CHANNELS)
                                    + "; kept, they would opt the customer out of every " + category + " message. For none, send an empty list");
                        }
                    }
                    preferences.put(category, channels);
                });
            }
        }
        JsonNode updated = update.get("updatedAt");
        Instant updatedAt = updated != null && updated.isTextual() ? parseInstant(updated.asText()) : null;
        if (updatedAt == null) {
            problems.add("the update time '" + (updated == null ? "" : StoredText.label(updated.asText(), 60))
                    + "' is not an ISO-8601 date and time with offset");
        } else if (updatedAt.getEpochSecond() < 0) {
            problems.add("the update time " + updated.asText() + " is not plausible");
        } else if (updatedAt.isAfter(Instant.now().plus(FUTURE_UPDATE_TOLERANCE))) {
            // Kept, it would stop every later change of this contact (an update older than the entry is skipped) until then.
            problems.add("the update time " + updated.asText() + " is in the future (more than "
                    + FUTURE_UPDATE_TOLERANCE.toMinutes() + " minutes ahead of Herald's clock): the CRM's clock or its time zone is"
                    + " wrong (a local time written with Z?)");
        }
        if (!problems.isEmpty()) {
            throw new InvalidNotification(source + " event " + StoredText.label(eventId, 120) + " is not a usable contact change: "
                    + String.join("; ", problems) + ". The directory was not changed; correct the contact in the CRM");
        }
        Set<String> given = new java.util.HashSet<>();
        for (String field : List.of("displayName", "firstName", "email", "phone", "pushTokens", "locale", "timeZone", "preferences")) {
            if (update.has(field)) {
                given.add(field);
            }
        }
        return new ContactUpdate(customerId, displayName, firstName, email, phone, tokens, locale == null ? null : locale.strip(),
                timeZone == null ? null : timeZone.strip(), preferences, updatedAt, given);
    }

    /**
     * Why a customer id could not be named in a URL of Herald's (null: it can); checked where customers are made (a CRM contact
     * change: an event only names one the directory has, or one a link resolves). The console's customer page, the erasure
     * (DELETE /api/customers/{id}) and the in-app inbox take it in their path, where the web server refuses an encoded / \ % or
     * ; and treats . and .. as path steps: a customer with such an id could never be erased.
     */
    static String unaddressable(String customerId) {
        String id = customerId.strip();
        if (id.equals(".") || id.equals("..")) {
            return "the customer id '" + id + "' is not an id Herald can name in its console and API; correct it at the source";
        }
        for (char c : new char[] {'/', '\\', '%', ';', '\u2028', '\u2029'}) {
            if (id.indexOf(c) >= 0) {
                String shown = c == '\u2028' || c == '\u2029' ? "a line or paragraph separator" : "'" + c + "'";
                return "the customer id '" + StoredText.label(id, 80) + "' contains " + shown + ", which Herald's console and API cannot"
                        + " take in a customer's address (its page, its erasure, its in-app inbox); use an id without / \\ % or ; at the source";
            }
        }
        return null;
    }

    private static String field(JsonNode update, String name, String words, int limit, boolean required, List<String> problems) {
        JsonNode value = update.get(name);
        if (value == null || value.isNull() || (value.isTextual() && value.asText().isBlank())) {
            if (required) {
                problems.add("the " + words + " is missing");
            }
            return null;
        }
        if (!value.isTextual()) {
            problems.add("the " + words + " is " + describe(value) + ", expected text");
            return null;
        }
        String text = value.asText();
        if (text.length() > limit) {
            problems.add("the " + words + " is " + text.length() + " characters long; Herald keeps at most " + limit);
        } else if (StoredText.unsafe(text)) {
            problems.add("the " + words + " contains a control or broken character (shown as '" + StoredText.label(text, 80) + "')");
        }
        return text;
    }

    private static boolean knownZone(String id) {
        try {
            ZoneId.of(id.strip());
            return true;
        } catch (DateTimeException e) {
            return false;
        }
    }

    /** A BCP 47 tag whose language is an ISO 639 code ("en", "de-DE", "pt_BR" as the CRM may write it). */
    private static boolean languageTag(String tag) {
        Locale locale = Locale.forLanguageTag(tag.strip().replace('_', '-'));
        return !locale.getLanguage().isEmpty() && (locale.getLanguage().length() == 3
                || Arrays.asList(Locale.getISOLanguages()).contains(locale.getLanguage()));
    }

    private static String eventOf(JsonNode mapped) {
        return mapped.path("source").asText("?") + " event " + StoredText.label(mapped.path("sourceEventId").asText("?"), 120);
    }

    /** A value in words for a reason: "the number 12345", "a list", "an object". */
    private static String describe(JsonNode value) {
        if (value == null || value.isNull()) {
            return "empty";
        }
        if (value.isNumber()) {
            return "the number " + StoredText.label(value.asText(), 40);
        }
        if (value.isBoolean()) {
            return "the value " + value.asText();
        }
        if (value.isArray()) {
            return "a list";
        }
        if (value.isObject()) {
            return "an object";
        }
        return "'" + StoredText.label(value.asText(), 60) + "'";
    }

    private static String textOrNull(JsonNode mapped, String field) {
        JsonNode value = mapped.get(field);
        return value != null && value.isTextual() && !value.asText().isBlank() ? value.asText() : null;
    }

    /** The object as a map whose every text (keys included) a customer may read and PostgreSQL can store. */
    private Map<String, Object> toMap(JsonNode node) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) storable(json.convertValue(node, LinkedHashMap.class));
        return map;
    }

    private static Object storable(Object value) {
        if (value instanceof String text) {
            return StoredText.content(text);
        }
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return "not a number";
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(StoredText.content(String.valueOf(k)), storable(v)));
            return out;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(NotificationValidator::storable).toList();
        }
        return value;
    }

    /** The text stands in the source event as a JSON string value, exactly (the mapping copied it). */
    private boolean sentBySource(String text, String rawEvent) {
        if (rawEvent == null) {
            return false;
        }
        try {
            return rawEvent.contains(json.writeValueAsString(text));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return false;
        }
    }

    private static Instant parseInstant(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException | ArithmeticException e) {
            return null;
        }
    }
}
