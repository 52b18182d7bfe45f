package io.herald.security;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * A request to Jolokia that another site's page or link started (BrowserCsrf.fromAnotherSite), whatever its method. Hawtio
 * calls Jolokia from Herald's own pages, and scripts send no browser headers: no one needs it from another site. Without this,
 * Jolokia answers a cross-origin read with that origin in Access-Control-Allow-Origin and credentials allowed, so a page on
 * any site could read the MBeans (routes, endpoints, JVM) through a browser that remembers the admin's Basic login.
 */
public final class JolokiaOwnSiteOnly implements RequestMatcher {

    @Override
    public boolean matches(HttpServletRequest request) {
        String path = JolokiaReadsOnly.path(request);
        return JolokiaReadsOnly.JOLOKIA.stream().anyMatch(base -> path.equals(base) || path.startsWith(base + "/")) && BrowserCsrf.fromAnotherSite(request);
    }
}
