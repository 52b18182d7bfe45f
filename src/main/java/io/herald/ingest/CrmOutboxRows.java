package io.herald.ingest;

import java.nio.charset.StandardCharsets;
import java.sql.Clob;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.CrmSettings;
import io.herald.config.TopicSettings;
import io.herald.ledger.UnroutedEvents;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * One claimed crm_outbox row as the raw CRM event Herald queues and maps:
 * {@code {"outboxId": 17, "eventType": "order.confirmed", "payload": {...}, "createdAt": "2026-11-21T08:58:13Z"}},
 * keyed by the customer's account so one customer's events keep their order on the topic.
 * <p>
 * A row that can never be queued, whatever the retries (a payload that is not JSON, an event
 * larger than herald.crm.max-row-bytes or than the topic accepts), is quarantined alone at step
 * "outbox" and then marked processed in the claim's transaction, so it neither rolls back the rows
 * claimed with it nor holds back the rows after it. The claim reads each payload's size in SQL and does not fetch a
 * payload over the limit (routes/crm-outbox.camel.yaml): such a row arrives with payload_bytes and payload_start only.
 */
@Component
public class CrmOutboxRows {

    /** Exchange property: why the current row cannot be queued (set: it is quarantined instead of sent). */
    public static final String REFUSAL = "crmOutboxRefusal";
    static final String SOURCE = "crm";
    static final String STEP = "outbox";

