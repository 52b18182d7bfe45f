package io.herald.incidents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import org.junit.jupiter.api.Test;

/**
 * Alertmanager's webhook (format version 4) on the real route, posting to the ops webhook sandbox (WireMock):
 * one post when a group fires, none for a repeat, one when it is resolved, one when it fires again; a bad
 * token or body is refused and recorded; two notifications for the same group at once post once.
 */
class IncidentsWebhookTest extends HeraldIntegrationTest {

    static final String TOKEN = "local-demo-incidents-token";

    @org.springframework.beans.factory.annotation.Autowired
    org.apache.camel.CamelContext camel;

    @Test
    void aGroupIsPostedOnceWhenFiringNotForARepeatOnceWhenResolvedAndAgainWhenItFiresAgain() throws Exception {
        String service = "checkout-" + UUID.randomUUID().toString().substring(0, 8);
        String firing = notification(service, "firing", "a1", "b2");

        HttpResponse<String> first = postIncident(firing, TOKEN);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(first.body()).isEqualTo("{\"status\":\"posted\"}");
        String post = awaitPosts(service, 1).get(0);
        assertThat(post).startsWith(":rotating_light: Incident firing: alertname=HighErrorRate, service=" + service + " (2 alerts firing)")
                .contains("Checkout is failing for customers")
                .contains("• HighErrorRate on " + service + "-1:8080: 5xx above 5%")
                .contains("   More than 5% of checkout requests failed in the last 5 minutes.")
                .contains("   Source: http://prometheus.example:9090/graph?g0.expr=rate")
                .contains("Alertmanager: http://alertmanager.example:9093")
                .contains("Console: http://localhost:8080/console/incidents");

        // Alertmanager repeats the notification (repeat_interval, or a retry): the same alerts are not posted again.
        HttpResponse<String> repeat = postIncident(firing, TOKEN);
        assertThat(repeat.statusCode()).isEqualTo(200);
        assertThat(repeat.body()).contains("\"status\":\"repeat\"", "already announced with the same alerts");

        HttpResponse<String> resolved = postIncident(notification(service, "resolved", "a1", "b2"), TOKEN);
        assertThat(resolved.statusCode()).isEqualTo(200);
        List<String> posts = awaitPosts(service, 2);
        assertThat(posts.get(1)).startsWith(":white_check_mark: Incident resolved: alertname=HighErrorRate, service=" + service
                + " (2 alerts resolved; firing since ");
        assertThat(postIncident(notification(service, "resolved", "a1", "b2"), TOKEN).body()).contains("\"status\":\"repeat\"");

        // It fires again later (a new startsAt, as Alertmanager sends a new firing): a new incident, posted again.
        String firingAgain = firing.replace("2026-12-02T05:00:00Z", "2026-12-02T07:00:00Z");
        assertThat(postIncident(firingAgain, TOKEN).statusCode()).isEqualTo(200);
        assertThat(awaitPosts(service, 3).get(2)).startsWith(":rotating_light: Incident firing:");
        assertThat(OpsAlerts.posts(infra.providers()).stream().filter(p -> p.text().contains(service))).hasSize(3);

        Map<String, Object> row = jdbc.queryForMap("SELECT id, status, posts, repeats, alert_count FROM incident WHERE title LIKE ?",
                "%service=" + service);
        assertThat(row).containsEntry("status", "firing").containsEntry("posts", 3).containsEntry("repeats", 2)
                .containsEntry("alert_count", 2);
        // Audited: each post is an entry by Alertmanager.
        assertThat(jdbc.queryForList("SELECT action FROM operator_action WHERE target = 'incident' AND target_id = ? ORDER BY id",
                String.class, row.get("id"))).containsExactly("INCIDENT_FIRING", "INCIDENT_RESOLVED", "INCIDENT_FIRING");

        // The console lists it, with its posts and the repeats that were not posted.
        HttpResponse<String> page = apiAs(VIEWER, "GET", "/console/incidents", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("alertname=HighErrorRate, service=" + service).contains("INCIDENT_RESOLVED");
    }

    /**
     * Alertmanager run as a cluster (several replicas, as recommended for production) sometimes sends, after one replica's
     * "resolved", another replica's late "firing" of the very same alerts (same startsAt), then its "resolved" again
     * (prometheus/alertmanager#2447, #4008). That late copy used to be posted as a new incident firing, and a third post said
     * it resolved: the team read of an outage that never happened. Within a minute of the resolution it is a repeat; a real new
     * firing (new startsAt) is posted.
     */
    @Test
    void aLateCopyOfTheFiringAfterItsResolutionIsNotANewIncident() throws Exception {
        String service = "cluster-" + UUID.randomUUID().toString().substring(0, 8);
        String firing = notification(service, "firing", "h1", "h2");
        assertThat(postIncident(firing, TOKEN).statusCode()).isEqualTo(200);
        assertThat(postIncident(notification(service, "resolved", "h1", "h2"), TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(service, 2);

        HttpResponse<String> lateCopy = postIncident(firing, TOKEN);
        assertThat(lateCopy.statusCode()).isEqualTo(200);
        assertThat(lateCopy.body()).contains("\"status\":\"repeat\"");
        assertThat(postIncident(notification(service, "resolved", "h1", "h2"), TOKEN).body()).contains("\"status\":\"repeat\"");
        assertThat(jdbc.queryForObject("SELECT status FROM incident WHERE title LIKE ?", String.class, "%service=" + service))
                .isEqualTo("resolved");

        // The same alerts with the same starts firing a minute or more after the resolution are no late copy (Alertmanager resolved
        // them by resolve_timeout while Prometheus could not reach it): posted as firing again.
        jdbc.update("UPDATE incident SET resolved_at = now() - interval '61 seconds' WHERE title LIKE ?", "%service=" + service);
        assertThat(postIncident(firing, TOKEN).body()).contains("\"status\":\"posted\"");
        assertThat(postIncident(notification(service, "resolved", "h1", "h2"), TOKEN).body()).contains("\"status\":\"posted\"");
        awaitPosts(service, 4);

        // The same alerts firing again for real (a new startsAt) are a new incident.
        assertThat(postIncident(firing.replace("2026-12-02T05:00:00Z", "2026-12-02T08:00:00Z"), TOKEN).body())
                .contains("\"status\":\"posted\"");
        List<String> posts = awaitPosts(service, 5);
        assertThat(posts.get(4)).startsWith(":rotating_light: Incident firing:");
        assertThat(OpsAlerts.accepted(infra.providers(), service)).hasSize(5);
    }

    /**
     * The audit entry names Alertmanager's receiver, which may be long: a receiver of 186 characters or more made the actor
     * overflow its column and every post of that receiver fail with 503, for ever. The actor is cut to fit; the post goes out.
     */
    @Test
    void aLongReceiverNameIsPostedAndAuditedWithItsNameCut() throws Exception {
        String service = "longrecv-" + UUID.randomUUID().toString().substring(0, 8);
        String receiver = "ops-" + "r".repeat(240);
        HttpResponse<String> answer = postIncident(notification(service, "firing", "l1")
                .replace("\"receiver\":\"herald-ops\"", "\"receiver\":\"" + receiver + "\""), TOKEN);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        awaitPosts(service, 1);
        String actor = jdbc.queryForObject("SELECT a.actor FROM operator_action a JOIN incident i ON i.id = a.target_id"
                + " WHERE a.target = 'incident' AND i.title LIKE ?", String.class, "%service=" + service);
        assertThat(actor).startsWith("alertmanager (ops-rrr").hasSize(200).endsWith("…");
    }

    /** Alertmanager's link is shown as a link only when it is a web address: never as a script the page would run on a click. */
    @Test
    void aLinkThatIsNotAWebAddressIsNotShownAsALink() throws Exception {
        String web = "web-" + UUID.randomUUID().toString().substring(0, 8);
        String script = "script-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(postIncident(notification(web, "firing", "w1"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(postIncident(notification(script, "firing", "s1").replace("http://alertmanager.example:9093", "javascript:alert(1)"),
                TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(script, 1);
        String page = apiAs(VIEWER, "GET", "/console/incidents", null).body();
        assertThat(page).contains("service=" + web, "service=" + script, "href=\"http://alertmanager.example:9093")
                .doesNotContain("javascript:alert");
    }

    @Test
    void anotherAlertJoiningAFiringGroupIsPostedAgain() throws Exception {
        String service = "search-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(postIncident(notification(service, "firing", "c1"), TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(service, 1);
        assertThat(postIncident(notification(service, "firing", "c1", "c2"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(awaitPosts(service, 2).get(1)).contains("(2 alerts firing)");
    }

    /**
     * One alert of a firing group ends while another still fires: Alertmanager (send_resolved: true) sends the group as
     * "firing" with that alert "resolved". The post used to list only the one still firing, as if the group had just started
     * firing with one alert: the resolution of the other was never said. It says which alert is resolved.
     */
    @Test
    void anAlertResolvedWhileItsGroupStillFiresIsPostedAsResolved() throws Exception {
        String service = "partial-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(postIncident(notification(service, "firing", "p1", "p2"), TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(service, 1);
        String oneResolved = notification(service, "firing", "p1", "p2").replaceFirst("\\{\"status\":\"firing\",\"labels\"",
                "{\"status\":\"resolved\",\"labels\"");
        assertThat(postIncident(oneResolved, TOKEN).statusCode()).isEqualTo(200);
        String post = awaitPosts(service, 2).get(1);
        assertThat(post).startsWith(":rotating_light: Incident firing: alertname=HighErrorRate, service=" + service
                + " (1 alert firing, 1 resolved)").contains("• HighErrorRate on " + service + "-2:8080: 5xx above 5%");
        assertThat(post.substring(post.indexOf("Resolved:"))).startsWith("Resolved:\n• HighErrorRate on " + service + "-1:8080")
                .doesNotContain(service + "-2:8080");
    }

    /**
     * An alert that ended and fires again keeps its fingerprint (its labels) but gets a new startsAt. With send_resolved: false
     * Alertmanager never says "resolved" and announces the second firing like a first one; it used to be a "repeat" (same
     * fingerprints), answered 200 and never posted: the team did not hear of the second outage. It is posted.
     */
    @Test
    void anAlertFiringAgainWithANewStartIsPostedEvenWithoutAResolvedInBetween() throws Exception {
        String service = "refire-" + UUID.randomUUID().toString().substring(0, 8);
        String first = notification(service, "firing", "r1");
        assertThat(postIncident(first, TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(service, 1);
        // Four hours later the same alert fires again (a new startsAt), no "resolved" was sent in between.
        HttpResponse<String> again = postIncident(first.replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z"), TOKEN);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.body()).contains("\"status\":\"posted\"");
        assertThat(awaitPosts(service, 2).get(1)).startsWith(":rotating_light: Incident firing:");
        // Its repeats (repeat_interval) stay repeats.
        assertThat(postIncident(first.replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z"), TOKEN).body()).contains("\"status\":\"repeat\"");
    }

    /**
     * Alertmanager sends at most max_alerts of a group and counts the rest in truncatedAlerts: the post counts them ("3 shown
     * of 10" read "3 alerts firing" with nothing more), and a group that grows behind the cut is posted again. Alertmanager
     * cuts the list before it works out the group's status, so those left out may be firing or resolved: they used to be
     * counted as firing ("10 alerts firing"); they are counted as not listed.
     */
    @Test
    void alertsAlertmanagerLeftOutAreCountedAndTheirGrowthIsPostedAgain() throws Exception {
        String service = "ledger-" + UUID.randomUUID().toString().substring(0, 8);
        String three = notification(service, "firing", "t1", "t2", "t3");
        assertThat(postIncident(three.replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":7"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(awaitPosts(service, 1).get(0)).contains("(3 alerts firing, 7 more not listed)",
                "…and 7 more alerts not listed: Alertmanager left them out of its notification (the receiver's max_alerts),"
                        + " so whether they fire is not known here (see Alertmanager)").doesNotContain("10 alerts firing");
        assertThat(postIncident(three.replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":40"), TOKEN).statusCode()).isEqualTo(200);
        assertThat(awaitPosts(service, 2).get(1)).contains("(3 alerts firing, 40 more not listed)", "…and 40 more alerts not listed")
                .doesNotContain("43 alerts firing");
        // The same again is a repeat: not posted.
        assertThat(postIncident(three.replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":40"), TOKEN).statusCode()).isEqualTo(200);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> OpsAlerts.accepted(infra.providers(), service).size() == 2);
    }

    @Test
    void aWrongOrMissingTokenIsRefusedWith401AndRecorded() throws Exception {
        String service = "billing-" + UUID.randomUUID().toString().substring(0, 8);
        String body = notification(service, "firing", "d1");

        HttpResponse<String> wrong = postIncident(body, "not-the-token");
        HttpResponse<String> missing = postIncident(body, null);

        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("the bearer token does not match herald.incidents.token");
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.body()).contains("missing Authorization header");
        assertThat(jdbc.queryForList("SELECT reason FROM inbound_rejection WHERE source = 'incidents' AND http_status = 401"
                + " AND body_excerpt LIKE ?", String.class, "%" + service + "%")).hasSize(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident WHERE title LIKE ?", Integer.class, "%" + service)).isZero();
        assertThat(OpsAlerts.posts(infra.providers()).stream().filter(p -> p.text().contains(service))).isEmpty();
    }

    @Test
    void malformedOrForeignBodiesAreRefusedWith400AndRecorded() throws Exception {
        String marker = UUID.randomUUID().toString();
        HttpResponse<String> broken = postIncident("{\"groupKey\": \"" + marker + "\", ", TOKEN);
        HttpResponse<String> noGroup = postIncident("{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{}],\"receiver\":\"" + marker + "\"}", TOKEN);
        HttpResponse<String> badStatus = postIncident(notification(marker, "firing", "e1").replace("\"status\":\"firing\",\"receiver\"",
                "\"status\":\"burning\",\"receiver\""), TOKEN);

        assertThat(broken.statusCode()).isEqualTo(400);
        assertThat(broken.body()).contains("body is not valid JSON");
        assertThat(noGroup.statusCode()).isEqualTo(400);
        assertThat(noGroup.body()).contains("groupKey is missing or empty");
        assertThat(badStatus.statusCode()).isEqualTo(400);
        assertThat(badStatus.body()).contains("status is \\\"burning\\\"; expected \\\"firing\\\" or \\\"resolved\\\"");
        assertThat(jdbc.queryForList("SELECT reason FROM inbound_rejection WHERE source = 'incidents' AND http_status = 400"
                + " AND body_excerpt LIKE ?", String.class, "%" + marker + "%")).hasSize(3);

        // A body over herald.ingest.max-body-bytes is refused from its Content-Length, unread, like every webhook's.
        long before = jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE source = 'incidents' AND http_status = 413", Long.class);
        HttpResponse<String> tooLarge = post("/webhooks/incidents", "application/json", new byte[1048577],
                Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(tooLarge.body()).contains("the limit is 1048576 bytes (herald.ingest.max-body-bytes)");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE source = 'incidents' AND http_status = 413", Long.class))
                .isEqualTo(before + 1);
    }

    /**
     * Alertmanager does not send again a notification Herald refused with 400 or 413. One sent with Herald's token and refused
     * for its body (too large, not its format) was only on the Rejected page and in a counter: the incident was lost and the
     * team never heard of it. The failure alerts now say it, grouped (one post for a kind of refusal, more of it only counted
     * within herald.alerts.repeat-after). A refusal without the token is anyone's and posts nothing.
     */
    @Test
    void aNotificationWithTheTokenRefusedForItsBodyIsAnnouncedAndOneWithoutTheTokenNever() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        String marker = UUID.randomUUID().toString();
        long since = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String refused = "Alertmanager's incident notifications refused";
        int postedBefore = OpsAlerts.accepted(infra.providers(), refused).size();   // other tests of this class refuse some too
        // Without the token (anyone may send this): refused, recorded, never announced.
        assertThat(post("/webhooks/incidents", "application/json", new byte[1048577], Map.of("Authorization", "Bearer not-the-token"))
                .statusCode()).isEqualTo(413);
        assertThat(postIncident("{\"groupKey\": \"" + marker + "\", ", "not-the-token").statusCode()).isEqualTo(401);
        // With the token: Alertmanager's own notifications, lost.
        assertThat(post("/webhooks/incidents", "application/json", new byte[1048577], Map.of("Authorization", "Bearer " + TOKEN))
                .statusCode()).isEqualTo(413);
        assertThat(postIncident("{\"groupKey\": \"" + marker + "\", ", TOKEN).statusCode()).isEqualTo(400);
        assertThat(postIncident("{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{}],\"receiver\":\"" + marker + "\"}", TOKEN)
                .statusCode()).isEqualTo(400);

        String tooLarge = refused + " as too large for herald.ingest.max-body-bytes - Alertmanager does"
                + " not send a refused notification again, so these incidents were NOT posted here; look them up in Alertmanager, and set"
                + " max_alerts on Herald's receiver (or raise herald.ingest.max-body-bytes)";
        String malformed = refused + " as not in the expected format (the example names the field)"
                + " - Alertmanager does not send a refused notification again, so these incidents were NOT posted here";
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE id > ?"
                + " AND source = 'incidents' AND authenticated AND alerted_at IS NOT NULL", Integer.class, since) == 3);
        List<String> posts = OpsAlerts.accepted(infra.providers(), refused);
        posts = posts.subList(postedBefore, posts.size());
        assertThat(String.join("\n", posts)).contains(tooLarge + ": 1 notification (", malformed, "/console/rejected?source=incidents");
        // Each kind once, however many of it came within herald.alerts.repeat-after.
        assertThat(posts.stream().filter(p -> p.contains(tooLarge))).hasSize(1);
        assertThat(posts.stream().filter(p -> p.contains(malformed))).hasSize(1);
        // The refusals without the token are recorded as such and never announced.
        assertThat(jdbc.queryForList("SELECT http_status || ' ' || authenticated || ' ' || (alerted_at IS NULL) FROM inbound_rejection"
                + " WHERE id > ? AND source = 'incidents' ORDER BY id", String.class, since))
                .containsExactly("413 false true", "401 false true", "413 true false", "400 true false", "400 true false");
    }

    /**
     * A notification with Herald's token whose connection broke before its body was all sent: Alertmanager got no answer and
     * sends it again, so nothing was lost. It was announced all the same, as "refused as not in the expected format ... these
     * incidents were NOT posted here", sending the team to look for an incident that was posted at the next try. Such a
     * refusal is kept on the Rejected page and not announced.
     */
    @Test
    void aNotificationWhoseConnectionBrokeIsNotAnnouncedAsLost() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        String marker = UUID.randomUUID().toString();
        long since = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        int postedBefore = OpsAlerts.accepted(infra.providers(), "Alertmanager's incident notifications refused").size();
        try (java.net.Socket socket = new java.net.Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("POST /webhooks/incidents HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer " + TOKEN + "\r\nContent-Length: 5000\r\n\r\n{\"receiver\": \"" + marker + "\", ")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.shutdownOutput();   // the connection breaks with the body half sent
            socket.getInputStream().readAllBytes();
        }
        long broken = await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForList("SELECT id FROM inbound_rejection WHERE id > ?"
                + " AND source = 'incidents' AND http_status = 400", Long.class, since), ids -> ids.size() == 1).get(0);
        // A body refused for its format afterwards is announced: the poll has run past the broken one.
        assertThat(postIncident("{\"groupKey\": \"" + marker + "\", ", TOKEN).statusCode()).isEqualTo(400);
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE id > ?"
                + " AND source = 'incidents' AND alerted_at IS NOT NULL", Integer.class, broken) == 1);

        assertThat(jdbc.queryForObject("SELECT reason || ' ' || authenticated || ' ' || (alerted_at IS NULL) FROM inbound_rejection"
                + " WHERE id = ?", String.class, broken)).startsWith("the body could not be read to its end").endsWith(" false true");
        List<String> posts = OpsAlerts.accepted(infra.providers(), "Alertmanager's incident notifications refused");
        assertThat(String.join("\n", posts.subList(postedBefore, posts.size()))).as("the ops posts since")
                .contains(": 1 notification (").doesNotContain(": 2 notifications (", "could not be read");
    }

    @Test
    void twoNotificationsForTheSameGroupAtOnceArePostedOnce() throws Exception {
        String service = "payments-" + UUID.randomUUID().toString().substring(0, 8);
        String body = notification(service, "firing", "f1", "f2");
        // The ops webhook answers slowly, so the second notification arrives while the first one's post is in flight.
        StubMapping slow = infra.providers().stubFor(WireMock.post(WireMock.urlPathMatching("/services/.*")).atPriority(1)
                .withRequestBody(WireMock.containing(service))
                .willReturn(WireMock.aResponse().withStatus(200).withBody("ok").withFixedDelay(1500)));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Callable<HttpResponse<String>> send = () -> {
                    start.await();
                    return postIncident(body, TOKEN);
                };
                answers.add(pool.submit(send));
            }
            start.countDown();
            List<String> outcomes = new ArrayList<>();
            for (Future<HttpResponse<String>> answer : answers) {
                HttpResponse<String> response = answer.get();
                assertThat(response.statusCode()).isEqualTo(200);
                outcomes.add(response.body().contains("\"status\":\"posted\"") ? "posted" : "repeat");
            }
            assertThat(outcomes).containsOnlyOnce("posted");
            assertThat(OpsAlerts.posts(infra.providers()).stream().filter(p -> p.text().contains(service))).hasSize(1);
            assertThat(jdbc.queryForObject("SELECT repeats FROM incident WHERE title LIKE ?", Integer.class, "%" + service)).isEqualTo(3);
        } finally {
            pool.shutdownNow();
            infra.providers().removeStub(slow);
        }
    }

