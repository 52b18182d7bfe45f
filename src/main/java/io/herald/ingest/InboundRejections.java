package io.herald.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import io.herald.kafka.InfrastructureFaults;
import io.herald.logging.Masking;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Records every refused inbound request (in the inbound_rejection table and the log) and
 * shapes the HTTP answer, so a refused webhook is never only a log line.
 *
 * What is kept comes from a sender Herald does not trust, so it is normalised before it is
 * stored (NUL removed, invalid UTF-8 and lone surrogates replaced, every text cut to its
 * column, the body kept only as a bounded excerpt, whole for a request Herald failed on): recording a rejection cannot fail
 * because of what the request contained. If it fails anyway (the database is down), the
 * sender is answered 503 so that it retries once Herald can record the answer.
 *
 * <p>Each refusal is also counted, recorded or not, as herald_webhook_rejected_total{source, reason}
 * (reason: one of {@link #reasonLabel}'s few words, never the request's content), so that a broken
 * secret shows on a dashboard and in an alert rule, not only in the log.
 */
@Component
public class InboundRejections {

    /**
     * Exchange property or servlet request attribute: the request carried the sender's valid credential (IncidentToken), so a
     * refusal of its body is the sender's own notification lost, announced by the failure alerts (inbound_rejection.authenticated).
     */
    public static final String AUTHENTICATED = "heraldAuthenticated";

    /** How much of a refused body is kept, so that an operator can see what was sent. */
    public static final int EXCERPT_BYTES = 16 * 1024;

    private static final Logger log = LoggerFactory.getLogger(InboundRejections.class);
    private static final int SOURCE_CHARS = 20;
    private static final int REMOTE_CHARS = 64;
    private static final int CONTENT_TYPE_CHARS = 200;
    private static final int REASON_CHARS = 2000;

    private final JdbcTemplate jdbc;
    private final MeterRegistry metrics;
    private final TopicSizeRefusals topicSize;

    @Autowired
    public InboundRejections(JdbcTemplate jdbc, MeterRegistry metrics, TopicSizeRefusals topicSize) {
        this.jdbc = jdbc;
        this.metrics = metrics;
        this.topicSize = topicSize;
    }

    /** Without metrics nor topic settings (unit tests). */
    public InboundRejections(JdbcTemplate jdbc) {
        this(jdbc, new SimpleMeterRegistry(), null);
    }

    /**
     * The reason label of herald_webhook_rejected_total, and the console's grouping: what kind of refusal
     * an HTTP status stands for. "signature" is what a broken secret rotation produces.
     */
    public static String reasonLabel(int status) {
        return KINDS.getOrDefault(status, "http_" + status);
    }

    /** The same as {@link #reasonLabel}, as an SQL expression over inbound_rejection.http_status. */
    public static String reasonLabelSql() {
        StringBuilder sql = new StringBuilder("CASE http_status");
        KINDS.forEach((status, kind) -> sql.append(" WHEN ").append(status).append(" THEN '").append(kind).append('\''));
        return sql.append(" ELSE 'http_' || http_status END").toString();
    }

    /**
     * HTTP status -> kind of refusal: the signature (a wrong or rotated secret), the method (not POST), the body, its size, its content type, a fault
     * of Herald's own (failed), an outage of its database or broker (not_queued).
     */
    private static final Map<Integer, String> KINDS = new TreeMap<>(Map.of(
            401, "signature", 400, "malformed", 404, "unknown_path", 405, "method", 413, "too_large", 415, "content_type",
            500, "failed", 503, "not_queued"));

    /** The HTTP answer to a refused or failed request. */
    public record Answer(int status, String reason) {
        public String json() {
            return "{\"status\":\"" + (status == 503 ? "retry" : status == 500 ? "failed" : "rejected") + "\",\"reason\":" + JsonText.quote(reason) + "}";
        }
    }

    /** Called by the webhook routes' error handler (routes/error-handling.camel.yaml, webhook-errors). */
    public void record(Exchange exchange, String source) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        InboundRejected refused = refusal(cause);
        byte[] body = bodyOf(exchange);
        int status;
        String reason;
        if (refused == null && tooLargeForTopic(cause)) {
            // Within Herald's own body limit, refused by a topic set smaller: Herald's setup, not the request. Not 413 (the
            // sender cannot fix it), not 503 (it is no outage): 500, the request kept whole, the reason naming the fix.
            status = 500;
            reason = topicSize == null ? "Herald's event broker refused this event as too large for its topic; the request is"
                    + " kept whole for Herald's operators" : topicSize.reason(source, body == null ? 0 : body.length);
            log.error("{} webhook refused by Kafka for its size, answered 500: {}", source, reason, cause);
        } else if (refused != null) {
            status = refused.httpStatus();
            reason = refused.getMessage();
        } else if (InfrastructureFaults.isInfrastructure(cause)) {
            // An outage of Herald's own database or event broker: 503 tells the sender to retry later; nothing was
            // accepted. The technical detail goes to the log only.
            status = 503;
            reason = "Kafka".equals(InfrastructureFaults.systemOf(cause))
                    ? "Herald could not queue the event on its event broker just now; nothing was accepted, please retry later"
                    : InfrastructureFaults.isReadOnly(cause)
                    ? "Herald's database refuses writes just now (it is read-only); nothing was accepted, please retry later"
                    : "Herald could not reach its database just now; nothing was accepted, please retry later";
            log.warn("{} webhook not taken ({}), answered 503", source, InfrastructureFaults.unavailable(cause), cause);
        } else {
            // Neither the request's fault as far as Herald can tell nor an outage (a value its database refuses, a bug): it
            // fails the same way each time, so no "retry later". Answered 500 and kept whole for an operator; the detail is
            // in the log under the reference the reason gives.
            status = 500;
            String reference = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & 0xffffffffL);
            reason = "Herald failed on this request because of a fault of its own (not an outage); nothing was accepted, and sending it"
                    + " again fails the same way until Herald is fixed. The request is kept for Herald's operators (reference "
                    + reference + ")";
            log.error("{} webhook failed, answered 500 (reference {})", source, reference, cause);
        }
        Answer answer = record(source, status, reason,
                remoteAddressOf(exchange),
                exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class),
                body == null ? 0 : body.length, body, body == null ? 0 : body.length,
                Boolean.TRUE.equals(exchange.getProperty(AUTHENTICATED, Boolean.class)));

        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, answer.status());
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody(answer.json());
    }

    /**
     * Where a request a webhook route refused came from, for the Rejected webhooks page's "From": the servlet request behind the
     * exchange (platform-http sets no remote-address header, so this read a header nobody wrote and was always empty).
     */
    static String remoteAddressOf(Exchange exchange) {
        for (org.apache.camel.Message message : java.util.List.of(exchange.getMessage(), exchange.getIn())) {
            if (message instanceof PlatformHttpMessage http && http.getRequest() != null) {
                return http.getRequest().getRemoteAddr();
            }
        }
        return null;
    }

    /**
     * Stores one refused request and returns the answer to give: the refusal itself, or 503 when it
     * could not be recorded. {@code body} holds the first {@code bodyLength} bytes read (may be fewer
     * than {@code bodyBytes}, the size the request had or announced).
     */
    public Answer record(String source, int status, String reason, String remoteAddress, String contentType,
                         long bodyBytes, byte[] body, int bodyLength) {
        return record(source, status, reason, remoteAddress, contentType, bodyBytes, body, bodyLength, false);
    }

    /** As above; {@code authenticated}: the request carried the sender's valid credential (see {@link #AUTHENTICATED}). */
    public Answer record(String source, int status, String reason, String remoteAddress, String contentType,
                         long bodyBytes, byte[] body, int bodyLength, boolean authenticated) {
        String keptSource = text(source == null ? "unknown" : source, SOURCE_CHARS);
        Counter.builder("herald.webhook.rejected").description("Webhook requests refused, per source and kind of refusal (signature, malformed, too_large, content_type, failed, not_queued)")
                .tag("source", keptSource).tag("reason", reasonLabel(status)).register(metrics).increment();
        String keptReason = text(reason, REASON_CHARS);
        // A request Herald failed on (500) passed its checks and may have to be sent again by an operator: kept whole.
        int kept = status == 500 ? bodyLength : Math.min(bodyLength, EXCERPT_BYTES);
        String excerpt = body == null || bodyLength == 0 ? null
                : text(new String(body, 0, kept, StandardCharsets.UTF_8), kept);
        try {
            jdbc.update("INSERT INTO inbound_rejection (source, http_status, reason, remote_addr, content_type, body_bytes, body_excerpt,"
                            + " authenticated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    keptSource, status, keptReason,
                    text(CallerAddress.withoutPort(remoteAddress), REMOTE_CHARS), text(contentType, CONTENT_TYPE_CHARS), bodyBytes, excerpt,
                    authenticated);
        } catch (DataAccessException e) {
            log.error("Could not record a refused {} webhook (HTTP {}: {}); answering 503 so the sender retries",
                    source, status, Masking.mask(keptReason), e);
            return new Answer(503, InfrastructureFaults.isReadOnly(e)
                    ? "Herald's database refuses writes just now (it is read-only); nothing was accepted, please retry later"
                    : "Herald could not record this request just now (its database is unavailable); please retry later");
        }
        if (status != 503) {
            log.warn("Refused {} webhook ({} bytes) with HTTP {}: {}", source, bodyBytes, status, Masking.mask(keptReason));
        }
        return new Answer(status, keptReason);
    }

    /**
     * Records a request refused before it reached a route and writes its JSON answer. The connection is closed
     * after the answer: the rest of a body Herald did not read is not wanted.
     */
    public void refuse(HttpServletRequest request, HttpServletResponse response, String source, int status, String reason,
                       long bodyBytes, byte[] bodyRead) throws IOException {
        Answer answer = record(source, status, reason, request.getRemoteAddr(), request.getContentType(), bodyBytes,
                bodyRead, bodyRead == null ? 0 : bodyRead.length, Boolean.TRUE.equals(request.getAttribute(AUTHENTICATED)));
        byte[] json = answer.json().getBytes(StandardCharsets.UTF_8);
        response.setStatus(answer.status());
        response.setHeader("Connection", "close");
        response.setContentType("application/json");
        response.setContentLength(json.length);
        response.getOutputStream().write(json);
        response.flushBuffer();
    }

    private static InboundRejected refusal(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof InboundRejected rejected) {
                return rejected;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** The broker (a topic's max.message.bytes) refused the event for its size. */
    private static boolean tooLargeForTopic(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof RecordTooLargeException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static byte[] bodyOf(Exchange exchange) {
        try {
            return exchange.getMessage().getBody(byte[].class);
        } catch (RuntimeException e) {
            log.debug("The refused request's body could not be read as bytes", e);
            return null;
        }
    }

    /**
     * A text PostgreSQL will store: no NUL, no lone surrogate (replaced by U+FFFD), at most
     * {@code maxChars} characters (a surrogate pair is never cut in half).
     */
    static String text(String value, int maxChars) {
        if (value == null) {
            return null;
        }
        StringBuilder kept = new StringBuilder(Math.min(value.length(), maxChars));
        int chars = 0;
        for (int i = 0; i < value.length() && chars < maxChars; i++) {
            char c = value.charAt(i);
            if (c == '\u0000') {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                kept.append(c).append(value.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                kept.append('\uFFFD');
            } else {
                kept.append(c);
            }
            chars++;
        }
        return kept.toString();
    }
}