    private static final Logger log = LoggerFactory.getLogger(CrmOutboxRows.class);
    /** The deepest a payload may nest objects and arrays: well below what Jackson writes (1,000) and the mapping reads. */
    public static final int MAX_NESTING = 200;
    private static final com.fasterxml.jackson.core.JsonFactory READING = com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build()).build();

    private final ObjectMapper json;
    private final UnroutedEvents unrouted;
    private final HeraldMetrics metrics;
    private final int maxRowBytes;
    private final String topic;

    public CrmOutboxRows(ObjectMapper json, UnroutedEvents unrouted, HeraldMetrics metrics, CrmSettings crm, TopicSettings topics) {
        int maxRowBytes = crm.maxRowBytes();
        if (maxRowBytes < 1) {
            // CrmSettings refuses it first, when the settings are bound, naming where it was set; this guards settings made in code.
            throw new IllegalStateException("herald.crm.max-row-bytes must be"
                    + " a positive number of bytes; was " + maxRowBytes);
        }
        this.json = json;
        this.unrouted = unrouted;
        this.metrics = metrics;
        this.maxRowBytes = maxRowBytes;
        this.topic = topics.crmEvents();
    }

    /**
     * The claimed row (the body, a column map) becomes the raw CRM event (the body, JSON text) with
     * its Kafka key, the customer's account; a row that cannot be queued gets its reason in {@link #REFUSAL}.
     */
    public void prepare(Exchange exchange) throws JsonProcessingException {
        @SuppressWarnings("unchecked")
        Map<String, Object> row = exchange.getMessage().getBody(Map.class);
        try {
            prepare(exchange, row);
        } catch (JsonProcessingException | RuntimeException e) {
            // Nothing here reads the database or Kafka: whatever fails is the row's own content, which would fail again at
            // every poll and hold back every row behind it. The row is quarantined alone, with its start kept.
            refuseUnprepared(exchange, row, e);
        }
    }

    private void prepare(Exchange exchange, Map<String, Object> row) throws JsonProcessingException {
        Object id = row.get("id");
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("outboxId", id);
        event.put("eventType", row.get("event_type"));
        if (row.get("payload_start") != null) {
            refuseUnread(exchange, row, event);
            return;
        }
        // A leading byte order mark (U+FEFF, written by some Windows tools) is not part of the JSON: taken off, as at the other doors.
        String payloadText = ByteOrderMark.strip(payloadText(row.get("payload")));
        JsonNode payload = null;
        String refusal = null;
        try {
            // Decimals read exactly: a payload is queued as the CRM wrote it, not rounded to a double (1e400 is not "Infinity").
            payload = payloadText == null ? null : readPayload(payloadText);
            event.put("payload", payload);
        } catch (StreamConstraintsException e) {
            event.put("payload", null);
            event.put("payloadStart", start(payloadText));
            event.put("payloadError", "the payload nests objects or arrays deeper than Herald reads");
            refusal = "CRM outbox row " + id + " has a payload that nests objects or arrays more than " + MAX_NESTING
                    + " levels deep, which Herald does not read (a CRM's event is a few levels deep). Correct the payload in the CRM"
                    + " and insert the row again";
        } catch (JsonProcessingException e) {
            String where = unreadableWhere(e);
            event.put("payload", payloadText);
            event.put("payloadError", "the payload column is not valid JSON (" + where + ")");
            refusal = "CRM outbox row " + id + " has a payload that is not valid JSON (" + where
                    + "). Correct the payload in the CRM and insert the row again";
            log.warn("CRM outbox row {}: payload is not JSON: {}", id, e.getOriginalMessage());
        }
        event.put("createdAt", createdAt(row));
        String text = json.writeValueAsString(event);
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (refusal == null && bytes > maxRowBytes) {
            refusal = "CRM outbox row " + id + " is " + size(bytes) + " (" + String.format(Locale.ROOT, "%,d", bytes)
                    + " bytes as queued); Herald queues rows up to " + size(maxRowBytes) + " (herald.crm.max-row-bytes)."
                    + " Shorten the payload in the CRM and insert the row again";
        }
        exchange.getMessage().setBody(text);
        exchange.getMessage().setHeader("kafka.KEY", customerKey(id, inner(json, payload)));
        exchange.setProperty(REFUSAL, refusal);
    }

    /**
     * The payload as a tree, decimals read exactly (a payload is queued as the CRM wrote it, not rounded to a double: 1e400 is
     * not "Infinity"), nested at most {@link #MAX_NESTING} levels: the event that wraps it must still be written (Jackson
     * writes 1,000 levels at most, and a payload of exactly 1,000 failed there, at every poll), and mapped.
     */
    private JsonNode readPayload(String payloadText) throws JsonProcessingException {
        try (com.fasterxml.jackson.core.JsonParser parser = READING.createParser(payloadText)) {
            // Exact decimals kept as written: the default node factory strips trailing zeros, and 10.00 was queued (and shown as
            // the row's raw payload) as 1E+1.
            return json.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                    .with(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true)).readTree(parser);
        } catch (java.io.IOException e) {
            if (e instanceof JsonProcessingException processing) {
                throw processing;
            }
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A row whose event could not be written at all (a reason in words, the error itself in the log): quarantined alone, with
     * its event type and the start of its payload kept for people to see.
     */
    private void refuseUnprepared(Exchange exchange, Map<String, Object> row, Exception e) throws JsonProcessingException {
        Object id = row.get("id");
        log.warn("CRM outbox row {} could not be prepared for queueing", id, e);
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("outboxId", id == null ? null : id.toString());
        event.put("eventType", row.get("event_type") == null ? null : row.get("event_type").toString());
        event.put("payloadStart", start(payloadText(row.get("payload"))));
        event.put("createdAt", createdAt(row));
        exchange.getMessage().setBody(json.writeValueAsString(event));
        exchange.getMessage().setHeader("kafka.KEY", "crm-outbox-" + id);
        exchange.setProperty(REFUSAL, "CRM outbox row " + id + " could not be read as an event (an unexpected problem with its content;"
                + " Herald's log has the details on the line with this row's id). Correct the row in the CRM and insert it again");
    }

    /** The first 1,000 characters of a payload, kept for people to see with a row that is not queued. */
    private static String start(String payloadText) {
        return payloadText == null || payloadText.length() <= 1000 ? payloadText : payloadText.substring(0, 1000);
    }

    /**
     * A payload over herald.crm.max-row-bytes, which the claim did not fetch (its size and first characters only): the row
     * is refused with its size, and what is kept of it for people to see is bounded.
     */
    private void refuseUnread(Exchange exchange, Map<String, Object> row, Map<String, Object> event) throws JsonProcessingException {
        Object id = row.get("id");
        long bytes = ((Number) row.get("payload_bytes")).longValue();
        String start = payloadText(row.get("payload_start"));
        event.put("payloadBytes", bytes);
        event.put("payloadStart", start);
        event.put("createdAt", createdAt(row));
        exchange.getMessage().setBody(json.writeValueAsString(event));
        exchange.getMessage().setHeader("kafka.KEY", "crm-outbox-" + id);
        exchange.setProperty(REFUSAL, "CRM outbox row " + id + "'s payload is " + size(bytes) + " (" + String.format(Locale.ROOT, "%,d", bytes)
                + " bytes); Herald queues rows up to " + size(maxRowBytes) + " (herald.crm.max-row-bytes): only its first "
                + String.format(Locale.ROOT, "%,d", start.length()) + " characters were read, kept with this row."
                + " Shorten the payload in the CRM and insert the row again");
    }

    /**
     * The payload column's text, whatever its SQL type: text, json and jsonb (PGobject) as they read, bytea as UTF-8 (a
     * byte array's toString would be "[B@1a2b…"), a CLOB read whole.
     */
    static String payloadText(Object column) {
        if (column == null) {
            return null;
        }
        if (column instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        if (column instanceof Clob clob) {
            try {
                return clob.getSubString(1, (int) Math.min(clob.length(), Integer.MAX_VALUE));
            } catch (SQLException e) {
                throw new IllegalStateException("the payload column (a CLOB) could not be read", e);
            }
        }
        return column.toString();
    }

    /** The Kafka topic refused the row (larger than its max.message.bytes, or the producer's max.request.size). */
    public void refusedByTopic(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        Object id = exchange.getProperty("crmOutboxId");
        int bytes = exchange.getMessage().getBody(String.class).getBytes(StandardCharsets.UTF_8).length;
        log.warn("CRM outbox row {} ({} bytes) refused by Kafka topic {}: {}", id, bytes, topic, cause == null ? "" : cause.toString());
        exchange.setProperty(REFUSAL, "CRM outbox row " + id + " is " + size(bytes) + "; the Kafka topic " + topic
                + " accepts less (its max.message.bytes). Shorten the payload in the CRM and insert the row again,"
                + " or have the topic's limit raised above herald.crm.max-row-bytes");
    }

    /** Sets the row aside with its reason (in the claim's transaction: it is marked processed with it). */
    public void quarantine(Exchange exchange) {
        Object id = exchange.getProperty("crmOutboxId");
        String reason = exchange.getProperty(REFUSAL, String.class);
        unrouted.quarantined(SOURCE, "crm-outbox-" + id, STEP, reason, exchange.getMessage().getBody(String.class));
        metrics.quarantined(SOURCE, STEP);
        log.warn("Quarantined CRM outbox row {} at step {}: {}", id, STEP, reason);
    }

    /** A payload the CRM encoded twice (a JSON string holding the object, which the mapping accepts): the object inside. */
    static JsonNode inner(ObjectMapper json, JsonNode payload) {
        if (payload != null && payload.isTextual() && payload.asText().strip().startsWith("{")) {
            try {
                return json.readTree(payload.asText());
            } catch (JsonProcessingException e) {
                return payload;
            }
        }
        return payload;
    }

    /**
     * The customer's account, so that one customer's rows keep their order on one partition: the CRM's own account id
     * (payload.account.crmId), which the CRM knows on every row, else the id Herald knows the customer by
     * (payload.account.externalId), which some rows leave out; a row naming no account is keyed by itself (it is
     * quarantined at identity anyway, so it has nothing to keep in order with).
     */
    static String customerKey(Object id, JsonNode payload) {
        JsonNode account = payload == null ? null : payload.path("account");
        for (String field : new String[] {"crmId", "externalId"}) {
            JsonNode value = account == null ? null : account.get(field);
            if (value != null && value.isValueNode() && !value.isNull() && !value.asText().isBlank()) {
                return value.asText();
            }
        }
        return "crm-outbox-" + id;
    }

    /** Where the JSON breaks, in words (the parser's own message goes to the log only). */
    private static String unreadableWhere(JsonProcessingException e) {
        if (e instanceof JsonEOFException) {
            return "it ends before the JSON is complete";
        }
        long offset = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
        return offset < 0 ? "it cannot be read as JSON" : "unexpected text at character " + (offset + 1);
    }

    static String size(long bytes) {
        if (bytes >= 1_000_000) {
            return trim(String.format(Locale.ROOT, "%.1f", bytes / 1_000_000.0)) + " MB";
        }
        if (bytes >= 1_000) {
            return trim(String.format(Locale.ROOT, "%.1f", bytes / 1_000.0)) + " KB";
        }
        return bytes + " bytes";
    }

    private static String trim(String number) {
        return number.endsWith(".0") ? number.substring(0, number.length() - 2) : number;
    }

    /**
     * The row's created_at as an instant: as PostgreSQL writes it (created_at_written, the claim's to_json of the column), a
     * time with its offset read as it is, one without (a column of type timestamp without time zone) read as UTC. The
     * driver's own value of such a column is read in Herald's JVM zone, so the same row had another time on a machine in
     * Berlin than in the UTC container (CrmOutboxCheck says at startup that such a column is read as UTC).
     */
    static String createdAt(Map<String, Object> row) {
        Object written = row.get("created_at_written");
        if (written != null) {
            String text = written.toString();
            try {
                return java.time.OffsetDateTime.parse(text).toInstant().toString();
            } catch (java.time.format.DateTimeParseException withoutOffset) {
                try {
                    return java.time.LocalDateTime.parse(text).toInstant(java.time.ZoneOffset.UTC).toString();
                } catch (java.time.format.DateTimeParseException neither) {
                    // infinity, a BC date: as the driver reads it, below
                }
            }
        }
        return instant(row.get("created_at"));
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
