package io.herald.ingest;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.herald.config.IngestSettings;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * The cheap checks every webhook body passes before it is queued: size, content type, UTF-8 and
 * one well-formed JSON object. Every refusal is an {@link InboundRejected} with a reason in words
 * (no parser message). It also sets the Kafka key to the customer the event is about, so that one
 * customer's events stay in order on one partition.
 */
@Component
public class InboundGuard {

    private static final int SHOWN_CONTENT_TYPE_CHARS = 80;

    private final long maxBodyBytes;
    private final ObjectReader json;

    public InboundGuard(IngestSettings ingest, ObjectMapper json) {
        this.maxBodyBytes = ingest.maxBodyBytes();
        this.json = json.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * A Stripe-style event, keyed by its customer id (data.object.customer, or the customer object's
     * id); a guest payment without one is keyed by the email it carries, so that it stays in order
     * with the same guest's other events: by a digest of it ("guest:" and the SHA-256 of the address,
     * lower-cased), never the address itself, which the broker keeps with the record and tracing
     * copies into its spans (kafka.key), where nothing masks it.
     */
    public void acceptBilling(Exchange exchange) {
        JsonNode event = accept(exchange);
        JsonNode object = event.path("data").path("object");
        String key = firstText(object.path("customer"), object.path("customer").path("id"),
                "customer".equals(object.path("object").asText()) ? object.path("id") : null);
        if (key == null) {
            String email = firstText(object.path("customer_email"), object.path("billing_details").path("email"),
                    object.path("receipt_email"), object.path("email"));
            key = email == null ? null : guestKey(email);
        }
        exchange.getMessage().setHeader("kafka.KEY", key);
    }

    /** A guest payer's partition key: "guest:" and the hex SHA-256 of the trimmed, lower-cased address. */
    static String guestKey(String email) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(email.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
            return "guest:" + java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /**
     * A Zendesk-style ticket event, keyed by its requester (detail.requester_id, the Zendesk user the
     * ticket is for); without one by the customer id it names, then by the ticket.
     */
    public void acceptSupport(Exchange exchange) {
        JsonNode event = accept(exchange);
        JsonNode detail = event.path("detail");
        exchange.getMessage().setHeader("kafka.KEY",
                firstText(detail.path("requester_id"), detail.path("external_id"), detail.path("id")));
    }

    /** An Alertmanager notification (POST /webhooks/incidents): the same checks; it is not queued, so no Kafka key. */
    public void acceptIncident(Exchange exchange) {
        accept(exchange);
    }

    private JsonNode accept(Exchange exchange) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new InboundRejected(400, "empty body; expected a JSON event");
        }
        if (body.length > maxBodyBytes) {
            throw new InboundRejected(413, "body is " + body.length + " bytes; the limit is " + maxBodyBytes
                    + " bytes (herald.ingest.max-body-bytes)");
        }
        checkContentType(exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class));
        if (looksLikeUtf16Or32(body)) {
            throw new InboundRejected(400, "body is in UTF-16 or UTF-32; Herald takes events in UTF-8, the encoding JSON sent between"
                    + " systems must use: set the sender to send UTF-8");
        }
        checkUtf8(body);
        JsonNode event;
        try {
            // Read as the UTF-8 it was checked to be: from bytes, Jackson guesses UTF-16 or UTF-32 by the NULs (an ASCII event in
            // UTF-16 is valid UTF-8 byte by byte), and such a body was answered 202, then quarantined by the mapping as not JSON.
            event = json.readTree(ByteOrderMark.strip(new String(body, StandardCharsets.UTF_8)));
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new InboundRejected(400, "body nests objects or arrays more than 1,000 levels deep, or has a number or text longer than"
                    + " any event's; an event is a few levels deep");
        } catch (JsonProcessingException e) {
            throw new InboundRejected(400, "body is not valid JSON" + where(e.getLocation()) + "; expected one JSON object (the event)");
        }
        if (event == null || !event.isObject()) {
            throw new InboundRejected(400, "body is JSON but not an object; expected a JSON event");
        }
        // Queued without a leading byte order mark (its signature was checked on the bytes as sent).
        exchange.getMessage().setBody(ByteOrderMark.strip(body));
        return event;
    }

    private static void checkContentType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            throw new InboundRejected(415, "no Content-Type header; expected application/json");
        }
        String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !(mediaType.startsWith("application/") && mediaType.endsWith("+json"))) {
            throw new InboundRejected(415, notJson(contentType));
        }
    }

    /** The refusal of a body that is not sent as JSON, naming its content type (cut after 80 characters). */
    static String notJson(String contentType) {
        String shown = contentType.length() <= SHOWN_CONTENT_TYPE_CHARS ? contentType
                : contentType.substring(0, SHOWN_CONTENT_TYPE_CHARS) + "… (" + contentType.length() + " characters)";
        return "content type is '" + shown + "'; expected application/json";
    }

    /**
     * A UTF-16 or UTF-32 byte order mark, or a NUL byte among the first four (a JSON text starts with an ASCII character, which
     * these encodings write with NUL bytes beside it; in UTF-8 JSON no NUL byte can appear there).
     */
    static boolean looksLikeUtf16Or32(byte[] body) {
        if (body.length >= 2 && (body[0] == (byte) 0xFE && body[1] == (byte) 0xFF || body[0] == (byte) 0xFF && body[1] == (byte) 0xFE)) {
            return true;
        }
        for (int i = 0; i < Math.min(4, body.length); i++) {
            if (body[i] == 0) {
                return true;
            }
        }
        return false;
    }

    private static void checkUtf8(byte[] body) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(body);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                throw new InboundRejected(400, "body is not valid UTF-8 (invalid byte at offset " + in.position()
                        + "); send the event as JSON in UTF-8");
            }
            if (result.isUnderflow()) {
                return;
            }
            out.clear();
        }
    }

    private static String where(JsonLocation location) {
        if (location == null || location.getLineNr() < 1) {
            return "";
        }
        return " (at line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    private static String firstText(JsonNode... candidates) {
        for (JsonNode candidate : candidates) {
            if (candidate != null && (candidate.isTextual() || candidate.isNumber()) && !candidate.asText().isBlank()) {
                return candidate.asText();
            }
        }
        return null;
    }
}
