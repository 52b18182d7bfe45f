package io.herald.ingest;

import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.stereotype.Component;

/**
 * One claimed crm_outbox row as the raw CRM event Herald queues and maps:
 * {@code {"outboxId": 17, "eventType": "order.confirmed", "payload": {...}, "createdAt": "2026-11-21T08:58:13Z"}}.
 * A row whose payload column is not JSON is still queued, with the payload as text and a
 * payloadError the mapping turns into a readable quarantine reason, instead of blocking the poller.
 */
@Component
public class CrmOutboxRows {

    private final ObjectMapper json;

    public CrmOutboxRows(ObjectMapper json) {
        this.json = json;
    }

    public String asEvent(Map<String, Object> row) throws JsonProcessingException {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("outboxId", row.get("id"));
        event.put("eventType", row.get("event_type"));
        String payload = row.get("payload") == null ? null : row.get("payload").toString();
        try {
            event.put("payload", payload == null ? null : json.readTree(payload));
        } catch (JsonProcessingException e) {
            event.put("payload", payload);
            event.put("payloadError", "the payload column is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        event.put("createdAt", instant(row.get("created_at")));
        return json.writeValueAsString(event);
    }

    private static String instant(Object value) {
        if (value instanceof Timestamp ts) {
            return ts.toInstant().toString();
        }
        if (value instanceof OffsetDateTime odt) {
            return odt.toInstant().toString();
        }
        return value == null ? null : value.toString();
    }
}
