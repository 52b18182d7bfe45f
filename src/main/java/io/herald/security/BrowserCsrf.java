package io.herald.security;

import java.io.IOException;
import java.util.function.Supplier;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.csrf.CsrfTokenRequestAttributeHandler;
import org.springframework.security.web.csrf.CsrfTokenRequestHandler;
import org.springframework.security.web.csrf.XorCsrfTokenRequestAttributeHandler;
import org.springframework.util.StringUtils;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * CSRF for browser sessions, in the form both of Herald's pages and Hawtio understand. The token lives
 * in the XSRF-TOKEN cookie (SameSite=Lax, readable by the page's script): the console's forms send it as
 * the _csrf field (masked per response, as Spring renders it), Hawtio's Jolokia client reads the cookie
 * and sends it back as the X-XSRF-TOKEN header. Another site can neither read the cookie nor set the
 * header, so its POSTs (a Jolokia exec, a retry) are refused with 403.
 */
public final class BrowserCsrf {

    private BrowserCsrf() {
    }

    public static CookieCsrfTokenRepository repository() {
        CookieCsrfTokenRepository repository = CookieCsrfTokenRepository.withHttpOnlyFalse();
        repository.setCookieCustomizer(cookie -> cookie.sameSite("Lax").path("/"));
        return repository;
    }

    public static CsrfTokenRequestHandler requestHandler() {
        return new HeaderOrFormField();
    }

    /**
     * A request with Basic or Bearer credentials needs the CSRF token only when a browser says another site started it. A
     * browser that once answered Herald's Basic prompt sends those credentials again by itself, also with a form another
     * site submits (an erasure, a bulk retry, a Jolokia exec): such a request carries Sec-Fetch-Site cross-site or same-site,
     * or an Origin other than Herald's own. A script or a tool (curl, an app with its token) sends neither and is not asked
     * for a token; Herald's own pages send their token anyway.
     */
    public static boolean startedByAnotherSite(HttpServletRequest request) {
        String method = request.getMethod();
        if (method == null || java.util.Set.of("GET", "HEAD", "OPTIONS", "TRACE").contains(method.toUpperCase(java.util.Locale.ROOT))) {
            return false;
        }
        return fromAnotherSite(request);
    }

    /**
     * Whatever the method: a browser says another site's page or link started the request (Sec-Fetch-Site cross-site or
     * same-site, or an Origin other than Herald's own). A script or a tool sends neither.
     */
    public static boolean fromAnotherSite(HttpServletRequest request) {
        String fetchSite = request.getHeader("Sec-Fetch-Site");
        if (fetchSite != null) {
            // The browser's own word, whatever a proxy in front of Herald did to the scheme and host Herald sees.
            return !fetchSite.equalsIgnoreCase("same-origin") && !fetchSite.equalsIgnoreCase("none");
        }
        String origin = request.getHeader("Origin");
        return origin != null && !origin.equalsIgnoreCase(ownOrigin(request));
    }

    /** The origin the request was sent to, as a browser writes it: scheme://host[:port] (the default port left out). */
    private static String ownOrigin(HttpServletRequest request) {
        String scheme = request.getScheme();
        int port = request.getServerPort();
        boolean defaultPort = "http".equalsIgnoreCase(scheme) && port == 80 || "https".equalsIgnoreCase(scheme) && port == 443;
        return scheme + "://" + request.getServerName() + (defaultPort || port <= 0 ? "" : ":" + port);
    }

    /** Writes the cookie on every page, so Hawtio (which renders no form) has a token before its first POST. */
    public static OncePerRequestFilter cookieOnEveryResponse() {
        return new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws ServletException, IOException {
                CsrfToken token = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
                if (token != null) {
                    token.getToken();
                }
                chain.doFilter(request, response);
            }
        };
    }

    /** The header carries the cookie's value as is; a form field carries the masked value of the page. */
    private static final class HeaderOrFormField implements CsrfTokenRequestHandler {

        private final CsrfTokenRequestHandler plain = new CsrfTokenRequestAttributeHandler();
        private final CsrfTokenRequestHandler masked = new XorCsrfTokenRequestAttributeHandler();

        @Override
        public void handle(HttpServletRequest request, HttpServletResponse response, Supplier<CsrfToken> token) {
            masked.handle(request, response, token);
        }

        @Override
        public String resolveCsrfTokenValue(HttpServletRequest request, CsrfToken token) {
            return StringUtils.hasText(request.getHeader(token.getHeaderName()))
                    ? plain.resolveCsrfTokenValue(request, token)
                    : masked.resolveCsrfTokenValue(request, token);
        }
    }
}
