package io.herald.ingest;

import java.util.Locale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.herald.identity.UnknownCustomer;
import io.herald.notification.InvalidNotification;

/**
 * Turns the failure of one source event into one sentence a person can act on. Herald's own refusals
 * already are sentences: a mapping's {@code error "billing event evt_1 has no customer: ..."} (DataSonnet
 * wraps it in engine detail, which is dropped), a validation or a rule ({@link InvalidNotification}), an
 * unknown customer ({@link UnknownCustomer}). Anything else (an engine message such as "Internal Error" or
 * "Unknown binary operation", a driver or database text) is not shown: it becomes a generic sentence that
 * names the step and the source event, and the technical detail goes to the log only.
 */
public final class MappingErrors {

    /** How DataSonnet prefixes a mapping's own {@code error} message. */
    private static final String DATASONNET_ERROR = "com.datasonnet.jsonnet.Error: ";

    private MappingErrors() {
    }

    /**
     * The reason for a quarantined event.
     *
     * @param cause   what failed
     * @param step    mapping, validation, identity or intake
     * @param source  billing, crm or support
     * @param eventId the source's event id when the raw event could be read, else null
     * @param notJson why the raw event cannot be read as JSON ({@link #notJson}: "is not valid JSON (…)"), when it cannot; else null
     */
    public static String readable(Throwable cause, String step, String source, String eventId, String notJson) {
        return readable(cause, step, source, eventId, notJson, null, 0);
    }

    /**
     * As above; notificationsTopic and maxRequestSize (herald.ingest.kafka-max-request-size) name the fix when the broker
     * refused the notification for its size below what Herald's producer takes (a re-drive, which publishes it one at a
     * time: IntakeBatch says the same for the batch path).
     */
    public static String readable(Throwable cause, String step, String source, String eventId, String notJson,
                                  String notificationsTopic, int maxRequestSize) {
        String event = (source == null ? "source" : source) + " event" + (eventId == null ? "" : " " + eventId);
        if (notJson != null) {
            return event + " " + notJson + "; the raw event is kept as received. Ask the sender to fix it";
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof InvalidNotification || t instanceof UnknownCustomer) {
                return t.getMessage();
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof MappingTimedOut timedOut) {
                return "mapping failed: " + event + ": the mapping " + timedOut.mapping() + " took longer than "
                        + MappingTimedOut.inWords(timedOut.limit()) + " for this event (herald.ingest.mapping-time-limit) and was"
                        + " stopped waiting for, so the source's next events were not held up: check the mapping for a loop or a recursion"
                        + " that depends on the event's data, then re-drive the event from the console";
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.RecordTooLargeException && notificationsTopic != null
                    && refusedByBroker(t)) {
                return event + " makes a notification which Kafka topic " + notificationsTopic + " refused as too large: its"
                        + " max.message.bytes is set below herald.ingest.kafka-max-request-size (" + maxRequestSize + " bytes), which"
                        + " Herald sends; nothing was sent. Set it (kafka-configs.sh --alter --entity-type topics --entity-name "
                        + notificationsTopic + " --add-config max.message.bytes=" + maxRequestSize + "), then re-drive it";
            }
            if (t instanceof org.apache.kafka.common.errors.RecordTooLargeException) {
                return event + " makes a notification larger than Kafka takes as one record (herald.ingest.kafka-max-request-size, and"
                        + " the notifications topic's max.message.bytes); nothing was sent. Shorten the event at its source (fewer order"
                        + " lines, shorter texts), then re-drive it";
            }
        }
        if ("mapping".equals(step)) {
            String own = mappingsOwnMessage(cause, source);
            if (own != null && (own.startsWith("amount ") || own.startsWith("currency "))) {
                // herald.money in datasonnet/herald.libsonnet, which does not know the event: "amount the number 1e16 is not an amount"
                return "mapping failed: " + event + " has an amount Herald cannot write for a customer (" + own + "). Correct the"
                        + " event at its source, then re-drive it";
            }
            if (own != null) {
                return "mapping failed: " + own;
            }
            return "mapping failed: " + event + " has a field whose type or value the " + source
                    + " mapping does not handle (Herald's log has the detail for the engineers). Correct the event at its source"
                    + " or the mapping in datasonnet/, then re-drive it";
        }
        return event + " could not be " + doneAt(step) + " because of an unexpected problem, not a known data rule"
                + " (Herald's log has the detail for the engineers). Re-drive it once the cause is fixed";
    }

    /**
     * The broker refused the record (its topic's max.message.bytes), not Herald's own producer before sending it: the
     * producer's refusal names its setting (max.request.size, or buffer.memory).
     */
    private static boolean refusedByBroker(Throwable tooLarge) {
        String message = tooLarge.getMessage();
        return message == null || !(message.contains("max.request.size") || message.contains("buffer.memory"));
    }

    /** The mapping's own readable {@code error} text, or null when the engine failed on its own. */
    static String mappingsOwnMessage(Throwable cause, String source) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            int marker = message == null ? -1 : message.indexOf(DATASONNET_ERROR);
            if (marker < 0) {
                continue;
            }
            String text = firstLine(message.substring(marker + DATASONNET_ERROR.length()));
            // Herald's mappings start every error with the event it is about ("billing event evt_1 has no ...");
            // anything else comes from the engine ("Internal Error", "Unknown binary operation: ...").
            if (source != null && text.toLowerCase(Locale.ROOT).startsWith(source.toLowerCase(Locale.ROOT) + " event")
                    || text.startsWith("amount ") || text.startsWith("currency ")) {
                return text;
            }
            return null;
        }
        return null;
    }

    private static String doneAt(String step) {
        return switch (step == null ? "" : step) {
            case "mapping" -> "mapped";
            case "validation" -> "checked";
            case "identity" -> "matched to a customer";
            default -> "recorded";
        };
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        return text.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
    }

    /** Why the text cannot be read as JSON, in words ("is not valid JSON (where it stops being JSON)"), or null when it can. */
    static String notJson(com.fasterxml.jackson.databind.ObjectMapper json, String raw) {
        if (raw == null || raw.isBlank()) {
            return "is not valid JSON (it is empty)";
        }
        try {
            json.readTree(raw);
            return null;
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            return "cannot be read: it nests objects or arrays more than 1,000 levels deep, or has a number or text longer than any"
                    + " event's (an event is a few levels deep)";
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            return "is not valid JSON (" + (at == null || at.getLineNr() < 1 ? "it is unreadable"
                    : "it breaks off or has a syntax error at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ")";
        }
    }
}
