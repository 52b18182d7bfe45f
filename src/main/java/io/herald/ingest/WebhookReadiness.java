package io.herald.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The webhooks answer 503 "not ready yet, retry" (with Retry-After and a JSON reason), never 404,
 * while the route that takes them is not running: Herald is starting, or shutting down, or the route
 * was stopped. Stripe and Zendesk retry a 5xx; a 404 they would take for a wrong URL. Runs before every
 * other filter (before the size limit and security), so nothing is read or recorded: the state is
 * Herald's own, the request is not at fault, and the database may not be reachable yet.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)   // after NeedlessPathEncoding
public class WebhookReadiness extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(WebhookReadiness.class);
    private static final String PREFIX = "/webhooks/";
    /** Seconds a sender is asked to wait before trying again. */
    static final int RETRY_AFTER_SECONDS = 10;

    private final CamelContext camel;

    public WebhookReadiness(CamelContext camel) {
        this.camel = camel;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith(PREFIX);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // The route is named after the webhook's source (/webhooks/sms/status/ is sms-status, route sms-status-webhook); a path
        // Herald does not have has no route.
        String known = WebhookBodyLimit.source(request);
        String source = known != null ? known : request.getRequestURI().substring(PREFIX.length());
        String route = known == null ? null : known + "-webhook";
        boolean running = route != null && camel.getRoute(route) != null
                && camel.getRouteController().getRouteStatus(route) == ServiceStatus.Started;
        if (camel.isStopping() || camel.isStopped()) {
            unavailable(response, source, "Herald is shutting down and takes no more " + source + " webhooks; nothing was accepted, please retry later");
            return;
        }
        if (!running && !camel.isStarted()) {
            unavailable(response, source, "Herald is starting and does not take " + source + " webhooks yet; nothing was accepted, please retry later");
            return;
        }
        if (!running && route != null && camel.getRoute(route) != null) {
            unavailable(response, source, "Herald's " + source + " webhook is not running just now; nothing was accepted, please retry later");
            return;
        }
        chain.doFilter(request, response);
    }

    private static void unavailable(HttpServletResponse response, String source, String reason) throws IOException {
        log.debug("Answered a {} webhook 503: {}", source, reason);
        byte[] json = new InboundRejections.Answer(503, reason).json().getBytes(StandardCharsets.UTF_8);
        response.setStatus(503);
        response.setHeader("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
        response.setContentType("application/json");
        response.setContentLength(json.length);
        response.getOutputStream().write(json);
    }
}
