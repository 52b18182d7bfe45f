package io.herald.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses, with 400 and in words, an operator request (API or console, once logged in) whose
 * parameters or JSON body carry a NUL character: PostgreSQL cannot store one in text, so a filter
 * value or a comment with {@code %00} or {@code \u0000} in it used to end in a 500 from the database.
 * A JSON body is read here (operator requests are small: at most {@link #MAX_BODY_BYTES}, else 413)
 * and handed on from memory; a console form larger than that by its Content-Length is refused with 413 too. Webhooks are not operator input: their bodies are kept as sent.
 */
@Component
@Order(0)   // after Spring Security (-100): an unauthenticated request is answered 401 before anything is read
public class NulInOperatorInput extends OncePerRequestFilter {

    static final int MAX_BODY_BYTES = 64 * 1024;

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String path = request.getRequestURI();
        return path == null || !(path.startsWith("/api/") || path.startsWith("/console"));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean api = request.getRequestURI().startsWith("/api/");
        HttpServletRequest next = request;
        String encoding = request.getHeader("Content-Encoding");
        if (api && encoding != null && !encoding.isBlank() && !encoding.strip().equalsIgnoreCase("identity")) {
            // Spring would hand the compressed bytes to the JSON reader: refused as holding a NUL, or as not JSON.
            String shown = encoding.strip().length() > 40 ? encoding.strip().substring(0, 40) + "…" : encoding.strip();
            refuse(request, response, api, 415, "the request body is compressed (Content-Encoding: " + shown
                    + "); send operator requests uncompressed");
            return;
        }
        if (api && isJson(request.getContentType())) {
            byte[] body = request.getInputStream().readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                refuse(request, response, api, 413, "the request body is larger than " + MAX_BODY_BYTES / 1024
                        + " KiB; an operator request is a short JSON object such as {\"comment\": \"why\"}");
                return;
            }
            // Read in the charset it declares, as Spring reads it (UTF-16 bytes hold NULs that are no NUL characters).
            if (hasNul(new String(body, charsetOf(request)))) {
                refuse(request, response, api, 400, "the request body contains a NUL character (\\u0000), which Herald cannot store;"
                        + " remove it and send the request again");
                return;
            }
            next = new BufferedRequest(request, body);
        } else if (request.getContentLengthLong() > MAX_BODY_BYTES) {
            // A console form (or any other body) is held to the same limit before its parameters are read.
            refuse(request, response, api, 413, "the request body is " + request.getContentLengthLong() + " bytes; an operator request is at most "
                    + MAX_BODY_BYTES / 1024 + " KiB (a comment of a few lines)");
            return;
        }
        for (Map.Entry<String, String[]> parameter : next.getParameterMap().entrySet()) {
            boolean nul = parameter.getKey().indexOf('\u0000') >= 0;
            for (String value : parameter.getValue()) {
                nul |= value != null && value.indexOf('\u0000') >= 0;
            }
            if (nul) {
                refuse(request, response, api, 400, "the parameter '" + parameter.getKey().replace('\u0000', ' ')
                        + "' contains a NUL character (%00), which Herald cannot store or search for; remove it and send the request again");
                return;
            }
        }
        chain.doFilter(next, response);
    }

    /**
     * The charset the body's Content-Type declares, as Spring's JSON reader takes it (not the request's character encoding,
     * which Spring Boot forces to UTF-8); UTF-8 when it declares none or one Java does not know.
     */
    private static java.nio.charset.Charset charsetOf(HttpServletRequest request) {
        try {
            java.nio.charset.Charset declared = org.springframework.http.MediaType.parseMediaType(request.getContentType()).getCharset();
            return declared == null ? StandardCharsets.UTF_8 : declared;
        } catch (RuntimeException unreadable) {
            return StandardCharsets.UTF_8;
        }
    }

    private static boolean isJson(String contentType) {
        return contentType != null && contentType.toLowerCase(java.util.Locale.ROOT).contains("json");
    }

    /** A raw NUL, or the JSON escape {@code \u0000} (not itself escaped: an even number of backslashes before it). */
    static boolean hasNul(String json) {
        if (json.indexOf('\u0000') >= 0) {
            return true;
        }
        for (int at = json.indexOf("u0000"); at >= 0; at = json.indexOf("u0000", at + 1)) {
            int backslashes = 0;
            for (int i = at - 1; i >= 0 && json.charAt(i) == '\\'; i--) {
                backslashes++;
            }
            if (backslashes % 2 == 1) {
                return true;
            }
        }
        return false;
    }

    private static void refuse(HttpServletRequest request, HttpServletResponse response, boolean api, int status, String reason)
            throws IOException {
        if (!api) {   // a console page: the console's error page, with these words (it was bare text in the browser)
            request.setAttribute(ErrorsInWords.REASON, reason);
            response.sendError(status);
            return;
        }
        byte[] answer = (api ? "{\"error\": \"" + reason.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}" : reason)
                .getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType(api ? "application/json" : "text/plain;charset=UTF-8");
        response.setContentLength(answer.length);
        response.getOutputStream().write(answer);
    }
}
