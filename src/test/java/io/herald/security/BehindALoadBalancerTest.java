package io.herald.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.web.InstanceName;
import org.junit.jupiter.api.Test;

/**
 * What an operator sees when a load balancer sends each of their requests to any of several Herald instances sharing one
 * database. Another instance is what this one is to a browser that signed in elsewhere: it holds none of that instance's
 * memory (its sign-ins, its breakers), so the tests show this Herald a session it never issued, or state another
 * instance recorded in the database.
 */
class BehindALoadBalancerTest extends HeraldIntegrationTest {

    @org.springframework.beans.factory.annotation.Autowired
    io.herald.ops.ProviderBreakers breakers;

    @org.springframework.beans.factory.annotation.Autowired
    java.time.Clock clock;

    @org.springframework.beans.factory.annotation.Autowired
    io.herald.console.AuditTrail audit;

    @org.springframework.beans.factory.annotation.Autowired
    org.apache.camel.CamelContext camel;

    private final HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @Test
    void aSignInMadeOnAnotherInstanceIsNamedOnTheSignInPageNotSilentlyForgotten() throws Exception {
        // Signed in on "instance A": this instance knows that session and shows the console.
        FormSession onThisInstance = FormSession.logIn(base(), "operator", "operator-demo");
        assertThat(onThisInstance.get("/console").statusCode()).isEqualTo(200);

        // The same browser's next click reaches "instance B", with a session cookie B never issued.
        HttpResponse<String> elsewhere = page("/console", "JSESSIONID=5A1B2C3D4E5F60718293A4B5C6D7E8F9");
        assertThat(elsewhere.statusCode()).isEqualTo(302);
        assertThat(elsewhere.headers().firstValue("Location").orElse("")).endsWith("/login?unknown-session");
        String words = page("/login?unknown-session", "JSESSIONID=5A1B2C3D4E5F60718293A4B5C6D7E8F9").body()
                .replaceAll("<[^>]+>", "").replaceAll("\\s+", " ");
        assertThat(words).contains("Your sign-in is not known to Herald instance " + InstanceName.NAME)
                .contains("was not shown or done: sign in again, then repeat it")
                .contains("the load balancer must keep each browser on one instance (sticky sessions, session affinity");

        // A browser with no session at all, and a script, are answered as before.
        assertThat(page("/console", null).headers().firstValue("Location").orElse("")).endsWith("/login");
        assertThat(page("/login", null).body()).doesNotContain("not known to Herald instance");
        HttpResponse<String> script = browser.send(HttpRequest.newBuilder(URI.create(base() + "/api/failures"))
                .header("Cookie", "JSESSIONID=5A1B2C3D4E5F60718293A4B5C6D7E8F9").header("Accept", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(401);

        // Signing out on purpose is not "not known here": the session cookie goes with the session, so the next page is the
        // plain sign-in page (it kept the cookie, and the next click said the load balancer was to blame).
        HttpResponse<String> signedOut = onThisInstance.post("/logout", "application/x-www-form-urlencoded", "",
                Map.of("X-XSRF-TOKEN", onThisInstance.xsrfCookie(), "Accept", "text/html"));
        assertThat(signedOut.headers().firstValue("Location").orElse("")).as("after signing out").endsWith("/login?logout");
        HttpResponse<String> next = onThisInstance.get("/console", Map.of("Accept", "text/html"));
        assertThat(next.statusCode()).isEqualTo(302);
        assertThat(next.headers().firstValue("Location").orElse("")).as("the next page after signing out").endsWith("/login");
    }

    @Test
    void theChannelsPanelNamesItsInstanceAndABreakerAnotherInstanceHoldsOpen() throws Exception {
        // The shared test Herald's SMS breaker may be left half open by a test before this one (a provider answering 503 on purpose).
        io.herald.testsupport.Breakers.resetAll(camel);
        jdbc.update("DELETE FROM outage_alert WHERE outage = 'provider:sms'");
        assertThat(breakers.states().get("sms")).as("this instance's SMS breaker").isEqualTo("CLOSED");
        FormSession operator = FormSession.logIn(base(), "operator", "operator-demo");
        assertThat(smsBreaker(operator.get("/console").body())).isEqualTo("CLOSED");

        // Another instance's SMS breaker is open: its outage poll records it for all instances, as OutageAlerts does.
        java.time.Instant seen = clock.instant();
        jdbc.update("""
                INSERT INTO outage_alert (outage, detail, since, last_seen_at, announced_at) VALUES ('provider:sms', 'test', ?, ?, ?)
                ON CONFLICT (outage) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at""",
                java.sql.Timestamp.from(seen), java.sql.Timestamp.from(seen), java.sql.Timestamp.from(seen));
        try {
            String page = operator.get("/console").body();
            assertThat(page.replaceAll("<[^>]+>", "").replaceAll("\\s+", " "))
                    .contains("Circuit breaker (on instance " + InstanceName.NAME + ", which answered this page; each instance has its own)");
            assertThat(smsBreaker(page)).isEqualTo("CLOSED; but an instance saw it open at "
                    + java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss").withZone(java.time.ZoneOffset.UTC).format(seen)
                    + " UTC: another instance's breaker may be open, parking this provider's deliveries");
        } finally {
            jdbc.update("DELETE FROM outage_alert WHERE outage = 'provider:sms' AND detail = 'test'");
        }
    }

    @Test
    void theAuditTrailNamesTheInstanceThatPerformedAnAction() throws Exception {
        String ticket = newTicketId();
        assertThat(postSignedSupport(io.herald.testsupport.Samples.supportEvent("ticket.status_changed.json", ticket)).statusCode()).isEqualTo(202);
        String key = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        awaitMailFor(key);
        long notification = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        long id = audit.record(clock.instant(), "operator", "RETRY", "delivery", 0L, notification, "which instance did this?", "queued");
        assertThat(jdbc.queryForObject("SELECT instance FROM operator_action WHERE id = ?", String.class, id)).isEqualTo(InstanceName.NAME);
        // The operator reads it in the timeline: who, and on which instance (the one their click reached).
        HttpResponse<String> page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).containsPattern("Operator: RETRY</td>.*<td>operator on " + java.util.regex.Pattern.quote(InstanceName.NAME) + "</td>");
    }

    /** The SMS row's breaker cell, as the operator reads it. */
    private static String smsBreaker(String page) {
        java.util.regex.Matcher row = java.util.regex.Pattern.compile("data-channel=\"sms\"[^>]*>.*?<td class=\"breaker[^\"]*\"[^>]*>(.*?)</td>",
                java.util.regex.Pattern.DOTALL).matcher(page);
        assertThat(row.find()).as("the SMS row of the channels panel").isTrue();
        return org.springframework.web.util.HtmlUtils.htmlUnescape(row.group(1).replaceAll("<[^>]+>", "")).replaceAll("\\s+", " ").strip();
    }

    private HttpResponse<String> page(String path, String cookie) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        if (cookie != null) {
            request.header("Cookie", cookie);
        }
        return browser.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String base() {
        return "http://localhost:" + port;
    }
}
