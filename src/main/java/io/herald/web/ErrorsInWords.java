package io.herald.web;

import java.util.LinkedHashMap;
import java.util.Map;

import io.herald.kafka.InfrastructureFaults;
import org.springframework.boot.web.error.ErrorAttributeOptions;
import org.springframework.boot.web.servlet.error.DefaultErrorAttributes;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.WebRequest;

/**
 * What Herald answers where no controller does (a login missing or refused, a method an address does not take, an address
 * that does not exist): the API's error shape, {@code {"error": "..."}} in words, with the status and the path the console's
 * error page shows. Spring answered {"timestamp", "status", "error": "Forbidden", "path"}, naming nothing a person can act on.
 */
@Component
public class ErrorsInWords extends DefaultErrorAttributes {

    /** A request attribute with the refusal's own words (which parameter, what it takes), shown instead of the status's. */
    public static final String REASON = ErrorsInWords.class.getName() + ".reason";

    @Override
    public Map<String, Object> getErrorAttributes(WebRequest request, ErrorAttributeOptions options) {
        Map<String, Object> spring = super.getErrorAttributes(request, options);
        int status = spring.get("status") instanceof Integer code ? code : 500;
        Object path = spring.get("path");
        Map<String, Object> answer = new LinkedHashMap<>();
        Throwable error = getError(request);
        String refused = status == 401 ? refusedCredentials(request.getHeader("Authorization")) : null;
        Object reason = request.getAttribute(REASON, WebRequest.SCOPE_REQUEST);
        answer.put("error", status == 503 && InfrastructureFaults.isInfrastructure(error)
                ? OutageInWords.of(error) : refused != null ? refused : reason instanceof String words ? words : words(status, path));
        answer.put("status", status);
        answer.put("path", path);
        return answer;
    }

    /**
     * A request with Basic or Bearer credentials its login may not make (the credentials chain): for a script or tool, 403 with
     * the sentence, written at once (the error page's dispatch answered such a refusal with an empty body); for a browser that
     * asks for a page (its own Basic login prompt), the console's 403 page, as a browser signed in by the form gets.
     */
    public static void denied(jakarta.servlet.http.HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response,
                              org.springframework.security.access.AccessDeniedException refused) throws java.io.IOException {
        if (asksForAPage(request)) {
            signedIn(request);
            response.sendError(403);
            return;
        }
        response.setStatus(403);
        response.setContentType("application/json;charset=UTF-8");
        response.getWriter().write("{\"error\": \"" + words(403, null) + "\"}");
    }

    /**
     * Who the refused browser is signed in as, for the 403 page's "You are signed in as operator (operator)": someone signed in
     * with the wrong account saw the roles listed but not which one was theirs.
     */
    private static void signedIn(jakarta.servlet.http.HttpServletRequest request) {
        org.springframework.security.core.Authentication who =
                org.springframework.security.core.context.SecurityContextHolder.getContext().getAuthentication();
        if (who != null && who.isAuthenticated() && who.getName() != null
                && !(who instanceof org.springframework.security.authentication.AnonymousAuthenticationToken)) {
            io.herald.console.ConsoleUser user = io.herald.console.ConsoleUser.of(who);
            request.setAttribute("signedInName", user.name());
            request.setAttribute("signedInRole", user.role());
        }
    }

    /** A browser's request for a page (Accept names text/html), not the API's (whose answers are JSON whatever it asks). */
    static boolean asksForAPage(jakarta.servlet.http.HttpServletRequest request) {
        String accept = request.getHeader("Accept");
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (accept == null || path.startsWith("/api/")) {
            return false;
        }
        try {
            return org.springframework.http.MediaType.parseMediaTypes(accept).stream()
                    .anyMatch(type -> type.getType().equals("text") && type.getSubtype().equals("html"));
        } catch (IllegalArgumentException e) {   // an Accept header that is not one
            return false;
        }
    }

    /**
     * A 401 to a request that did send credentials: they were refused, not missing (a mistyped password answered "log in
     * first"). Null when the request sent none of the two kinds the API takes.
     */
    static String refusedCredentials(String authorization) {
        String scheme = authorization == null ? "" : authorization.strip().split("\\s+", 2)[0];
        if (scheme.equalsIgnoreCase("Basic")) {
            return "the user name or password was not accepted: check both (see Access in the README)";
        }
        if (scheme.equalsIgnoreCase("Bearer")) {
            return "the bearer token was not accepted (unknown, expired, or issued for another application): get a new one"
                    + " (see Access in the README)";
        }
        return null;
    }

    static String words(int status, Object path) {
        return switch (status) {
            case 400 -> "the request cannot be read: check the address and its parameters";
            case 401 -> "log in first: the API takes HTTP Basic or a bearer token (see Access in the README)";
            case 403 -> "not allowed: your login's role may not do this, or the request came from another site without the console's"
                    + " CSRF token";
            case 404 -> "there is nothing at " + path + ": the address may be wrong, or the item was never kept";
            case 405 -> "this address does not take that method: GET reads, POST acts (the API's description is at /swagger-ui.html)";
            case 413 -> "the request is larger than Herald takes";
            case 415 -> "send the body as application/json";
            default -> status >= 500 ? "Herald could not answer (" + status + "); the details are in its log"
                    : "the request was refused (" + status + ")";
        };
    }
}
