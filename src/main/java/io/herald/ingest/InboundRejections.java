package io.herald.ingest;

import java.nio.charset.StandardCharsets;

import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Records every refused inbound request (in the inbound_rejection table and the log) and
 * shapes the HTTP answer, so a refused webhook is never only a log line.
 */
@Component
public class InboundRejections {

    private static final Logger log = LoggerFactory.getLogger(InboundRejections.class);
    private static final int EXCERPT_BYTES = 64 * 1024;

    private final JdbcTemplate jdbc;

    public InboundRejections(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void record(Exchange exchange, String source) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        // Refused input gets its own status; anything else (e.g. Kafka unreachable) is our fault:
        // 503 tells the sender to retry later, and the attempt is still recorded.
        int status = cause instanceof InboundRejected rejected ? rejected.httpStatus() : 503;
        String reason = cause instanceof InboundRejected ? cause.getMessage()
                : "event could not be queued, please retry: " + (cause == null ? "unknown error" : cause.getMessage());
        byte[] body = exchange.getMessage().getBody(byte[].class);
        int length = body == null ? 0 : body.length;
        String excerpt = body == null ? null
                : new String(body, 0, Math.min(length, EXCERPT_BYTES), StandardCharsets.UTF_8).replace("\u0000", "");
        String remote = exchange.getMessage().getHeader("CamelHttpRemoteAddress", String.class);
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        jdbc.update("INSERT INTO inbound_rejection (source, http_status, reason, remote_addr, content_type, body_bytes, body_excerpt)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)", source, status, reason, remote, contentType, length, excerpt);
        log.warn("Refused {} webhook ({} bytes) with HTTP {}: {}", source, length, status, reason);

        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody("{\"status\":\"rejected\",\"reason\":" + JsonText.quote(reason) + "}");
    }
}