    @Test
    void aPostTheOpsWebhookRefusesIsAnswered503AndPostedWhenAlertmanagerSendsItAgain() throws Exception {
        String service = "mail-" + UUID.randomUUID().toString().substring(0, 8);
        String body = notification(service, "firing", "g1");
        StubMapping down = infra.providers().stubFor(WireMock.post(WireMock.urlPathMatching("/services/.*")).atPriority(1)
                .withRequestBody(WireMock.containing(service)).willReturn(WireMock.aResponse().withStatus(500)));
        try {
            HttpResponse<String> refused = postIncident(body, TOKEN);
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.body()).contains("the ops webhook (herald.ops-webhook.url) did not take the incident alert");
        } finally {
            infra.providers().removeStub(down);
        }
        // Nothing was recorded as announced: no row, no audit entry; the refusal is recorded with what Alertmanager sent.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident WHERE title LIKE ?", Integer.class, "%" + service)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE source = 'incidents' AND http_status = 503"
                + " AND body_excerpt LIKE ?", Integer.class, "%" + service + "%")).isEqualTo(1);

        // Alertmanager sends it again: now it is posted, once.
        assertThat(postIncident(body, TOKEN).statusCode()).isEqualTo(200);
        assertThat(OpsAlerts.accepted(infra.providers(), service)).hasSize(1);
    }

    /** A failure inside the incident's transaction that is no outage is answered 500 in words and the request kept, never an empty 500. */
    @Test
    void aFailureOfHeraldsOwnIsAnswered500InWordsAndTheRequestKept() throws Exception {
        String service = "own-fault-" + UUID.randomUUID().toString().substring(0, 8);
        String trigger = "refuse_incident_" + UUID.randomUUID().toString().substring(0, 8).replace('-', '_');
        jdbc.execute("CREATE FUNCTION " + trigger + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " IF NEW.title LIKE '%" + service + "' THEN"
                + "   RAISE EXCEPTION 'value too long for type character varying(200)' USING ERRCODE = '22001'; END IF;"
                + " RETURN NEW; END $$");
        jdbc.execute("CREATE TRIGGER " + trigger + " BEFORE INSERT ON incident FOR EACH ROW EXECUTE FUNCTION " + trigger + "()");
        HttpResponse<String> failed;
        try {
            failed = postIncident(notification(service, "firing", "f1"), TOKEN);
        } finally {
            jdbc.execute("DROP TRIGGER " + trigger + " ON incident");
            jdbc.execute("DROP FUNCTION " + trigger + "()");
        }
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);
        assertThat(failed.body()).startsWith("{\"status\":\"failed\"").contains("fails the same way", "reference ")
                .doesNotContain("varying", "22001", "Exception");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE source = 'incidents' AND http_status = 500"
                + " AND body_excerpt LIKE ?", Integer.class, "%" + service + "%")).isEqualTo(1);
        assertThat(OpsAlerts.accepted(infra.providers(), service)).isEmpty();
        // Once Herald is fixed, Alertmanager's next send is posted.
        assertThat(postIncident(notification(service, "firing", "f1"), TOKEN).statusCode()).isEqualTo(200);
        awaitPosts(service, 1);
    }

    private List<String> awaitPosts(String service, int count) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> OpsAlerts.accepted(infra.providers(), service),
                posts -> posts.size() >= count);
    }

    private HttpResponse<String> postIncident(String body, String token) throws Exception {
        return post("/webhooks/incidents", "application/json", body.getBytes(StandardCharsets.UTF_8),
                token == null ? Map.of() : Map.of("Authorization", "Bearer " + token));
    }

    /** An Alertmanager notification as it sends it (webhook format version 4), one alert per fingerprint. */
    static String notification(String service, String status, String... fingerprints) {
        StringBuilder alerts = new StringBuilder();
        for (int i = 0; i < fingerprints.length; i++) {
            alerts.append(i == 0 ? "" : ",").append("""
                    {"status":"%s","labels":{"alertname":"HighErrorRate","service":"%s","instance":"%s-%d:8080","severity":"critical"},
                     "annotations":{"summary":"5xx above 5%%","description":"More than 5%% of checkout requests failed in the last 5 minutes."},
                     "startsAt":"2026-12-02T05:00:00Z","endsAt":"%s",
                     "generatorURL":"http://prometheus.example:9090/graph?g0.expr=rate%%28http_requests_total%%5B5m%%5D%%29","fingerprint":"%s"}"""
                    .formatted(status, service, service, i + 1, status.equals("resolved") ? "2026-12-02T05:30:00Z" : "0001-01-01T00:00:00Z",
                            fingerprints[i]));
        }
        return """
                {"version":"4","groupKey":"{}/{severity=\\"critical\\"}:{alertname=\\"HighErrorRate\\", service=\\"%s\\"}",
                 "truncatedAlerts":0,"status":"%s","receiver":"herald-ops",
                 "groupLabels":{"alertname":"HighErrorRate","service":"%s"},
                 "commonLabels":{"alertname":"HighErrorRate","service":"%s","severity":"critical"},
                 "commonAnnotations":{"summary":"Checkout is failing for customers"},
                 "externalURL":"http://alertmanager.example:9093","alerts":[%s]}"""
                .formatted(service, status, service, service, alerts);
    }
}
