package io.herald.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A path that percent-encodes a character that never needs it (a letter, a digit, - . _: {@code /webhook%73/billing}) is
 * refused with 400 before anything else looks at it. Spring routes such a request by its decoded path (the billing
 * webhook), while Herald's guards read the path as sent: the body limit, the refusal of compressed and multipart bodies,
 * the content policy of the console's pages and the checks on operator input would all have let it by (an endless
 * chunked body to {@code /webhook%73/billing} was read into memory whole). No sender writes a path that way; the refusal
 * says how to write it. One under /webhooks/ is kept with the refused requests (source "unknown"), as any refused webhook.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)   // before every filter that reads the path
public class NeedlessPathEncoding extends OncePerRequestFilter {

    private final InboundRejections rejections;

    public NeedlessPathEncoding(InboundRejections rejections) {
        this.rejections = rejections;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return path == null || path.indexOf('%') < 0 || !encodesUnreserved(path);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String decoded = decodeUnreserved(request.getRequestURI());
        String reason = "the path percent-encodes letters, digits or - . _, which never need it; send it as "
                + InboundRejections.text(decoded, 120);
        if (decoded.startsWith("/webhooks/")) {
            rejections.refuse(request, response, "unknown", 400, reason, Math.max(request.getContentLengthLong(), 0), new byte[0]);
            return;
        }
        byte[] text = (reason + "\n").getBytes(StandardCharsets.UTF_8);
        response.setStatus(400);
        response.setHeader("Connection", "close");
        response.setContentType("text/plain;charset=UTF-8");
        response.setContentLength(text.length);
        response.getOutputStream().write(text);
        response.flushBuffer();
    }

    /**
     * True when some %XX in the path stands for an unreserved character (RFC 3986: A-Z a-z 0-9 - . _ ~), except ~ (%7E): Java's
     * URLEncoder writes it so, and no path a guard reads contains it.
     */
    static boolean encodesUnreserved(String path) {
        return !decodeUnreserved(path).equals(path);
    }

    /** The path with every %XX that stands for an unreserved character (but ~) written as that character; other escapes kept. */
    static String decodeUnreserved(String path) {
        StringBuilder out = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            int value = c == '%' && i + 2 < path.length() ? hex(path.charAt(i + 1), path.charAt(i + 2)) : -1;
            if (value >= 0 && unreserved((char) value)) {
                out.append((char) value);
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static int hex(char high, char low) {
        int h = Character.digit(high, 16);
        int l = Character.digit(low, 16);
        return h < 0 || l < 0 ? -1 : h * 16 + l;
    }

    private static boolean unreserved(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_';
    }
}
