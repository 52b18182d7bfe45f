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
 * webhook path answers 503 and nothing is recorded). A webhook's path written with a trailing slash (/webhooks/billing/) or a
 * double slash (//webhooks/billing, a proxy's prefix joined to it) is refused the same way, naming the path to use: Spring
 * matches neither to the webhook, and they were answered 404 or 400 without a row. So is a path in the wrong case
 * (/Webhooks/Billing: the console's CSRF check answered it 403, without a row).
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
        return path == null || !(meant(path) + "/").startsWith(PREFIX) || WebhookBodyLimit.isWebhook(path);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        byte[] excerpt = request.getInputStream().readNBytes(InboundRejections.EXCERPT_BYTES);
        long bytes = Math.max(request.getContentLengthLong(), excerpt.length);
        String path = request.getRequestURI();
        String meant = meant(path);
        String reason = "Herald has no webhook at " + InboundRejections.text(path, PATH_CHARS)
                + (WebhookBodyLimit.isWebhook(meant) ? "; send it to " + meant + " (lower case, no trailing slash, no double slash)"
                        : "; its webhooks are " + WebhookBodyLimit.paths()) + ": correct the URL configured at the sender";
        rejections.refuse(request, response, "unknown", 404, reason, bytes, excerpt);
    }

    /** The path as it was likely meant: every run of slashes written as one, no trailing slash, in lower case. */
    private static String meant(String path) {
        return path.replaceAll("/{2,}", "/").replaceAll("/$", "").toLowerCase(java.util.Locale.ROOT);
    }
}
