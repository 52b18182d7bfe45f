package io.herald.ingest;

import java.io.IOException;
import java.util.Map;
import java.util.Set;

import io.herald.config.IngestSettings;
import io.herald.incidents.IncidentToken;
import io.herald.web.BufferedRequest;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The webhooks' size limit, enforced before anything else looks at a request (before security,
 * before Camel, before any signature is computed): a body announced larger than
 * herald.ingest.max-body-bytes by its Content-Length is refused with 413 without reading it, and a
 * body without Content-Length (chunked) is read only up to one byte past the limit. Either way the
 * refusal is recorded in inbound_rejection with what was read. A body within the limit is handed on
 * in memory, so the route reads it as usual, unless Camel's HTTP binding would fail on it before
 * any route ran (a 500, recorded nowhere): a form-encoded body on a webhook that takes JSON is
 * refused with 415, and a form-encoded body that is not name=value pairs with 400 ({@link FormBodies}). So is anything Spring
 * MVC or Camel would refuse before a route ran: a method other than POST (405) and a multipart body (415).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2)   // after WebhookReadiness: nothing is read while the webhooks are not running
public class WebhookBodyLimit extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(WebhookBodyLimit.class);
    /** Every webhook, by path, with the source its refusals are recorded under (as its route records them). */
    private static final Map<String, String> SOURCES = Map.of(
            "/webhooks/billing", "billing", "/webhooks/support", "support", "/webhooks/incidents", "incidents",
            "/webhooks/email/events", "email-events", "/webhooks/sms/status", "sms-status", "/webhooks/sms/inbound", "sms-inbound");
    /** The webhooks whose senders post forms (Twilio-style); every other one takes JSON. */
    private static final Set<String> FORM_SOURCES = Set.of("sms-status", "sms-inbound");

    private final int maxBodyBytes;
    private final InboundRejections rejections;
    private final IncidentToken incidentToken;

    @Autowired
    public WebhookBodyLimit(IngestSettings ingest, InboundRejections rejections, IncidentToken incidentToken) {
        this(ingest.maxBodyBytes(), ingest.kafkaMaxRequestSize(), rejections, incidentToken);
    }

    WebhookBodyLimit(long maxBodyBytes, long kafkaMaxRequestSize, InboundRejections rejections) {
        this(maxBodyBytes, kafkaMaxRequestSize, rejections, null);
    }

    /** The limits come checked from IngestSettings (max-body-bytes fits an int; the producers have room above it). */
    WebhookBodyLimit(long maxBodyBytes, long kafkaMaxRequestSize, InboundRejections rejections, IncidentToken incidentToken) {
        this.maxBodyBytes = (int) maxBodyBytes;
        this.rejections = rejections;
        this.incidentToken = incidentToken;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return source(request) == null;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String source = source(request);
        long announced = request.getContentLengthLong();
        if ("incidents".equals(source) && incidentToken != null && incidentToken.matches(request.getHeader("Authorization"))) {
            // Alertmanager's own notification (its token): a refusal here (too large) loses an incident, so the team is told.
            request.setAttribute(InboundRejections.AUTHENTICATED, true);
        }
        if (!"POST".equals(request.getMethod())) {
            // Spring MVC would answer 405 before any route ran, recorded nowhere: a Twilio number whose "a message comes in"
            // is set to HTTP GET would lose its customers' STOPs without a trace.
            // What such a sender sends is in its query string (Twilio's From, Body=STOP): kept as the excerpt, so an operator
            // can see who wrote what.
            response.setHeader("Allow", "POST");
            byte[] query = request.getQueryString() == null ? null : request.getQueryString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            rejections.refuse(request, response, source, 405, "the request used HTTP " + InboundRejections.text(request.getMethod(), 20)
                    + "; Herald's webhooks take POST only: set the sender's webhook method to HTTP POST (the excerpt is its query string)",
                    query == null ? 0 : query.length, query);
            return;
        }
        String type = request.getContentType();
        if (type != null && type.strip().toLowerCase(java.util.Locale.ROOT).startsWith("multipart/")) {
            // Camel's HTTP binding would parse it as parts from a stream this filter has read: a 500, recorded nowhere.
            rejections.refuse(request, response, source, 415, "content type is '" + InboundRejections.text(type, 80) + "'; Herald's webhooks"
                    + " take " + (FORM_SOURCES.contains(source) ? "application/x-www-form-urlencoded" : "application/json") + ", not multipart",
                    Math.max(announced, 0), null);
            return;
        }
        String encoding = request.getHeader("Content-Encoding");
        if (encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
            // A compressed body would be inflated past the limit after it was checked; senders do not compress webhooks.
            rejections.refuse(request, response, source, 415, "body is sent with Content-Encoding '" + InboundRejections.text(encoding, 40)
                    + "'; Herald accepts webhook bodies uncompressed only", Math.max(announced, 0), null);
            return;
        }
        if (announced > maxBodyBytes) {
            rejections.refuse(request, response, source, 413, "body is " + announced + " bytes (Content-Length); the limit is " + maxBodyBytes
                    + " bytes (herald.ingest.max-body-bytes), so it was refused without being read", announced, null);
            return;
        }
        byte[] body;
        try {
            body = request.getInputStream().readNBytes(maxBodyBytes + 1);
        } catch (IOException e) {
            log.info("A {} webhook body could not be read to its end", source, e);
            // The sender got no answer on a broken connection and sends again: nothing of its own was lost, nothing to announce.
            request.removeAttribute(InboundRejections.AUTHENTICATED);
            rejections.refuse(request, response, source, 400, "the body could not be read to its end (the sender closed or stalled the connection);"
                    + " nothing was accepted", Math.max(announced, 0), null);
            return;
        }
        if (body.length > maxBodyBytes) {
            rejections.refuse(request, response, source, 413, "body is larger than the limit of " + maxBodyBytes
                    + " bytes (herald.ingest.max-body-bytes); reading stopped after " + body.length + " bytes", body.length, body);
            return;
        }
        if (FormBodies.isForm(request.getContentType())) {
            String malformed = FORM_SOURCES.contains(source) ? FormBodies.malformed(body) : InboundGuard.notJson(request.getContentType());
            if (malformed != null) {
                rejections.refuse(request, response, source, FORM_SOURCES.contains(source) ? 400 : 415, malformed, body.length, body);
                return;
            }
        }
        chain.doFilter(new BufferedRequest(request, body), response);
    }

    static String source(HttpServletRequest request) {
        String path = request.getRequestURI();
        return path == null ? null : SOURCES.get(path.endsWith("/") ? path.substring(0, path.length() - 1) : path);
    }

    /** Whether the path is a webhook's, exactly as its route takes it (no trailing slash). */
    static boolean isWebhook(String path) {
        return SOURCES.containsKey(path);
    }

    /** The webhooks' paths, in a stable order, for a refusal that names them. */
    static String paths() {
        return String.join(", ", new java.util.TreeSet<>(SOURCES.keySet()));
    }
}
