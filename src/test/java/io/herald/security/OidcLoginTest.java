package io.herald.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

import io.herald.HeraldApplication;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.Browser;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * OIDC against an in-process provider (mock-oauth2-server, issuer "herald"): Bearer JWTs on the API with
 * roles from the "groups" claim, a browser login through the provider into the console, and the in-app
 * inbox client's API key (role APP). Its own Herald (own database, topics and consumer group), since the
 * shared test context runs without OIDC.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class OidcLoginTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final MockOAuth2Server provider = startedProvider();
    private static final String ISSUER = "herald";
    private static final String CLIENT_ID = "herald-console";
    private static final String APP_KEY = "in-app-client-key-0123456789abcdef0123456789";

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void ownHeraldWithOidc(DynamicPropertyRegistry registry) {
        infra.heraldSettings().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("herald.db.url", () -> infra.database("oidc_test"));
        String name = "oidc-test-" + System.nanoTime();
        for (String topic : List.of("support-events", "billing-events", "crm-events", "notifications", "dead-letters")) {
            registry.add("herald.topics." + topic, () -> name + "." + topic);
        }
        registry.add("herald.topics.replication-factor", () -> "1");
        registry.add("herald.kafka.group-id", () -> name);
        registry.add("herald.crm.enabled", () -> "false");
        registry.add("herald.alerts.enabled", () -> "false");

        registry.add("herald.security.oidc.issuer-uri", () -> provider.issuerUrl(ISSUER).toString());
        registry.add("herald.security.oidc.client-id", () -> CLIENT_ID);
        registry.add("herald.security.oidc.client-secret", () -> "provider-issued-secret");
        registry.add("herald.security.oidc.roles-claim", () -> "groups");
        registry.add("herald.security.oidc.role-mapping[herald-operators]", () -> "OPERATOR");
        registry.add("herald.security.oidc.role-mapping[herald-admins]", () -> "ADMIN");
        registry.add("herald.security.oidc.role-mapping[inbox-app]", () -> "APP");
        registry.add("herald.security.oidc.customer-claim", () -> "herald_customer");
        registry.add("herald.security.oidc.audience", () -> CLIENT_ID);
        registry.add("herald.security.app.api-key", () -> APP_KEY);
    }

    private static MockOAuth2Server startedProvider() {
        MockOAuth2Server server = new MockOAuth2Server();
        server.start();
        return server;
    }

    @AfterAll
    static void stopProvider() {
        provider.shutdown();
    }

    @Test
    void aBearerTokenWithARoleReadsTheApiAndActsUnderItsUsersName() throws Exception {
        String token = token("olivia", List.of("herald-operators"));
        HttpResponse<String> failures = call("GET", "/api/failures", "Bearer " + token, null);
        assertThat(failures.statusCode()).isEqualTo(200);
        assertThat(failures.body()).startsWith("[");

        // A POST with the token alone (no session, no CSRF token): the header is what authenticated it.
        long delivery = failedEmail("cus_oidc_dismiss");
        HttpResponse<String> dismissed = call("POST", "/api/deliveries/" + delivery + "/dismiss", "Bearer " + token,
                "{\"comment\": \"customer closed the account\"}");
        assertThat(dismissed.statusCode()).as(dismissed.body()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT actor FROM operator_action WHERE target = 'delivery' AND target_id = ?", String.class, delivery))
                .isEqualTo("olivia");
    }

    @Test
    void aTokenWithoutAHeraldRoleIsRefusedAndAnExpiredOrForeignOneIsNotAccepted() throws Exception {
        String noRole = token("mallory", List.of("marketing"));
        assertThat(call("GET", "/api/failures", "Bearer " + noRole, null).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/console", "Bearer " + noRole, null).statusCode()).isEqualTo(403);

        // Issued two hours ago, valid for one: expired an hour ago.
        Instant issued = Instant.now().minus(Duration.ofHours(2));
        String expiredToken = provider.issueToken(ISSUER, "olivia", CLIENT_ID, Map.of("groups", List.of("herald-operators"),
                "iat", Date.from(issued), "exp", Date.from(issued.plus(Duration.ofHours(1)))), 3600).serialize();
        HttpResponse<String> expired = call("GET", "/api/failures", "Bearer " + expiredToken, null);
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(expired.headers().firstValue("WWW-Authenticate").orElse("")).contains("invalid_token").contains("expired");

        // Signed by another issuer's keys, or meant for another audience: not Herald's.
        String foreign = provider.issueToken("elsewhere", "olivia", CLIENT_ID,
                Map.of("groups", List.of("herald-admins")), 3600).serialize();
        assertThat(call("GET", "/api/failures", "Bearer " + foreign, null).statusCode()).isEqualTo(401);
        String otherAudience = provider.issueToken(ISSUER, "olivia", "another-app",
                Map.of("groups", List.of("herald-admins")), 3600).serialize();
        assertThat(call("GET", "/api/failures", "Bearer " + otherAudience, null).statusCode()).isEqualTo(401);
    }

    @Test
    void theInAppClientReadsAndMarksItsCustomersInboxAndNothingElse() throws Exception {
        String customer = "cus_inbox_" + System.nanoTime();
        long message = inboxMessage(customer, "Your payment failed");
        for (String credential : List.of("Bearer " + APP_KEY, "Bearer " + token("inbox-client", List.of("inbox-app")))) {
            HttpResponse<String> inbox = call("GET", "/api/customers/" + customer + "/inbox", credential, null);
            assertThat(inbox.statusCode()).isEqualTo(200);
            assertThat(inbox.body()).contains("\"id\":" + message, "Your payment failed");
            assertThat(call("POST", "/api/customers/" + customer + "/inbox/" + message + "/read", credential, null).statusCode()).isEqualTo(204);

            assertThat(call("GET", "/api/failures", credential, null).statusCode()).isEqualTo(403);
            assertThat(call("GET", "/api/quarantine", credential, null).statusCode()).isEqualTo(403);
            assertThat(call("POST", "/api/deliveries/1/retry", credential, "{}").statusCode()).isEqualTo(403);
            assertThat(call("GET", "/console", credential, null).statusCode()).isEqualTo(403);
            assertThat(call("GET", "/actuator/hawtio/", credential, null).statusCode()).isEqualTo(403);
            assertThat(call("GET", "/actuator/hawtio/jolokia/version", credential, null).statusCode()).isEqualTo(403);
        }
        assertThat(jdbc.queryForObject("SELECT read_at IS NOT NULL FROM inbox_message WHERE id = ?", Boolean.class, message)).isTrue();
        // A wrong key is no key.
        assertThat(call("GET", "/api/customers/" + customer + "/inbox", "Bearer " + APP_KEY + "x", null).statusCode()).isEqualTo(401);
    }

    /**
     * The product's app calling Herald with its signed-in user's token (role APP, issued to one customer, who is named by the
     * token's herald.security.oidc.customer-claim) read any customer's inbox, and marked their messages read, by changing the
     * id in the address. Such a token now reads and marks its own customer's inbox only (403 in words otherwise, nothing
     * marked); a backend's APP token without the claim still reads every customer's.
     */
    @Test
    void anAppTokenIssuedToOneCustomerReadsOnlyThatCustomersInbox() throws Exception {
        String customer = "cus_own_" + System.nanoTime();
        String other = "cus_other_" + System.nanoTime();
        long own = inboxMessage(customer, "Your order is confirmed");
        long theirs = inboxMessage(other, "Your payment failed");
        String token = "Bearer " + provider.issueToken(ISSUER, "app-user-1", CLIENT_ID,
                Map.of("groups", List.of("inbox-app"), "herald_customer", customer), 3600).serialize();

        HttpResponse<String> ownInbox = call("GET", "/api/customers/" + customer + "/inbox", token, null);
        assertThat(ownInbox.statusCode()).isEqualTo(200);
        assertThat(ownInbox.body()).contains("\"id\":" + own, "Your order is confirmed");
        assertThat(call("POST", "/api/customers/" + customer + "/inbox/" + own + "/read", token, null).statusCode()).isEqualTo(204);

        HttpResponse<String> otherInbox = call("GET", "/api/customers/" + other + "/inbox", token, null);
        assertThat(otherInbox.statusCode()).isEqualTo(403);
        assertThat(otherInbox.body()).contains("this token was issued to one customer (its claim herald_customer) and reads and marks"
                + " only that customer's inbox, not customer " + other + "'s").doesNotContain("Your payment failed");
        assertThat(call("POST", "/api/customers/" + other + "/inbox/" + theirs + "/read", token, null).statusCode()).isEqualTo(403);
        assertThat(jdbc.queryForObject("SELECT read_at IS NULL FROM inbox_message WHERE id = ?", Boolean.class, theirs)).isTrue();

        String backend = "Bearer " + token("inbox-backend", List.of("inbox-app"));
        assertThat(call("GET", "/api/customers/" + other + "/inbox", backend, null).body()).contains("Your payment failed");
    }

    /**
     * The same customer signing in through Herald's own login page (single sign-on, the same provider and roles) got a session
     * with role APP, and with that session read any customer's inbox by changing the id: only tokens sent as Bearer were held
     * to their customer. A session is now held to the customer its ID token names, as the token is.
     */
    @Test
    void anAppUserSignedInThroughTheLoginPageReadsOnlyTheirOwnInbox() throws Exception {
        String customer = "cus_own_" + System.nanoTime();
        String other = "cus_other_" + System.nanoTime();
        inboxMessage(customer, "Your order is confirmed");
        inboxMessage(other, "Your payment failed");
        Map<String, String> page = Map.of("Accept", "text/html");
        String session = cookie(proxied("GET", "/console", page, null, ""), "JSESSIONID");
        URI authorize = URI.create(proxied("GET", "/oauth2/authorization/herald", Map.of(), "JSESSIONID=" + session, "")
                .headers().firstValue("Location").orElseThrow());
        provider.enqueueCallback(new DefaultOAuth2TokenCallback(ISSUER, "app-user-2", "JWT", List.of(CLIENT_ID),
                Map.of("groups", List.of("inbox-app"), "herald_customer", customer), 3600));
        URI back = URI.create(http.send(HttpRequest.newBuilder(authorize).GET().build(), HttpResponse.BodyHandlers.ofString())
                .headers().firstValue("Location").orElseThrow());
        session = cookie(proxied("GET", back.getRawPath() + "?" + back.getRawQuery(), Map.of(), "JSESSIONID=" + session, ""), "JSESSIONID");

        HttpResponse<String> ownInbox = proxied("GET", "/api/customers/" + customer + "/inbox", Map.of(), "JSESSIONID=" + session, "");
        assertThat(ownInbox.statusCode()).isEqualTo(200);
        assertThat(ownInbox.body()).contains("Your order is confirmed");
        HttpResponse<String> otherInbox = proxied("GET", "/api/customers/" + other + "/inbox", Map.of(), "JSESSIONID=" + session, "");
        assertThat(otherInbox.statusCode()).isEqualTo(403);
        assertThat(otherInbox.body()).doesNotContain("Your payment failed");
    }

    @Test
    void aLoginThroughTheProviderLandsInTheConsoleWithTheRoleShown() throws Exception {
        WebDriver browser = Browser.start();
        try {
            provider.enqueueCallback(new DefaultOAuth2TokenCallback(ISSUER, "f3b1c2d4-olivia", "JWT", List.of(CLIENT_ID),
                    Map.of("groups", List.of("herald-operators"), "preferred_username", "olivia"), 3600));
            browser.get(base() + "/console");
            new WebDriverWait(browser, Duration.ofSeconds(10)).until(ExpectedConditions.urlContains("/login"));
            browser.findElement(By.linkText("Single sign-on")).click();
            new WebDriverWait(browser, Duration.ofSeconds(20)).until(ExpectedConditions.presenceOfElementLocated(By.id("who")));
            assertThat(URI.create(browser.getCurrentUrl()).getPath()).isEqualTo("/console");
            assertThat(browser.findElement(By.id("who")).getText()).isEqualTo("olivia (operator)");
            // An operator, not an admin: no Hawtio link, and Hawtio itself is refused.
            assertThat(browser.findElements(By.linkText("Hawtio"))).isEmpty();
            browser.get(base() + "/actuator/hawtio/");
            assertThat(browser.getPageSource()).doesNotContain("hawtio-static");
        } finally {
            browser.quit();
        }
    }

    /**
     * Behind a TLS-terminating proxy (https://herald.example.com outside, http on port 8080 inside) the single sign-on sent
     * the provider redirect_uri=http://localhost:8080/login/oauth2/code/herald, which a provider refuses (it is not the
     * registered https URI), and logging out asked to come back to http://…; the session cookie was not marked Secure. Now
     * each names the public https address the proxy forwards, the login lands on the page first asked for at that address,
     * and the cookies are Secure.
     */
    @Test
    void behindATlsProxyTheLoginAndLogoutSendThePublicHttpsAddress() throws Exception {
        Map<String, String> proxy = Map.of("X-Forwarded-Proto", "https", "X-Forwarded-Host", "herald.example.com",
                "X-Forwarded-Port", "443", "X-Forwarded-For", "198.51.100.23");
        // The browser opens the console, is sent to log in, and chooses single sign-on.
        Map<String, String> page = new java.util.HashMap<>(proxy);
        page.put("Accept", "text/html");
        HttpResponse<String> first = proxied("GET", "/console", page, null, "");
        assertThat(first.statusCode()).isEqualTo(302);
        String session = cookie(first, "JSESSIONID");
        assertThat(first.headers().allValues("Set-Cookie")).filteredOn(c -> c.startsWith("JSESSIONID="))
                .singleElement().asString().contains("; Secure");
        HttpResponse<String> start = proxied("GET", "/oauth2/authorization/herald", proxy, "JSESSIONID=" + session, "");
        assertThat(start.statusCode()).isEqualTo(302);
        URI authorize = URI.create(start.headers().firstValue("Location").orElseThrow());
        assertThat(query(authorize)).containsEntry("redirect_uri", "https://herald.example.com/login/oauth2/code/herald");

        // The provider signs the user in and sends the browser back to the public address, which the proxy hands to Herald.
        provider.enqueueCallback(new DefaultOAuth2TokenCallback(ISSUER, "f3b1c2d4-olivia", "JWT", List.of(CLIENT_ID),
                Map.of("groups", List.of("herald-operators"), "preferred_username", "olivia"), 3600));
        HttpResponse<String> atProvider = http.send(HttpRequest.newBuilder(authorize).GET().build(), HttpResponse.BodyHandlers.ofString());
        URI back = URI.create(atProvider.headers().firstValue("Location").orElseThrow());
        assertThat(back.getScheme() + "://" + back.getAuthority() + back.getPath()).isEqualTo("https://herald.example.com/login/oauth2/code/herald");
        HttpResponse<String> loggedIn = proxied("GET", back.getRawPath() + "?" + back.getRawQuery(), proxy, "JSESSIONID=" + session, "");
        assertThat(loggedIn.statusCode()).as(loggedIn.headers().toString()).isEqualTo(302);
        // Back to the page first asked for, at the public address.
        assertThat(loggedIn.headers().firstValue("Location").orElseThrow()).isEqualTo("https://herald.example.com/console?continue");
        session = cookie(loggedIn, "JSESSIONID");

        HttpResponse<String> console = proxied("GET", "/console", proxy, "JSESSIONID=" + session, "");
        assertThat(console.statusCode()).isEqualTo(200);
        String csrf = cookie(console, "XSRF-TOKEN");
        assertThat(console.headers().allValues("Set-Cookie")).filteredOn(c -> c.startsWith("XSRF-TOKEN="))
                .singleElement().asString().contains("; Secure");
        HttpResponse<String> logout = proxied("POST", "/logout", Map.of("X-Forwarded-Proto", "https", "X-Forwarded-Host", "herald.example.com",
                "X-Forwarded-Port", "443", "X-XSRF-TOKEN", csrf), "JSESSIONID=" + session + "; XSRF-TOKEN=" + csrf, "");
        assertThat(logout.statusCode()).isEqualTo(302);
        assertThat(query(URI.create(logout.headers().firstValue("Location").orElseThrow())))
                .containsEntry("post_logout_redirect_uri", "https://herald.example.com/login?logout");
    }

    /** A request as the proxy passes it on: its forwarded headers, the browser's cookies, no redirect followed. */
    private HttpResponse<String> proxied(String method, String path, Map<String, String> headers, String cookies, String form) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
                .method(method, "POST".equals(method) ? HttpRequest.BodyPublishers.ofString(form) : HttpRequest.BodyPublishers.noBody());
        headers.forEach(request::header);
        if (cookies != null) {
            request.header("Cookie", cookies);
        }
        if ("POST".equals(method)) {
            request.header("Content-Type", "application/x-www-form-urlencoded");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String cookie(HttpResponse<?> response, String name) {
        return response.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "="))
                .map(c -> c.substring(name.length() + 1, c.indexOf(';') < 0 ? c.length() : c.indexOf(';')))
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " cookie in " + response.headers().allValues("Set-Cookie")));
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> query = new java.util.TreeMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            String[] nameValue = pair.split("=", 2);
            query.put(java.net.URLDecoder.decode(nameValue[0], java.nio.charset.StandardCharsets.UTF_8),
                    nameValue.length < 2 ? "" : java.net.URLDecoder.decode(nameValue[1], java.nio.charset.StandardCharsets.UTF_8));
        }
        return query;
    }

    @Test
    void onlyAnAuthorizationHeaderThatAuthenticatedSkipsCsrf() throws Exception {
        // A browser session (form login) whose POST carries some other Authorization header: still needs the CSRF token.
        FormSession operator = FormSession.logIn(base(), "operator", "operator-demo");
        long delivery = failedEmail("cus_oidc_csrf");
        HttpResponse<String> withOtherHeader = operator.post("/console/deliveries/" + delivery + "/dismiss",
                "application/x-www-form-urlencoded", "comment=sneaky", Map.of("Authorization", "Token abc"));
        assertThat(withOtherHeader.statusCode()).isEqualTo(403);
        // A Bearer header that does not authenticate is refused, whatever session cookie comes with it.
        HttpResponse<String> withBadBearer = operator.post("/api/deliveries/" + delivery + "/dismiss",
                "application/json", "{\"comment\": \"sneaky\"}", Map.of("Authorization", "Bearer not-a-token"));
        assertThat(withBadBearer.statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, delivery)).isEqualTo("FAILED");
    }

    private String token(String user, List<String> groups) {
        return provider.issueToken(ISSUER, user, CLIENT_ID, Map.of("groups", groups, "preferred_username", user), 3600).serialize();
    }

    private HttpResponse<String> call(String method, String path, String authorization, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("Accept", "application/json").header("Authorization", authorization);
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private long failedEmail(String customer) {
        long notification = notification(customer);
        return jdbc.queryForObject("INSERT INTO delivery (notification_id, channel, state, reason, attempts) VALUES (?, 'email', 'FAILED',"
                + " 'email not sent: mailbox unavailable', 1) RETURNING id", Long.class, notification);
    }

    private long inboxMessage(String customer, String title) {
        long notification = notification(customer);
        long delivery = jdbc.queryForObject("INSERT INTO delivery (notification_id, channel, state, attempts) VALUES (?, 'in_app', 'SENT', 1)"
                + " RETURNING id", Long.class, notification);
        return jdbc.queryForObject("INSERT INTO inbox_message (customer_id, delivery_id, type, title, body) VALUES (?, ?, 'billing.payment_failed', ?,"
                + " 'Update your card to keep your plan.') RETURNING id", Long.class, customer, delivery, title);
    }

    private long notification(String customer) {
        String unique = customer + "-" + System.nanoTime();
        return jdbc.queryForObject("INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)"
                + " VALUES (?, 'billing', ?, 'billing.payment_failed', ?, 'ROUTED', '{}'::jsonb) RETURNING id", Long.class,
                "billing:test:" + unique, "evt_" + unique, customer);
    }

    private String base() {
        return "http://localhost:" + port;
    }

}
