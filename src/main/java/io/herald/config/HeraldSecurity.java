package io.herald.config;

import io.herald.security.AppClient;
import io.herald.security.BearerTokens;
import io.herald.security.BrowserCsrf;
import io.herald.security.OidcLogin;
import io.herald.security.OidcNames;
import io.herald.security.OidcRoles;
import io.herald.security.OidcSettings;
import io.herald.security.VerifiedLogins;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.server.CookieSameSiteSupplier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.access.hierarchicalroles.RoleHierarchyImpl;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.authentication.dao.DaoAuthenticationProvider;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.oauth2.client.oidc.web.logout.OidcClientInitiatedLogoutSuccessHandler;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.context.RequestAttributeSecurityContextRepository;
import org.springframework.security.web.header.HeaderWriter;
import org.springframework.security.web.header.writers.DelegatingRequestMatcherHeaderWriter;
import org.springframework.security.web.header.writers.StaticHeadersWriter;

/**
 * Who may see and do what. Roles: VIEWER reads the console (sensitive values masked),
 * OPERATOR also acts (retry, re-drive, dismiss, resend) and uses the /api, ADMIN also has
 * Hawtio, Jolokia, the actuator and the configuration page. APP (the product's in-app inbox client)
 * reads and marks its customers' inbox and nothing else. Webhooks authenticate by their signature,
 * not by a user, so they are open here and verified in the route. Health and Prometheus metrics
 * (counts, no personal data) are open for probes and scrapers.
 *
 * <p>Three ways in, each a filter chain of its own:
 * <ul>
 * <li>webhooks: no login, no session, no CSRF (signed);</li>
 * <li>a request with "Authorization: Basic|Bearer": authenticated by that header alone, never by a
 * session cookie, so CSRF cannot ride on it and it needs no token (scripts, curl, the in-app client,
 * OIDC access tokens). A wrong header is 401 whatever cookie comes with it;</li>
 * <li>browsers: a session from the login form or the OIDC provider (SameSite=Lax cookie), CSRF on
 * every POST (console forms and Hawtio's Jolokia calls alike, see BrowserCsrf).</li>
 * </ul>
 */
@Configuration
@EnableConfigurationProperties({HeraldUsers.class, OidcSettings.class, AppClient.class})
public class HeraldSecurity {

    private final AppClient app;
    private final OidcLogin oidcLogin;

    public HeraldSecurity(OidcSettings oidc, AppClient app, OidcNames names, org.springframework.core.env.Environment environment) {
        this.app = app.validated();
        this.oidcLogin = oidc.validated().enabled() ? new OidcLogin(oidc, new OidcRoles(oidc), names,
                UnknownSettings.where(environment, "herald.security.oidc.issuer-uri")) : null;
    }

