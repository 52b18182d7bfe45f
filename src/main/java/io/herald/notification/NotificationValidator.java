package io.herald.notification;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.stereotype.Component;

/**
 * Checks a mapping's output against the canonical contract: required fields, their types and a
 * notification type the catalog knows. Every problem is named in one readable reason.
 */
@Component
public class NotificationValidator {

    private static final List<String> REQUIRED_TEXT = List.of("idempotencyKey", "source", "sourceEventId", "type", "occurredAt");

    private final NotificationCatalog catalog;
    private final ObjectMapper json;

    public NotificationValidator(NotificationCatalog catalog, ObjectMapper json) {
        this.catalog = catalog;
        this.json = json;
    }

    public CanonicalNotification validate(JsonNode mapped) {
        List<String> problems = new ArrayList<>();
        for (String field : REQUIRED_TEXT) {
            JsonNode value = mapped.get(field);
            if (value == null || value.isNull()) {
                problems.add(field + " is missing");
            } else if (!value.isTextual() || value.asText().isBlank()) {
                problems.add(field + " must be non-empty text, was " + value);
            }
        }
        // A stable customer id, or (only when the source has none) an email resolved by the directory.
        String customerId = textOrNull(mapped, "customerId");
        if (customerId == null && textOrNull(mapped, "customerEmail") == null) {
            problems.add("customerId is missing (and there is no customerEmail to resolve)");
        } else if (mapped.hasNonNull("customerId") && customerId == null) {
            problems.add("customerId must be non-empty text, was " + mapped.get("customerId"));
        }
        Instant occurredAt = null;
        if (mapped.hasNonNull("occurredAt")) {
            occurredAt = parseInstant(mapped.get("occurredAt").asText());
            if (occurredAt == null) {
                problems.add("occurredAt '" + mapped.get("occurredAt").asText() + "' is not an ISO-8601 date-time with offset");
            }
        }
        String type = mapped.path("type").asText("");
        if (!type.isBlank() && !catalog.knows(type)) {
            problems.add("type '" + type + "' is not in the notification catalog (" + catalog.source() + ")");
        }
        for (String objectField : List.of("refs", "data")) {
            JsonNode value = mapped.get(objectField);
            if (value != null && !value.isNull() && !value.isObject()) {
                problems.add(objectField + " must be an object");
            }
        }
        if (!problems.isEmpty()) {
            String event = mapped.path("source").asText("?") + " event " + mapped.path("sourceEventId").asText("?");
            throw new InvalidNotification(event + " is not a valid notification: " + String.join("; ", problems));
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
                priority.isBlank() ? catalog.entry(type).priority() : priority);
    }

    private static String textOrNull(JsonNode mapped, String field) {
        JsonNode value = mapped.get(field);
        return value != null && value.isTextual() && !value.asText().isBlank() ? value.asText() : null;
    }

    private Map<String, Object> toMap(JsonNode node) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = json.convertValue(node, LinkedHashMap.class);
        return map;
    }

    private static Instant parseInstant(String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
