package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.IsoWeeks;
import io.herald.testsupport.RefusedPushOrders;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/** The console's actions and the weekly review through the API, as an operator's script would use them; each one audited. */
class ConsoleApiTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aFailedDeliveryIsFoundByOrderIdRetriedWithTheSameKeyAndAudited() throws Exception {
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_retry" + newTicketId());
        try {
            String order = scene.order(newTicketId());
            long push = awaitDelivery(RefusedPushOrders.key(order), "push", "FAILED");

            JsonNode found = json(api("GET", "/api/failures?orderId=" + order));
            assertThat(found).hasSize(1);
            assertThat(found.get(0).get("state").asText()).isEqualTo("FAILED");
            assertThat(found.get(0).get("channel").asText()).isEqualTo("push");
            assertThat(found.get(0).get("reason").asText()).isEqualTo("push not sent: provider answered HTTP 400 Bad Request: "
                    + "{\"error\": {\"status\": \"INVALID_ARGUMENT\", \"message\": \"The registration token is not valid\"}}");

            scene.tokenFixed();
            HttpResponse<String> retried = apiJson("POST", "/api/deliveries/" + push + "/retry", "{\"comment\": \"new token registered\"}");
            assertThat(retried.statusCode()).isEqualTo(200);
            assertThat(json(retried).get("state").asText()).isEqualTo("PARKED");
            awaitDelivery(RefusedPushOrders.key(order), "push", "SENT");

            // Retried with the delivery's own idempotency key: the provider saw one key, never a second copy's.
            assertThat(infra.providers().findAll(com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor(
                    com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching(RefusedPushOrders.PUSH_PATH))
                    .withHeader("Idempotency-Key", com.github.tomakehurst.wiremock.client.WireMock.matching(
                            java.util.regex.Pattern.quote(RefusedPushOrders.key(order) + ":push:") + "[0-9a-f]{16}")))).hasSize(2);
            assertThat(jdbc.queryForMap("SELECT actor, action, comment, outcome FROM operator_action WHERE target = 'delivery' AND target_id = ?", push))
                    .containsEntry("actor", "operator").containsEntry("action", "RETRY").containsEntry("comment", "new token registered");
            assertThat(json(api("GET", "/api/failures?orderId=" + order))).isEmpty();

            // The timeline tells the story in order: received, the refusal, the operator's retry, the send.
            long notification = notificationId(order);
            JsonNode timeline = json(api("GET", "/api/notifications/" + notification)).get("timeline");
            List<String> what = timeline.findValuesAsText("what");
            assertThat(what).containsSubsequence("Occurred at the source", "Received and mapped", "FAILED (provider status 400)",
                    "Operator: RETRY", "SENT (provider status 200)");
            // A settled delivery cannot be retried again: only an explicit resend sends another copy.
            assertThat(apiJson("POST", "/api/deliveries/" + push + "/retry", "{}").statusCode()).isEqualTo(409);
            assertThat(api("POST", "/api/deliveries/999999999/retry").statusCode()).isEqualTo(404);
        } finally {
            scene.tokenFixed();
        }
    }

    @Test
    void aDismissalNeedsACommentIsFinalAndLeavesTheOpenList() throws Exception {
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_dismiss" + newTicketId());
        try {
            String order = scene.order(newTicketId());
            long push = awaitDelivery(RefusedPushOrders.key(order), "push", "FAILED");

            HttpResponse<String> noComment = apiJson("POST", "/api/deliveries/" + push + "/dismiss", "{}");
            assertThat(noComment.statusCode()).isEqualTo(400);
            assertThat(json(noComment).get("error").asText()).isEqualTo("say why: a dismiss needs a comment for the record");

            HttpResponse<String> dismissed = apiJson("POST", "/api/deliveries/" + push + "/dismiss", "{\"comment\": \"customer deleted the app\"}");
            assertThat(dismissed.statusCode()).isEqualTo(200);
            assertThat(jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", push))
                    .containsEntry("state", "DISMISSED").containsEntry("reason", "dismissed by operator: customer deleted the app");
            assertThat(json(api("GET", "/api/failures?orderId=" + order))).isEmpty();
            assertThat(json(api("GET", "/api/failures?state=DISMISSED&orderId=" + order)).findValuesAsText("state")).containsExactly("DISMISSED");
            assertThat(apiJson("POST", "/api/deliveries/" + push + "/retry", "{}").statusCode()).isEqualTo(409);
            assertThat(json(api("GET", "/api/notifications/" + notificationId(order))).get("timeline").findValuesAsText("what"))
                    .contains("Operator: DISMISS");
        } finally {
            scene.tokenFixed();
        }
    }

    /** Where no controller answers (no login, a viewer acting, a method an address does not take), the API still answers in words. */
    @Test
    void refusalsBeforeAnyControllerAnswerInTheApisShapeAndInWords() throws Exception {
        HttpResponse<String> noLogin = apiAs(null, "GET", "/api/failures", null);
        assertThat(noLogin.statusCode()).isEqualTo(401);
        assertThat(json(noLogin).get("error").asText()).isEqualTo("log in first: the API takes HTTP Basic or a bearer token (see Access in the README)");
        HttpResponse<String> viewer = apiAs(VIEWER, "POST", "/api/deliveries/1/retry", "{\"comment\": \"x\"}");
        assertThat(viewer.statusCode()).isEqualTo(403);
        assertThat(json(viewer).get("error").asText()).startsWith("not allowed: your login's role may not do this");
        HttpResponse<String> put = apiJson("PUT", "/api/failures", "{}");
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(json(put).get("error").asText()).startsWith("this address does not take that method: GET reads, POST acts");
        assertThat(json(put).has("timestamp")).isFalse();
    }

    /**
     * A viewer whose browser sends Basic credentials (the browser's own login prompt) and opens a page its role may not: the
     * console's "Not allowed for your role" page, saying what the roles may do; it used to get the API's JSON refusal as a
     * page of raw text. The page says who is signed in and with which role (it did not). A script asking the same for JSON
     * keeps the JSON.
     */
    @Test
    void aBrowserWithBasicCredentialsRefusedAPageGetsTheConsolesPageAndAScriptKeepsJson() throws Exception {
        HttpResponse<String> page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + "/console/config"))
                .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(VIEWER.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(403);
        assertThat(page.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(page.body()).contains("Not allowed for your role", "/console/config",
                "the configuration page, Hawtio and the actuator need an admin").doesNotContain("{\"error\"");
        // ... and whose account it is, so a person signed in with the wrong one sees it at once.
        assertThat(page.body()).contains("You are signed in as <strong>viewer</strong> (viewer)");
        HttpResponse<String> script = apiAs(VIEWER, "GET", "/console/config", null);
        assertThat(script.statusCode()).isEqualTo(403);
        assertThat(json(script).get("error").asText()).startsWith("not allowed: your login's role may not do this");
    }

    /**
     * A mistyped password or a token Herald does not know: the answer says the credentials sent were refused. It used to say
     * "log in first", as if none had been sent, and a refused bearer token got an empty body.
     */
    @Test
    void refusedCredentialsAreSaidToBeRefusedNotMissing() throws Exception {
        HttpResponse<String> wrongPassword = apiAs("operator:operator-dem0", "GET", "/api/failures", null);
        assertThat(wrongPassword.statusCode()).isEqualTo(401);
        assertThat(json(wrongPassword).get("error").asText())
                .isEqualTo("the user name or password was not accepted: check both (see Access in the README)");
        assertThat(wrongPassword.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(value -> assertThat(value).startsWith("Basic"));

        HttpResponse<String> unknownToken = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + "/api/failures"))
                .header("Accept", "application/json").header("Authorization", "Bearer not-a-token").GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(unknownToken.statusCode()).isEqualTo(401);
        assertThat(unknownToken.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(value -> assertThat(value).contains("invalid_token"));
        assertThat(json(unknownToken).get("error").asText())
                .isEqualTo("the bearer token was not accepted (unknown, expired, or issued for another application): get a new one"
                        + " (see Access in the README)");

        // A browser that sends a wrong user name and password it was given (http://operator:…@herald/console) gets a page that
        // says so, not "Herald could not show this page (401). The details are in Herald's log".
        HttpResponse<String> page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + "/console"))
                .header("Accept", "text/html").header("Authorization", "Basic " + java.util.Base64.getEncoder()
                        .encodeToString("operator:operator-dem0".getBytes(java.nio.charset.StandardCharsets.UTF_8))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(401);
        assertThat(page.body()).contains("Not signed in", "the user name or password was not accepted: check both", "href=\"/login\"")
                .doesNotContain("Herald could not show this page");
    }

    @Test
    void aBulkRetryActsOnEveryFailureInTheFilterOnceConfirmed() throws Exception {
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_bulk" + newTicketId());
        try {
            List<String> orders = List.of(scene.order(newTicketId()), scene.order(newTicketId()), scene.order(newTicketId()));
            for (String order : orders) {
                awaitDelivery(RefusedPushOrders.key(order), "push", "FAILED");
            }
            String filter = "\"customerId\": \"" + scene.customer + "\", \"channel\": \"push\"";
            assertThat(apiJson("POST", "/api/deliveries/retry", "{" + filter + "}").statusCode()).isEqualTo(400);   // not confirmed
            // A filter a retry cannot act on, or a misspelt one, is refused: it used to widen the retry to every open failure.
            HttpResponse<String> quarantined = apiJson("POST", "/api/deliveries/retry", "{\"state\": \"QUARANTINED\", \"confirm\": true}");
            assertThat(quarantined.statusCode()).isEqualTo(400);
            assertThat(json(quarantined).get("error").asText()).startsWith("a bulk retry acts on FAILED and PARKED deliveries only;"
                    + " state 'QUARANTINED' cannot be retried");
            HttpResponse<String> misspelt = apiJson("POST", "/api/deliveries/retry", "{\"customerID\": \"" + scene.customer + "\", \"confirm\": true}");
            assertThat(misspelt.statusCode()).isEqualTo(400);
            assertThat(json(misspelt).get("error").asText()).startsWith("'customerID' is not a field of a bulk retry; known: [");
            assertThat(json(apiJson("POST", "/api/deliveries/retry", "{\"confirm\": \"yes\"}")).get("error").asText())
                    .isEqualTo("confirm must be true or false in a bulk retry");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE action = 'RETRY' AND comment LIKE 'bulk retry%'", Integer.class))
                    .as("nothing retried by the refused ones").isZero();

            scene.tokenFixed();
            HttpResponse<String> bulk = apiJson("POST", "/api/deliveries/retry", "{" + filter + ", \"confirm\": true, \"comment\": \"push fixed\"}");
            assertThat(bulk.statusCode()).isEqualTo(200);
            assertThat(json(bulk).get("retried").asInt()).isEqualTo(3);
            for (String order : orders) {
                awaitDelivery(RefusedPushOrders.key(order), "push", "SENT");
            }
            assertThat(jdbc.queryForList("SELECT comment FROM operator_action a JOIN delivery d ON d.id = a.target_id"
                    + " JOIN notification n ON n.id = d.notification_id WHERE a.action = 'RETRY' AND n.customer_id = ?", String.class, scene.customer))
                    .hasSize(3).allMatch(c -> c.equals("bulk retry (channel=push, customerId=" + scene.customer + "): push fixed"));
        } finally {
            scene.tokenFixed();
        }
    }

    @Test
    void aQuarantinedEventIsDismissedOrRedrivenAndBothAreAudited() throws Exception {
        String nobody = "cus_later" + newTicketId();
        RefusedPushOrders unknown = new RefusedPushOrders(jdbc, infra.providers(), nobody);
        unknown.tokenFixed();
        jdbc.update("DELETE FROM customer WHERE customer_id = ?", nobody);   // not in the directory yet
        String testOrder = unknown.order(newTicketId());
        String realOrder = unknown.order(newTicketId());
        long testEvent = awaitQuarantined(testOrder);
        long realEvent = awaitQuarantined(realOrder);

        JsonNode listed = json(api("GET", "/api/failures?state=QUARANTINED&orderId=" + realOrder));
        assertThat(listed.findValuesAsText("kind")).containsExactly("quarantine");
        assertThat(listed.get(0).get("reason").asText()).startsWith("quarantined at identity: ").contains(nobody);

        HttpResponse<String> dismissed = apiJson("POST", "/api/quarantine/" + testEvent + "/dismiss", "{\"comment\": \"test order from staging\"}");
        assertThat(dismissed.statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT status FROM unrouted_event WHERE id = ?", String.class, testEvent)).isEqualTo("DISMISSED");
        assertThat(apiJson("POST", "/api/quarantine/" + testEvent + "/dismiss", "{\"comment\": \"again\"}").statusCode()).isEqualTo(409);

        // The CRM sends the contact; the operator re-drives the real order, which is delivered and linked back.
        new RefusedPushOrders(jdbc, infra.providers(), nobody).tokenFixed();
        assertThat(api("POST", "/api/quarantine/" + realEvent + "/redrive").statusCode()).isEqualTo(200);
        awaitDelivery(RefusedPushOrders.key(realOrder), "push", "SENT");
        List<Map<String, Object>> audit = jdbc.queryForList("SELECT actor, action, comment, notification_id FROM operator_action"
                + " WHERE target = 'quarantine' AND target_id IN (?, ?) ORDER BY id", testEvent, realEvent);
        assertThat(audit).extracting(a -> a.get("action")).containsExactly("DISMISS", "REDRIVE");
        assertThat(audit.get(0)).containsEntry("comment", "test order from staging").containsEntry("actor", "operator");
        assertThat(audit.get(1).get("notification_id")).isEqualTo(notificationId(realOrder));
        assertThat(json(api("GET", "/api/notifications/" + notificationId(realOrder))).get("timeline").findValuesAsText("what"))
                .containsSubsequence("Quarantined at identity", "Operator: REDRIVE", "Received and mapped");
    }

    /**
     * A request the API cannot use is refused with 400 naming the parameter and what it must be. A NUL character in a
     * filter or a comment ended in a 500 from PostgreSQL (text cannot hold one); a path id that is not a number and a
     * body that is not JSON got Spring's "Bad Request", naming nothing; a filter that is not a date got 409.
     */
    @Test
    void aRequestTheApiCannotUseIsRefusedNamingWhatToFix() throws Exception {
        String nobody = "cus_nul" + newTicketId();
        RefusedPushOrders unknown = new RefusedPushOrders(jdbc, infra.providers(), nobody);
        jdbc.update("DELETE FROM customer WHERE customer_id = ?", nobody);
        long event = awaitQuarantined(unknown.order(newTicketId()));

        HttpResponse<String> nulComment = apiJson("POST", "/api/quarantine/" + event + "/dismiss", "{\"comment\": \"bad\\u0000one\"}");
        HttpResponse<String> nulFilter = api("GET", "/api/failures?channel=%00");
        HttpResponse<String> notADate = api("GET", "/api/failures?from=yesterday");
        HttpResponse<String> notAnId = api("GET", "/api/notifications/abc");
        HttpResponse<String> notJson = apiJson("POST", "/api/quarantine/" + event + "/dismiss", "{\"comment\":");
        HttpResponse<String> consoleNul = apiAs(OPERATOR, "GET", "/console?channel=%00", null);

        assertThat(List.of(nulComment.statusCode(), nulFilter.statusCode(), notADate.statusCode(), notAnId.statusCode(),
                notJson.statusCode(), consoleNul.statusCode())).containsOnly(400);
        assertThat(json(nulComment).get("error").asText()).isEqualTo("the request body contains a NUL character (\\u0000), which"
                + " Herald cannot store; remove it and send the request again");
        assertThat(json(nulFilter).get("error").asText()).isEqualTo("the parameter 'channel' contains a NUL character (%00), which"
                + " Herald cannot store or search for; remove it and send the request again");
        assertThat(json(notADate).get("error").asText()).isEqualTo("from must be a date (2026-11-22) or a UTC time (2026-11-22T10:30);"
                + " was 'yesterday'");
        assertThat(json(notAnId).get("error").asText()).isEqualTo("id must be a whole number; was 'abc'");
        assertThat(json(api("GET", "/api/failures?limit=99999999999")).get("error").asText())
                .isEqualTo("limit is out of range: from -2147483648 to 2147483647; was '99999999999'");
        // A filter that can match nothing is refused in words, not answered with an empty list.
        HttpResponse<String> fax = api("GET", "/api/failures?channel=fax");
        HttpResponse<String> backwards = api("GET", "/api/failures?from=2026-12-05&to=2026-12-01");
        HttpResponse<String> none = api("GET", "/api/failures?limit=0");
        assertThat(List.of(fax.statusCode(), backwards.statusCode(), none.statusCode())).containsOnly(400);
        assertThat(json(fax).get("error").asText()).isEqualTo("unknown channel 'fax'; use email, sms, push, in_app, ops_webhook");
        assertThat(json(backwards).get("error").asText())
                .isEqualTo("from (2026-12-05) is later than to (2026-12-01): no failure can match; swap them");
        assertThat(json(none).get("error").asText()).isEqualTo("limit must be at least 1 (at most 1000 rows are returned); was 0");
        assertThat(apiAs(VIEWER, "GET", "/console?channel=fax", null).body()).contains("unknown channel 'fax'");
        // A source or type Herald does not know (the sender's name for it, a typo) is refused with the names it knows; one
        // the catalog names is answered, with nothing recorded of it yet.
        HttpResponse<String> stripe = api("GET", "/api/failures?source=stripe");
        HttpResponse<String> typo = api("GET", "/api/failures?type=billing.payment_faild");
        assertThat(List.of(stripe.statusCode(), typo.statusCode())).containsOnly(400);
        assertThat(json(stripe).get("error").asText()).isEqualTo("unknown source 'stripe': no event from it is recorded;"
                + " the sources are billing, crm, incidents, support (Herald's names for them, not the"
                + " senders': Stripe's events are billing, Zendesk's support)");
        assertThat(json(typo).get("error").asText()).isEqualTo("unknown type 'billing.payment_faild': not in the notification"
                + " catalog (test-catalog-ops-each.yaml, herald.catalog) and no notification of it is recorded; types are written as there,"
                + " such as billing.charge_refunded");
        assertThat(apiAs(VIEWER, "GET", "/console?source=stripe", null).body()).contains("unknown source 'stripe'");
        assertThat(api("GET", "/api/failures?source=crm&type=crm.appointment_cancelled&from=2026-12-01&to=2026-12-01").statusCode())
                .isEqualTo(200);
        assertThat(api("GET", "/api/failures?channel=sms&from=2026-12-01&to=2026-12-01&limit=1").statusCode()).isEqualTo(200);
        assertThat(json(notJson).get("error").asText()).isEqualTo("the request body is not a JSON object Herald can read;"
                + " send one like {\"comment\": \"why\"}, or no body where none is needed");
        assertThat(consoleNul.body()).contains("the parameter 'channel' contains a NUL character");
        // A time Java reads but PostgreSQL cannot compare with is refused in words, in the API and on the console's pages.
        List<HttpResponse<String>> farOff = List.of(api("GET", "/api/failures?from=%2B300000-01-01T00:00"),
                apiAs(VIEWER, "GET", "/console?to=%2B300000-01-01T00:00", null),
                api("GET", "/api/scheduled?from=%2B300000-01-01T00:00:00Z"),
                apiAs(VIEWER, "GET", "/console/scheduled?from=%2B300000-01-01T00:00", null));
        // The scheduled list takes the same dates and times as the failures list (it refused a date, "from must be a Instant").
        assertThat(api("GET", "/api/scheduled?from=2026-11-22&to=2026-11-23T10:30").statusCode()).isEqualTo(200);
        assertThat(api("GET", "/api/scheduled?from=2026-11-22T10:30:00%2B01:00&to=2026-11-23T10:30:00Z").statusCode()).isEqualTo(200);
        HttpResponse<String> scheduledNotADate = api("GET", "/api/scheduled?from=yesterday");
        assertThat(scheduledNotADate.statusCode()).isEqualTo(400);
        assertThat(json(scheduledNotADate).get("error").asText()).isEqualTo("from must be a date (2026-11-22) or a UTC time"
                + " (2026-11-22T10:30); was 'yesterday'");
        assertThat(farOff).allSatisfy(answer -> {
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
            assertThat(answer.body()).containsPattern("(from|to) must be a time between the years 1 and 9999");
        });
        // Retry all, from the console, with braces in a filter: the list it came from again, the braces kept as text.
        HttpResponse<String> braces = consoleFormAs(OPERATOR, "/console/failures/retry", "customerId=%7Bx%7D&confirm=true");
        assertThat(braces.statusCode()).as(braces.body()).isEqualTo(302);
        assertThat(braces.headers().firstValue("Location").orElse("")).endsWith("/console?customerId=%7Bx%7D");
        // The same form submitted by another site, with Basic credentials the browser remembered: refused for want of the page's
        // CSRF token (it used to be carried out under the operator's name), whether the browser says so by Sec-Fetch-Site or
        // by Origin; nothing was retried.
        int retriedBefore = jdbc.queryForObject("SELECT count(*) FROM operator_action", Integer.class);
        for (Map<String, String> crossSite : List.of(Map.of("Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"),
                Map.of("Origin", "https://evil.example"), Map.of("Sec-Fetch-Site", "same-site"))) {
            java.net.http.HttpRequest.Builder forged = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
                            + "/console/failures/retry"))
                    .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(OPERATOR.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("customerId=cus_x&confirm=true"));
            crossSite.forEach(forged::header);
            assertThat(http.send(forged.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).as(crossSite.toString()).isEqualTo(403);
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action", Integer.class)).isEqualTo(retriedBefore);
        HttpResponse<String> unknownStatus = api("GET", "/api/quarantine?status=foo");
        assertThat(unknownStatus.statusCode()).isEqualTo(400);
        assertThat(json(unknownStatus).get("error").asText()).isEqualTo("status must be OPEN, REDRIVEN, DISMISSED or ANY; was 'foo'");
        // A console form is held to the operator request limit (64 KiB) too: nothing of it is stored.
        String huge = "x".repeat(100 * 1024);
        HttpResponse<String> bigForm = consoleFormAs(OPERATOR, "/console/quarantine/" + event + "/dismiss", "comment=" + huge);
        assertThat(bigForm.statusCode()).isEqualTo(413);
        assertThat(bigForm.body()).contains("an operator request is at most 64 KiB");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE target_id = ? AND comment LIKE 'xxx%'", Integer.class, event))
                .isZero();
        // Nothing was done: the event is still open, and the same dismissal without the NUL works.
        assertThat(jdbc.queryForObject("SELECT status FROM unrouted_event WHERE id = ?", String.class, event)).isEqualTo("OPEN");
        assertThat(apiJson("POST", "/api/quarantine/" + event + "/dismiss", "{\"comment\": \"bad one\"}").statusCode()).isEqualTo(200);
    }

    /**
     * The NUL check read every JSON body as UTF-8 bytes: a comment sent in UTF-16 with its charset declared (which Spring reads
     * as such) and a gzip-compressed body were refused 400 "the request body contains a NUL character", which the caller never
     * wrote. Now a UTF-16 body is read in its declared charset and taken, and a compressed one is refused 415 saying so.
     */
    @Test
    void anApiBodyInUtf16IsTakenAndACompressedOneIsRefusedSayingSo() throws Exception {
        String lift = "/api/suppressions/9223372036854775807/lift";
        byte[] comment = "{\"comment\": \"réouvert après appel\"}".getBytes(java.nio.charset.StandardCharsets.UTF_16);
        java.io.ByteArrayOutputStream gzipped = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gzip = new java.util.zip.GZIPOutputStream(gzipped)) {
            gzip.write("{\"comment\": \"reopened\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        HttpResponse<String> utf16 = rawApi(lift, "application/json; charset=UTF-16", Map.of(), comment);
        HttpResponse<String> compressed = rawApi(lift, "application/json", Map.of("Content-Encoding", "gzip"), gzipped.toByteArray());

        assertThat(utf16.statusCode()).as(utf16.body()).isEqualTo(409);
        assertThat(json(utf16).get("error").asText()).isEqualTo("suppression 9223372036854775807 is not active (lifted already, or no such entry)");
        assertThat(compressed.statusCode()).as(compressed.body()).isEqualTo(415);
        assertThat(json(compressed).get("error").asText()).isEqualTo("the request body is compressed (Content-Encoding: gzip);"
                + " send operator requests uncompressed");
    }

    private HttpResponse<String> rawApi(String path, String contentType, Map<String, String> headers, byte[] body) throws Exception {
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + path))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", contentType)
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(ADMIN.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void eachRoleGetsWhatItMayAndNoMore() throws Exception {
        assertThat(apiAs(VIEWER, "GET", "/console", null).statusCode()).isEqualTo(200);
        assertThat(apiAs(VIEWER, "GET", "/api/failures", null).statusCode()).isEqualTo(403);
        assertThat(apiAs(VIEWER, "POST", "/api/deliveries/1/retry", "{}").statusCode()).isEqualTo(403);
        assertThat(apiAs(VIEWER, "GET", "/actuator/hawtio/", null).statusCode()).isEqualTo(403);
        assertThat(apiAs(OPERATOR, "GET", "/actuator/hawtio/", null).statusCode()).isEqualTo(403);
        assertThat(apiAs(ADMIN, "GET", "/actuator/hawtio/", null).statusCode()).isEqualTo(200);
        // The configuration page is the admin's, and never shows a secret.
        assertThat(apiAs(OPERATOR, "GET", "/console/config", null).statusCode()).isEqualTo(403);
        HttpResponse<String> config = apiAs(ADMIN, "GET", "/console/config", null);
        assertThat(config.statusCode()).isEqualTo(200);
        assertThat(config.body()).contains("crm.order_confirmed", "first-success", "park-delays")
                .doesNotContain("local-demo-sms-token", "local-demo-push-token", "local-demo-billing-secret", "operator-demo", "local-demo-ops");
        assertThat(apiAs(null, "GET", "/api/failures", null).statusCode()).isEqualTo(401);
        assertThat(apiAs("operator:wrong", "GET", "/api/failures", null).statusCode()).isEqualTo(401);
        // A browser session without its CSRF token cannot act, even as an operator.
        assertThat(apiAs(null, "POST", "/console/deliveries/1/retry?notification=1", null).statusCode()).isIn(401, 403);
    }

    @Test
    void theWeeklyReviewCountsFailuresResolutionsDuplicatesAndOpenItems() throws Exception {
        // This week and the next: past midnight from Sunday to Monday, what happens below is counted in the next one.
        List<String> weeks = IsoWeeks.thisAndNext();
        List<JsonNode> before = weekly(weeks);
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_week" + newTicketId());
        try {
            String resolved = scene.order(newTicketId());
            String open = scene.order(newTicketId());
            long resolvedPush = awaitDelivery(RefusedPushOrders.key(resolved), "push", "FAILED");
            long openPush = awaitDelivery(RefusedPushOrders.key(open), "push", "FAILED");
            apiJson("POST", "/api/deliveries/" + resolvedPush + "/dismiss", "{\"comment\": \"app uninstalled\"}");
            // The CRM sends the same order twice more: suppressed, counted.
            jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) SELECT aggregate, event_type, payload FROM crm_outbox"
                    + " WHERE strpos(payload, ?) > 0", open);
            jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) SELECT aggregate, event_type, payload FROM crm_outbox"
                    + " WHERE strpos(payload, ?) > 0 LIMIT 1", open);
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                    "SELECT duplicates_suppressed FROM notification WHERE idempotency_key = ?", Integer.class, RefusedPushOrders.key(open)) == 2);
            // A refund mailed two days after it happened: its one-day send window was missed.
            String unique = newTicketId();
            postSignedBilling(Samples.text("billing/charge.refunded.json")
                    .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", "ch_week" + unique).replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_week" + unique)
                    .replace("\"created\": 1763730000", "\"created\": " + Instant.now().minus(Duration.ofDays(2)).getEpochSecond()));
            String lateKey = "billing:charge.refunded:ch_week" + unique + ":12999";
            long late = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT d.id FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.window_missed_at IS NOT NULL", Long.class, lateKey),
                    ids -> ids.size() == 1).get(0);
            assertThat(json(api("GET", "/api/failures?state=WINDOW_MISSED&type=billing.charge_refunded")).findValuesAsText("id"))
                    .contains(String.valueOf(late));

            List<JsonNode> afterWeeks = weekly(weeks);
            assertThat(afterWeeks).extracting(report -> report.get("week").asText()).containsExactlyElementsOf(weeks)
                    .allMatch(week -> week.matches("\\d{4}-W\\d{2}"));
            assertThat(count(afterWeeks, "byType", "crm.order_confirmed") - count(before, "byType", "crm.order_confirmed")).isEqualTo(2);
            assertThat(count(afterWeeks, "byChannel", "push") - count(before, "byChannel", "push")).isGreaterThanOrEqualTo(2);
            assertThat(total(afterWeeks, "resolved") - total(before, "resolved")).isGreaterThanOrEqualTo(1);
            assertThat(count(afterWeeks, "windowMissesByType", "billing.charge_refunded / email")
                    - count(before, "windowMissesByType", "billing.charge_refunded / email")).isEqualTo(1);
            assertThat(total(afterWeeks, "duplicatesSuppressed") - total(before, "duplicatesSuppressed")).isGreaterThanOrEqualTo(2);
            assertThat(count(afterWeeks, "byReason", "push not sent: provider answered HTTP 400 Bad Request: "
                    + "{\"error\": {\"status\": \"INVALID_ARGUMENT\", \"message\": \"The registration token is not valid\"}}"))
                    .isGreaterThanOrEqualTo(2);
            // The week the open push failed in: its review lists it open, not the dismissed one, and so does its CSV.
            JsonNode after = weekly(List.of(IsoWeeks.of(jdbc.queryForObject("SELECT failed_at FROM delivery WHERE id = ?",
                    java.sql.Timestamp.class, openPush).toInstant()))).get(0);
            assertThat(after.get("open").findValuesAsText("id")).contains(String.valueOf(openPush)).doesNotContain(String.valueOf(resolvedPush));

            HttpResponse<String> csv = api("GET", "/api/reports/weekly.csv?week=" + after.get("week").asText());
            assertThat(csv.statusCode()).isEqualTo(200);
            assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
            assertThat(csv.headers().firstValue("Content-Disposition").orElse("")).contains("herald-exceptions-" + after.get("week").asText() + ".csv");
            List<String> lines = csv.body().lines().toList();
            assertThat(lines.get(0)).isEqualTo("section,key,count");
            assertThat(lines).anyMatch(l -> l.startsWith("failures by type,crm.order_confirmed,"))
                    .anyMatch(l -> l.startsWith("duplicates suppressed,total,"))
                    .anyMatch(l -> l.startsWith("delivery," + openPush + ","));
            assertThat(api("GET", "/api/reports/weekly?week=last-week").statusCode()).isEqualTo(400);
            // A week that does not exist is refused, not rolled over into another one (2025 has 52 ISO weeks).
            for (String week : List.of("2026-W00", "2026-W54", "2025-W53")) {
                HttpResponse<String> none = api("GET", "/api/reports/weekly?week=" + week);
                assertThat(none.statusCode()).as(week).isEqualTo(400);
                assertThat(json(none).get("error").asText()).as(week).startsWith("no such week: " + week);
            }
            assertThat(json(api("GET", "/api/reports/weekly?week=2025-W53")).get("error").asText())
                    .isEqualTo("no such week: 2025-W53 (2025 has 52 ISO weeks)");
            assertThat(api("GET", "/api/reports/weekly?week=2026-W53").statusCode()).isEqualTo(200);
        } finally {
            scene.tokenFixed();
        }
    }

    /** After an outage tens of thousands may be open: the review lists the oldest 500 and counts them all, in one page. */
    @Test
    void theWeeklyReviewListsTheOldestOpenItemsAndCountsEveryOne() throws Exception {
        String marker = "open-flood-" + newTicketId();
        // Already alerted, so the failure alerts leave them alone; dismissed at the end, so no other test sees them open.
        jdbc.update("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload, status, created_at, alerted_at)
                SELECT 'billing', ? || '-' || i, 'QUARANTINED', 'validation', 'amount_due is missing', '{}', 'OPEN',
                       now() - interval '2 days', now()
                FROM generate_series(1, 520) AS i""", marker);
        try {
            JsonNode review = json(api("GET", "/api/reports/weekly"));
            assertThat(review.get("openItems").asLong()).isGreaterThanOrEqualTo(520);
            assertThat(review.get("open")).hasSize(500);
            String page = apiAs(VIEWER, "GET", "/console/report", null).body();
            assertThat(page).containsPattern("The oldest 500 of \\d+ open items are listed");
            assertThat(api("GET", "/api/reports/weekly.csv").body().lines().filter(l -> l.startsWith("quarantine,") || l.startsWith("delivery,")))
                    .hasSizeLessThanOrEqualTo(500);
        } finally {
            jdbc.update("UPDATE unrouted_event SET status = 'DISMISSED' WHERE source_event_id LIKE ?", marker + "-%");
        }
    }

    @Test
    void aDeadLetterIsListedAndReadableWhereTheAlertLinksTo() throws Exception {
        String marker = "garbage-" + newTicketId();
        publish("herald.notifications", "cus_x", "{\"idempotencyKey\": \"" + marker + "\", \"customerEmail\": \"pat@example.org\"");
        long id = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM dead_letter WHERE strpos(payload, ?) > 0", Long.class, marker), ids -> ids.size() == 1).get(0);

        JsonNode listed = json(api("GET", "/api/failures?state=DEAD_LETTER&customerId=" + marker));
        assertThat(listed.findValuesAsText("kind")).containsExactly("dead_letter");
        assertThat(listed.get(0).get("reason").asText()).startsWith("dead letter at ");
        // The alert's link for dead letters, and the letter itself, as a viewer: masked.
        assertThat(apiAs(VIEWER, "GET", "/console/failures?state=DEAD_LETTER", null).body()).contains("/console/dead-letters/" + id);
        HttpResponse<String> page = apiAs(VIEWER, "GET", "/console/dead-letters/" + id, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(marker, "p***@example.org").doesNotContain("pat@example.org");
        assertThat(apiAs(VIEWER, "GET", "/console/failures?state=NOPE", null).statusCode()).isEqualTo(400);
    }

    /** The weekly review of each of these weeks. */
    private List<JsonNode> weekly(List<String> weeks) throws Exception {
        List<JsonNode> reports = new java.util.ArrayList<>();
        for (String week : weeks) {
            HttpResponse<String> answer = api("GET", "/api/reports/weekly?week=" + week);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            reports.add(json(answer));
        }
        return reports;
    }

    /** The count of {@code key} in a section of the weekly reviews, added up over the weeks. */
    private static long count(List<JsonNode> reports, String section, String key) {
        return reports.stream().mapToLong(report -> count(report, section, key)).sum();
    }

    /** A total of the weekly reviews added up over the weeks. */
    private static long total(List<JsonNode> reports, String field) {
        return reports.stream().mapToLong(report -> report.get(field).asLong()).sum();
    }

    private static long count(JsonNode report, String section, String key) {
        for (JsonNode count : report.get(section)) {
            if (count.get("key").asText().equals(key)) {
                return count.get("count").asLong();
            }
        }
        return 0;
    }

    private long awaitDelivery(String key, String channel, String state) {
        return await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.id FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ? AND d.state = ?", Long.class, key, channel, state),
                ids -> ids.size() == 1).get(0);
    }

    private long awaitQuarantined(String order) {
        return await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT id FROM unrouted_event"
                + " WHERE outcome = 'QUARANTINED' AND strpos(raw_payload, ?) > 0", Long.class, order), ids -> ids.size() == 1).get(0);
    }

    private long notificationId(String order) {
        return jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, RefusedPushOrders.key(order));
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }
}