    @Bean
    @Order(1)
    SecurityFilterChain webhookChain(HttpSecurity http) throws Exception {
        http.securityMatcher("/webhooks/**")
                .authorizeHttpRequests(auth -> auth.anyRequest().permitAll())
                .csrf(AbstractHttpConfigurer::disable)
                .requestCache(AbstractHttpConfigurer::disable)
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS));
        return http.build();
    }

    @Bean
    @Order(2)
    SecurityFilterChain headerCredentialsChain(HttpSecurity http) throws Exception {
        http.securityMatcher(HeraldSecurity::carriesCredentials);
        // The header is the only credential here: the session is neither read nor written, so a request
        // that merely carries some header beside a logged-in cookie is not authenticated by the cookie.
        http.securityContext(context -> context.securityContextRepository(new RequestAttributeSecurityContextRepository()));
        http.sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS));
        http.requestCache(AbstractHttpConfigurer::disable);
        // No CSRF check for a script or a tool; a browser that sends Basic credentials it remembered with another site's form
        // must show the token (BrowserCsrf.startedByAnotherSite). The token is still issued, so console pages fetched with Basic
        // credentials render their forms.
        http.csrf(csrf -> csrf.csrfTokenRepository(BrowserCsrf.repository()).csrfTokenRequestHandler(BrowserCsrf.requestHandler())
                .requireCsrfProtectionMatcher(BrowserCsrf::startedByAnotherSite));
        authorize(http);
        http.exceptionHandling(refusals -> refusals.accessDeniedHandler(io.herald.web.ErrorsInWords::denied));
        http.headers(headers -> headers.addHeaderWriter(CONSOLE_CONTENT_POLICY));
        http.httpBasic(Customizer.withDefaults());
        AuthenticationManager jwts = oidcLogin == null ? null : new ProviderManager(jwtProvider());
        BearerTokens bearer = new BearerTokens(app, jwts);
        // The challenge header (invalid_token, why) as Spring writes it, then the error page, so the body says in words that the
        // token was refused (ErrorsInWords); Spring's entry point alone answered with an empty body.
        BearerTokenAuthenticationEntryPoint challenge = new BearerTokenAuthenticationEntryPoint();
        http.oauth2ResourceServer(server -> server.authenticationManagerResolver(request -> bearer)
                .authenticationEntryPoint((request, response, refused) -> {
                    challenge.commence(request, response, refused);
                    response.sendError(HttpServletResponse.SC_UNAUTHORIZED);
                }));
        return http.build();
    }

    /**
     * Signing out deletes the session cookie with the session: a browser that kept it was told on its next page that its
     * sign-in was not known to this instance, blaming the load balancer (SignInNotKnownHere).
     */
    private static final String SESSION_COOKIE = "JSESSIONID";

    @Bean
    @Order(3)
    SecurityFilterChain browserChain(HttpSecurity http) throws Exception {
        http.csrf(csrf -> csrf.csrfTokenRepository(BrowserCsrf.repository()).csrfTokenRequestHandler(BrowserCsrf.requestHandler()));
        http.addFilterAfter(BrowserCsrf.cookieOnEveryResponse(), BasicAuthenticationFilter.class);
        authorize(http);
        // Registered before the form login's own entry point, so it is asked first (SignInNotKnownHere).
        http.exceptionHandling(refusals -> refusals.defaultAuthenticationEntryPointFor(new io.herald.security.SignInNotKnownHere(),
                io.herald.security.SignInNotKnownHere::applies));
        http.formLogin(form -> form.loginPage("/login").defaultSuccessUrl("/console", false));
        // Basic credentials never reach this chain (see carriesCredentials); this keeps the answer to a request
        // without login as it was: 401 with a Basic challenge for API clients, the login page for a browser.
        http.httpBasic(Customizer.withDefaults());
        if (oidcLogin != null) {
            ClientRegistrationRepository registrations = oidcLogin.registrations();
            http.oauth2Login(login -> login.loginPage("/login").clientRegistrationRepository(registrations)
                    .userInfoEndpoint(userInfo -> userInfo.oidcUserService(oidcLogin.userService()))
                    .defaultSuccessUrl("/console", false));
            OidcClientInitiatedLogoutSuccessHandler providerLogout = new OidcClientInitiatedLogoutSuccessHandler(registrations);
            providerLogout.setPostLogoutRedirectUri("{baseUrl}/login?logout");
            providerLogout.setDefaultTargetUrl("/login?logout");
            http.logout(logout -> logout.logoutSuccessHandler(providerLogout).deleteCookies(SESSION_COOKIE));
        } else {
            http.logout(logout -> logout.logoutSuccessUrl("/login?logout").deleteCookies(SESSION_COOKIE));
        }
        // Hawtio renders inside frames of its own origin.
        http.headers(headers -> headers.frameOptions(frame -> frame.sameOrigin()).addHeaderWriter(CONSOLE_CONTENT_POLICY));
        return http.build();
    }

    /**
     * The console's pages and the login page run only Herald's own scripts: whatever an event or an operator's comment
     * holds is escaped when a page is written, and should anything slip through, the browser would still not run it.
     * Styles inline are allowed (pages carry small style blocks); forms may post only to Herald, and the pages are not
     * framed by others. Not on Hawtio (its own scripts and frames) nor the API (JSON).
     */
    static final HeaderWriter CONSOLE_CONTENT_POLICY = new DelegatingRequestMatcherHeaderWriter(
            request -> {
                String path = request.getRequestURI().substring(request.getContextPath().length());
                return path.equals("/console") || path.startsWith("/console/") || path.equals("/login");
            },
            new StaticHeadersWriter("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                    + " img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"));

    private static void authorize(HttpSecurity http) throws Exception {
        http.authorizeHttpRequests(auth -> auth
                .requestMatchers("/actuator/health", "/actuator/health/**", "/actuator/info", "/actuator/prometheus").permitAll()
                .requestMatchers("/login", "/error", "/console.css", "/console-print.js").permitAll()
                .requestMatchers(new io.herald.security.JolokiaReadsOnly()).denyAll()   // exec and write only by POST with the token
                .requestMatchers(new io.herald.security.JolokiaOwnSiteOnly()).denyAll()   // no other site's page reads or drives Jolokia
                .requestMatchers("/actuator/**", "/console/config").hasRole("ADMIN")
                .requestMatchers(HttpMethod.POST, "/console/approvals/*/*", "/api/approvals/*/*", "/console/approvals/resends/*/*",
                        "/api/approvals/resends/*/*").hasRole("APPROVER")   // issue 16
                .requestMatchers(HttpMethod.GET, "/api/approvals", "/api/approvals/resends").hasRole("VIEWER")   // recipients masked for viewers
                .requestMatchers(HttpMethod.GET, "/api/scheduled").hasRole("VIEWER")   // issue 14: reasons masked for viewers
                .requestMatchers(HttpMethod.POST, "/console/scheduled/*/*", "/api/scheduled/*/*").hasRole("OPERATOR")   // cancel, send now
                .requestMatchers(HttpMethod.DELETE, "/api/customers/*").hasRole("ADMIN")        // erasure (issue 16)
                .requestMatchers(HttpMethod.POST, "/console/customers/*/erase").hasRole("ADMIN")
                .requestMatchers(HttpMethod.GET, "/console", "/console/**").hasRole("VIEWER")
                .requestMatchers("/console/**").hasRole("OPERATOR")
                .requestMatchers(HttpMethod.GET, "/api/customers/*/inbox").hasAnyRole("APP", "OPERATOR")
                .requestMatchers(HttpMethod.POST, "/api/customers/*/inbox/*/read").hasAnyRole("APP", "OPERATOR")
                .requestMatchers(HttpMethod.GET, "/api/notifications/*/proof").hasRole("VIEWER")   // masked for viewers
                .requestMatchers(HttpMethod.GET, "/api/customers", "/api/customers/*", "/api/customers/*/notifications",
                        "/api/notifications").hasRole("VIEWER")   // customer view (issue 13): masked for viewers
                .requestMatchers("/api/**").hasRole("OPERATOR")
                .anyRequest().hasRole("VIEWER"));
    }

    /** Basic or Bearer credentials; any other Authorization header is no credential and goes the browser's way (CSRF). */
    static boolean carriesCredentials(HttpServletRequest request) {
        String authorization = request.getHeader("Authorization");
        if (authorization == null) {
            return false;
        }
        String scheme = authorization.strip().split("\\s+", 2)[0];
        return scheme.equalsIgnoreCase("Basic") || scheme.equalsIgnoreCase("Bearer");
    }

    private JwtAuthenticationProvider jwtProvider() {
        JwtAuthenticationProvider provider = new JwtAuthenticationProvider(oidcLogin.jwtDecoder());
        provider.setJwtAuthenticationConverter(oidcLogin::authentication);
        return provider;
    }

    /**
     * Spring Security otherwise wraps every filter of every request in a Micrometer observation (a timer and its
     * context per filter: under a webhook burst, the filters' observations were the most common frames on the HTTP
     * threads); nothing reads those timers, and traces come from Camel's OpenTelemetry support.
     */
    @Bean
    SecurityObservationSettings heraldSecurityObservations() {
        return SecurityObservationSettings.noObservations();
    }

    /** The session cookie (and any other cookie Herald sets through the container) is SameSite=Lax. */
    @Bean
    CookieSameSiteSupplier heraldCookiesSameSite() {
        return CookieSameSiteSupplier.ofLax();
    }

    /**
     * An admin may do what an operator may, an operator what a viewer may. An approver (approval before send) reads what a
     * viewer reads and decides approvals; an admin may too, four eyes still applying. APP stands apart.
     */
    @Bean
    static RoleHierarchy heraldRoles() {
        return RoleHierarchyImpl.fromHierarchy("ROLE_ADMIN > ROLE_OPERATOR\nROLE_OPERATOR > ROLE_VIEWER"
                + "\nROLE_ADMIN > ROLE_APPROVER\nROLE_APPROVER > ROLE_VIEWER");   // approver: approval before send (issue 16)
    }

    /** The configured logins, each password checked once per {@link VerifiedLogins#REMEMBERED} and not at every request. */
    @Bean
    AuthenticationProvider heraldLogins(HeraldUsers users) {
        DaoAuthenticationProvider check = new DaoAuthenticationProvider(new InMemoryUserDetailsManager(users.accounts()));
        return new VerifiedLogins(check);
    }
}
