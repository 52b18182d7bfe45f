package io.herald.ingest;

import java.io.IOException;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A request to a webhook path Herald does not have (a sender configured with /webhooks/stripe instead of
 * /webhooks/billing) is answered 404 in words naming the paths Herald has, and recorded in inbound_rejection with the
 * first part of its body under source "unknown", so the console's refused requests show it: a wrong URL at a sender is
 * otherwise seen only in the sender's own dashboard. Runs after WebhookReadiness (while Herald starts or stops, every
 * webhook path answers 503 and nothing is recorded).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2)
public class UnknownWebhookPaths extends OncePerRequestFilter {

    private static final String PREFIX = "/webhooks/";
    /** The longest path kept in the reason. */
    private static final int PATH_CHARS = 120;

    private final InboundRejections rejections;

    public UnknownWebhookPaths(InboundRejections rejections) {
        this.rejections = rejections;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return path == null || !path.startsWith(PREFIX) || WebhookBodyLimit.source(request) != null;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        byte[] excerpt = request.getInputStream().readNBytes(InboundRejections.EXCERPT_BYTES);
        long bytes = Math.max(request.getContentLengthLong(), excerpt.length);
        String reason = "Herald has no webhook at " + InboundRejections.text(request.getRequestURI(), PATH_CHARS)
                + "; its webhooks are " + WebhookBodyLimit.paths() + ": correct the URL configured at the sender";
        rejections.refuse(request, response, "unknown", 404, reason, bytes, excerpt);
    }
}
