package io.herald.ingest;

import java.io.IOException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The cheap checks every webhook body passes before it is queued: size, content type and
 * well-formed JSON. It also sets the Kafka key from a JSON pointer, so that events about
 * the same thing (a ticket, a customer) stay in order on one partition.
 */
@Component
public class InboundGuard {

    private final long maxBodyBytes;
    private final ObjectMapper json;

    public InboundGuard(@Value("${herald.ingest.max-body-bytes:1048576}") long maxBodyBytes, ObjectMapper json) {
        this.maxBodyBytes = maxBodyBytes;
        this.json = json;
    }

    public void accept(Exchange exchange, String keyPointer) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw new InboundRejected(400, "empty body; expected a JSON event");
        }
        if (body.length > maxBodyBytes) {
            throw new InboundRejected(413, "body is " + body.length + " bytes; the limit is " + maxBodyBytes
                    + " bytes (herald.ingest.max-body-bytes)");
        }
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        if (contentType == null || !contentType.toLowerCase().startsWith("application/json")) {
            throw new InboundRejected(415, "content type is '" + contentType + "'; expected application/json");
        }
        JsonNode event;
        try {
            event = json.readTree(body);
        } catch (IOException e) {
            throw new InboundRejected(400, "body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (event == null || !event.isObject()) {
            throw new InboundRejected(400, "body is JSON but not an object; expected a JSON event");
        }
        JsonNode key = event.at(keyPointer);
        exchange.getMessage().setHeader("kafka.KEY", key.isValueNode() ? key.asText() : null);
        exchange.getMessage().setBody(body);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
