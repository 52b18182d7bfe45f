package io.herald.security;

import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * A GET (or HEAD) to Jolokia that would change something: an {@code exec} (stop a route, send a message to any endpoint)
 * or a {@code write}. A browser sends the admin's session cookie (SameSite=Lax) with a GET that another site's link or
 * page starts, and a GET carries no CSRF token, so such a GET is refused whoever asks; POST, which Hawtio uses and which
 * needs the token from Herald's own pages, still does them. Reads stay GETs (read, search, list, version), as the README's
 * example and scripts use them. A {@code p} parameter (Jolokia's other way to give the path) is refused on a GET too.
 */
public final class JolokiaReadsOnly implements RequestMatcher {

    /** Both paths Jolokia answers on: Spring Boot's actuator and Hawtio's own. */
    static final List<String> JOLOKIA = List.of("/actuator/jolokia", "/actuator/hawtio/jolokia");
    private static final List<String> READS = List.of("read", "search", "list", "version");

    /**
     * The path as the servlet that answers it reads it: decoded ("/actuator/%6Aolokia" is Jolokia too) and with repeated
     * slashes as one, so no other spelling of the address gets past the matchers that guard it.
     */
    static String path(HttpServletRequest request) {
        return org.springframework.web.util.UrlPathHelper.defaultInstance.getPathWithinApplication(request).replaceAll("/{2,}", "/");
    }

    @Override
    public boolean matches(HttpServletRequest request) {
        if (!"GET".equalsIgnoreCase(request.getMethod()) && !"HEAD".equalsIgnoreCase(request.getMethod())) {
            return false;
        }
        String path = path(request);
        for (String base : JOLOKIA) {
            if (path.equals(base) || path.startsWith(base + "/")) {
                String rest = path.substring(base.length()).replaceFirst("^/+", "");
                String operation = rest.split("/", 2)[0];
                return request.getParameter("p") != null || !(rest.isEmpty() || READS.contains(operation));
            }
        }
        return false;
    }
}
