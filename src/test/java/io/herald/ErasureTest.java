package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Erasure of one customer on request (issue 16 point 3): admin only, audited; the directory entry, payloads and rendered
 * messages go, the ledger's states and counts and the audit trail stay, and the customer's next event is quarantined
 * with a reason that says they were erased, when, by whom and why.
 */
class ErasureTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    DataSource dataSource;

    @Test
    void erasureRemovesTheCustomerKeepsTheCountsAndQuarantinesTheirNextEvent() throws Exception {
        LocalDate started = UtcDays.today();   // the erasure is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String customer = "cus_erase" + unique;
        String email = "erase.me" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Erin Erased', ?, '+15550104477')",
                customer, email);
        jdbc.update("""
                INSERT INTO inbound_sms (message_sid, from_masked, customer_id, keyword, action, outcome, reason, excerpt)
                VALUES (?, '+155…4477', ?, 'STOP', 'OPT_OUT', 'CONSENT_OFF', 'SMS consent off', 'STOP texting me, Erin')""",
                "SMer" + unique, customer);
        assertThat(postSignedBilling(eventFor(unique, customer, email)).statusCode()).isEqualTo(202);
        assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString).containsExactly(email);
        long notification = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class,
                Samples.paymentFailedKey(unique));
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(Samples.paymentFailedKey(unique), "email").get("state")));
        long quarantined = jdbc.queryForObject("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload)
                VALUES ('billing', ?, 'QUARANTINED', 'validation', 'amount_due is missing',
                        ?) RETURNING id""", Long.class, "evt_q" + unique,
                "{\"id\": \"evt_q" + unique + "\", \"data\": {\"object\": {\"customer\": \"" + customer + "\", \"customer_email\": \"" + email + "\"}}}");
        // Their names and address in free text beside the ledger rows: operators' comments, a provider's answer, an approver's
        // and a scheduler's comment, a quarantine reason. Known as the directory knows them: current (Erin Erased, Erin) and
        // replaced by a contact change (former_names: Will Maiden). "will" alone is a word, not their name.
        jdbc.update("UPDATE customer SET first_name = 'Erin', former_names = ARRAY['Will Maiden'] WHERE customer_id = ?", customer);
        long emailDelivery = ((Number) delivery(Samples.paymentFailedKey(unique), "email").get("id")).longValue();
        jdbc.update("UPDATE delivery SET reason = 'accepted for ERIN ERASED <' || ? || '>' WHERE id = ?", email, emailDelivery);
        jdbc.update("UPDATE delivery_attempt SET reason = '250 ok: queued for Will Maiden, +1 555 010 4477' WHERE delivery_id = ?",
                emailDelivery);
        jdbc.update("""
                INSERT INTO operator_action (acted_at, actor, action, target, target_id, notification_id, comment, outcome)
                VALUES (now(), 'operator', 'RETRY', 'delivery', ?, ?, 'Erin called from +15550104477; we will retry', 'retried for Maiden')""",
                emailDelivery, notification);
        jdbc.update("""
                INSERT INTO operator_action (acted_at, actor, action, target, target_id, notification_id, comment, outcome)
                VALUES (now(), 'operator', 'DISMISS', 'quarantine', ?, NULL, 'Erin Erased asked us to drop it, ' || ?, 'kept open')""",
                quarantined, email);
        jdbc.update("UPDATE unrouted_event SET reason = 'amount_due is missing (customer_name \"Erin Erased\")' WHERE id = ?", quarantined);
        jdbc.update("""
                INSERT INTO approval (notification_id, state, rule, expires_at, decided_by, decided_at, comment)
                VALUES (?, 'APPROVED', 'billing needs approval', now(), 'approver', now(), 'checked with Erin by phone')""", notification);
        jdbc.update("""
                INSERT INTO scheduled_send (notification_id, state, reason, decided_by, decided_at, comment)
                VALUES (?, 'SENT_NOW', 'quiet hours', 'operator', now(), 'Will Maiden wants it now')""", notification);
        // The ops alert for a kind of failure keeps one example reason and links to its notification: theirs.
        String alertGroup = "erasure-test-" + unique;
        jdbc.update("""
                INSERT INTO alert_group (group_key, summary, unit, example, link, first_alerted_at, last_alerted_at)
                VALUES (?, 'email deliveries bounced', 'delivery', '550 mailbox of Erin Erased is full', ?, now(), now())""",
                alertGroup, "http://localhost/console/notifications/" + notification);

        // Admin only, and never without a reason for the record.
        assertThat(apiAs(VIEWER, "DELETE", "/api/customers/" + customer + "?comment=x", null).statusCode()).isEqualTo(403);
        assertThat(apiAs(OPERATOR, "DELETE", "/api/customers/" + customer + "?comment=x", null).statusCode()).isEqualTo(403);
        HttpResponse<String> noComment = apiAs(ADMIN, "DELETE", "/api/customers/" + customer, null);
        assertThat(noComment.statusCode()).isEqualTo(400);
        assertThat(noComment.body()).contains("needs a comment");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isEqualTo(1);
        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/cus_nobody" + unique + "?comment=request", null).statusCode()).isEqualTo(404);
        // An id nobody has, however long, is named in the answer cut to a readable length, not echoed whole.
        HttpResponse<String> longId = apiAs(ADMIN, "DELETE", "/api/customers/cus_" + "x".repeat(5000) + "?comment=request", null);
        assertThat(longId.statusCode()).isEqualTo(404);
        assertThat(longId.body()).contains("no customer cus_xxx").hasSizeLessThan(300);

        // Before: the raw event and the rendered message are kept beside the ledger rows (V38: notification_payload, delivery_content).
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification_payload WHERE notification_id = ?", String.class, notification))
                .contains(email);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id"
                + " WHERE d.notification_id = ?", Integer.class, notification)).isPositive();

        String comment = "GDPR request " + unique + " via dpo" + unique + "@example.org";
        HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=" + URLEncoder.encode(comment, StandardCharsets.UTF_8), null);
        assertThat(erased.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(erased.body()).get("removed").asText()).contains("directory entry deleted", "1 notification payloads");

        // Gone: the directory entry, the address in payloads and rendered messages, the quarantined event's copy.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isZero();
        Map<String, Object> row = jdbc.queryForMap("SELECT state, herald_canonical(id, received_at, canonical)::text AS canonical"
                + " FROM notification WHERE id = ?", notification);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id = ?", Integer.class, notification)).isZero();
        Map<String, Object> removal = jdbc.queryForMap("SELECT removed_by, CAST(removed_at AT TIME ZONE 'UTC' AS DATE)::text AS removed_on"
                + " FROM notification_payload_removal WHERE notification_id = ?", notification);
        assertThat(removal).containsEntry("removed_by", "erasure");
        assertThat(removal.get("removed_on")).as("the erasure's UTC date").isIn(UtcDays.since(started));
        String today = (String) removal.get("removed_on");   // every text below names this date
        assertThat((String) row.get("canonical")).doesNotContain(email, "Jenny", "Erin");
        List<Map<String, Object>> deliveries = jdbc.queryForList("SELECT channel, state, recipient_masked, c.rendered_body, c.subject, attempts"
                + " FROM delivery d LEFT JOIN delivery_content c ON c.delivery_id = d.id WHERE d.notification_id = ?", notification);
        assertThat(deliveries).isNotEmpty().allSatisfy(d -> {
            assertThat(d.get("rendered_body")).isNull();
            assertThat(d.get("subject")).isNull();
            assertThat(d.get("recipient_masked")).isNull();
        });
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbox_message WHERE customer_id = ?", Integer.class, customer)).isZero();
        // What they texted to Herald's number stays as the number's consent history, without them or their words.
        assertThat(jdbc.queryForMap("SELECT customer_id, excerpt, action FROM inbound_sms WHERE message_sid = ?", "SMer" + unique))
                .containsEntry("action", "OPT_OUT").containsEntry("customer_id", null).containsEntry("excerpt", null);
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM unrouted_event WHERE id = ?", String.class, quarantined))
                .isEqualTo("payload removed by erasure of the customer on " + today);
        // Their names, address and phone are gone from the free text too; the rows stay, with (erased) in their place.
        List<String> texts = jdbc.queryForList("""
                SELECT reason FROM delivery WHERE id = ?
                UNION ALL SELECT reason FROM delivery_attempt WHERE delivery_id = ?
                UNION ALL SELECT comment || ' / ' || outcome FROM operator_action WHERE notification_id = ? AND action <> 'ERASE'
                UNION ALL SELECT comment || ' / ' || outcome FROM operator_action WHERE target = 'quarantine' AND target_id = ?
                UNION ALL SELECT reason FROM unrouted_event WHERE id = ?
                UNION ALL SELECT comment FROM approval WHERE notification_id = ?
                UNION ALL SELECT comment FROM scheduled_send WHERE notification_id = ?
                UNION ALL SELECT example FROM alert_group WHERE group_key = ?""", String.class,
                emailDelivery, emailDelivery, notification, quarantined, quarantined, notification, notification, alertGroup);
        jdbc.update("DELETE FROM alert_group WHERE group_key = ?", alertGroup);
        assertThat(texts).as("free text of the erased customer's rows").hasSizeGreaterThanOrEqualTo(8).allSatisfy(text -> assertThat(text)
                .doesNotContainIgnoringCase("Erin").doesNotContain("Maiden", email, "4477", "e***@"));
        assertThat(texts).contains("accepted for (erased) <(erased)>", "(erased) called from (erased); we will retry / retried for (erased)",
                "(erased) wants it now", "checked with (erased) by phone", "(erased) asked us to drop it, (erased) / kept open",
                "amount_due is missing (customer_name \"(erased)\")", "250 ok: queued for (erased), (erased)",
                "550 mailbox of (erased) is full");
        // Kept: the notification, its deliveries' states and attempts (the counts), and the audit trail.
        assertThat(row.get("state")).isEqualTo("ROUTED");
        assertThat(deliveries).anySatisfy(d -> assertThat(d).containsEntry("channel", "email").containsEntry("state", "SENT"));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " WHERE d.notification_id = ?", Integer.class, notification)).isPositive();
        Map<String, Object> audit = jdbc.queryForMap("SELECT actor, comment, outcome FROM operator_action WHERE action = 'ERASE'"
                + " AND target = 'customer' AND outcome LIKE ?", "customer " + customer + " erased%");
        assertThat(audit).containsEntry("actor", "admin").containsEntry("comment", comment);
        JsonNode proof = JSON.readTree(api("GET", "/api/notifications/" + notification + "/proof").body());
        assertThat(proof.get("payloadRemoved").asText()).isEqualTo("payload removed by erasure of the customer on " + today);
        // The phone in the forms the rows above wrote it ("4477" alone is also in a timestamp's microseconds now and then).
        assertThat(proof.toString()).doesNotContain(email).doesNotContain("Erin", "Maiden", "0104477", "010 4477", "\u20264477");
        // The proof says who erased the content it no longer holds, when and why: the admin's ERASE among its operator actions, last.
        JsonNode actions = proof.get("operatorActions");
        assertThat(actions).isNotEmpty();
        JsonNode erase = actions.get(actions.size() - 1);
        assertThat(erase.get("action").asText()).isEqualTo("ERASE");
        assertThat(erase.get("actor").asText()).isEqualTo("admin");
        assertThat(erase.get("comment").asText()).isEqualTo(comment);
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification + "/proof", null).body()).contains("ERASE", comment);
        // A viewer's printable proof: no directory entry is left to mask their names by, and none is left to mask.
        assertThat(apiAs(VIEWER, "GET", "/console/notifications/" + notification + "/proof", null).body())
                .contains("payload removed by erasure of the customer on " + today).doesNotContain("Erin", "Maiden", "0104477", "010 4477", "\u20264477");

        // The customer's next event is quarantined with the erasure as its reason; nothing is sent.
        String next = newTicketId();
        assertThat(postSignedBilling(eventFor(next, customer, email)).statusCode()).isEqualTo(202);
        String reason = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT reason FROM unrouted_event WHERE source_event_id = ? AND outcome = 'QUARANTINED'", String.class, "evt_test" + next)
                .stream().findFirst().orElse(null), r -> r != null);
        assertThat(reason).contains("names customer " + customer + ", who was erased from Herald on " + today + " by admin",
                "comment: \"" + comment + "\"");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Integer.class,
                Samples.paymentFailedKey(next))).isZero();
        assertThat(mailsFor(Samples.paymentFailedKey(next))).isEmpty();
        // Nor is the event kept: its quarantined copy would hold their name and address again; a re-drive is refused.
        Map<String, Object> held = jdbc.queryForMap("SELECT id, raw_payload FROM unrouted_event WHERE source_event_id = ?"
                + " AND outcome = 'QUARANTINED'", "evt_test" + next);
        assertThat((String) held.get("raw_payload")).as("the erased customer's next event, quarantined")
                .isEqualTo("payload removed by erasure of the customer on " + today);
        HttpResponse<String> redrive = api("POST", "/api/quarantine/" + held.get("id") + "/redrive");
        assertThat(redrive.statusCode()).isEqualTo(409);
        assertThat(redrive.body()).contains("payload removed by erasure of the customer on " + today);

        // Once is enough; the console's customer page says what happened.
        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=again", null).statusCode()).isEqualTo(409);
        HttpResponse<String> page = apiAs(VIEWER, "GET", "/console/customers/" + customer, null);
        assertThat(page.statusCode()).isEqualTo(200);
        // A viewer reads the comment with the address in it masked; an admin reads it as written.
        assertThat(page.body()).contains("Erased on", "GDPR request " + unique + " via d***@example.org").doesNotContain("id=\"erase\"")
                .doesNotContain("dpo" + unique + "@example.org");
        assertThat(apiAs(ADMIN, "GET", "/console/customers/" + customer, null).body()).contains(comment);
    }

    /**
     * The helpdesk ticket notes on an erased customer's deliveries and the reasons that quote their address. An agent's reply
     * is mailed (its SENT note posted to the helpdesk) and then blocked by the customer's mail server, quoting the address
     * (its UNDELIVERED note waits: the helpdesk is busy). After the erasure, each note keeps its row without its text, the
     * waiting one is never posted, and the reasons no longer show the masked address.
     */
    @Test
    void erasureRemovesTicketNoteTextsStopsUnpostedNotesAndTheAddressInReasons() throws Exception {
        LocalDate started = UtcDays.today();   // the erasure is on this UTC date or, past midnight, a later one
        String ticket = newTicketId();
        String customer = "cus_note" + ticket;
        String email = "olive.note" + ticket + "@example.org";
        String masked = "o***@example.org";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Olive Note', ?)", customer, email);
        // The helpdesk takes the first note, then is busy for ten minutes.
        String path = "/api/v2/tickets/" + ticket + ".json";
        infra.providers().stubFor(put(urlPathEqualTo(path)).atPriority(1).inScenario("erase-" + ticket)
                .whenScenarioStateIs(Scenario.STARTED).willSetStateTo("busy")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody("{\"ticket\": {}}")));
        infra.providers().stubFor(put(urlPathEqualTo(path)).atPriority(1).inScenario("erase-" + ticket)
                .whenScenarioStateIs("busy")
                .willReturn(aResponse().withStatus(503).withHeader("Retry-After", "600").withBody("{\"error\": \"unavailable\"}")));
        String event = Samples.supportEvent("ticket.comment_added.json", ticket).replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01ERASE" + ticket)
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("9000000123456", "77" + ticket);
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);
        String key = "support:agent_replied:" + ticket + ":41000000000555";
        String messageId = awaitMailFor(key).getMessageID();
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(key).stream().anyMatch(n -> "POSTED".equals(n.get("state"))));

        String blocked = "[{\"email\": \"" + email + "\", \"timestamp\": 1763720060, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"bounce\", \"type\": \"blocked\", \"status\": \"5.7.1\", \"reason\": \"550 5.7.1 <" + email
                + ">: mailbox full\", \"sg_event_id\": \"blk-" + ticket + "\"}]";
        assertThat(postEmailEvents(blocked).statusCode()).isEqualTo(200);
        assertThat(delivery(key, "email")).containsEntry("state", "UNDELIVERED");
        assertThat((String) delivery(key, "email").get("reason")).contains(masked);
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(key).stream().anyMatch(n -> "UNDELIVERED".equals(n.get("outcome"))
                && "PENDING".equals(n.get("state")) && ((Number) n.get("attempts")).intValue() == 1));
        assertThat(notes(key)).extracting(n -> (String) n.get("body")).anySatisfy(body -> assertThat(body).contains(masked));

        HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=asked", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
        assertThat(JSON.readTree(erased.body()).get("removed").asText()).contains("2 ticket note texts removed (1 not posted)");

        List<Map<String, Object>> notes = notes(key);
        String today = UtcDays.dayNamedIn((String) notes.get(0).get("body"), "note text removed by erasure of the customer on ", "", started);
        assertThat(notes).hasSize(2).allSatisfy(note -> assertThat(note).containsEntry("ticket_id", ticket)
                .containsEntry("body", "note text removed by erasure of the customer on " + today));
        assertThat(notes.get(0)).containsEntry("outcome", "SENT").containsEntry("state", "POSTED")
                .hasEntrySatisfying("posted_at", at -> assertThat(at).isNotNull());
        assertThat(notes.get(1)).containsEntry("outcome", "UNDELIVERED").containsEntry("state", "CANCELLED")
                .containsEntry("reason", "not posted: the customer was erased on " + today + " by admin");
        // Its retry comes due: nothing more reaches the helpdesk, and nothing is queued for the erased customer again.
        jdbc.update("UPDATE ticket_note t SET next_attempt_at = now() FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE d.id = t.delivery_id AND n.idempotency_key = ?", key);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> helpdeskPuts(path) == 2);
        assertThat(notes(key)).hasSize(2);
        assertThat(apiAs(OPERATOR, "GET", "/console/ticket-notes?open=true", null).body()).doesNotContain(">" + ticket + "<");
        long notification = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body())
                .contains("Ticket note for ticket " + ticket + " not posted (UNDELIVERED)", "not posted: the customer was erased on " + today);

        // The reasons keep their words, without the address.
        assertThat((String) delivery(key, "email").get("reason")).doesNotContain(masked).contains("(erased)", "blocked the email");
        assertThat(attempts(key, "email")).extracting(a -> String.valueOf(a.get("reason")))
                .noneSatisfy(reason -> assertThat(reason).contains(masked))
                .anySatisfy(reason -> assertThat(reason).contains("(erased)"));
        assertThat(jdbc.queryForList("SELECT r.reason FROM delivery_receipt r JOIN delivery d ON d.id = r.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?", String.class, key))
                .as("the bounce's receipt").isNotEmpty()
                .allSatisfy(reason -> assertThat(reason).doesNotContain(masked))
                .anySatisfy(reason -> assertThat(reason).contains("(erased)", "mailbox full"));

        // A provider's late word about the mail (a deferral days later) quoting the address: kept without it.
        String deferred = "[{\"email\": \"" + email + "\", \"timestamp\": 1763720090, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"deferred\", \"response\": \"451 4.2.0 <" + email + ">: try again later\", \"sg_event_id\": \"def-"
                + ticket + "\"}]";
        assertThat(postEmailEvents(deferred).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT reason FROM delivery_receipt WHERE provider_event_id = ?", String.class, "def-" + ticket))
                .doesNotContain(masked, email).contains("(erased)", "try again later");
        assertThat(attempts(key, "email")).extracting(a -> String.valueOf(a.get("reason")))
                .noneSatisfy(reason -> assertThat(reason).contains(masked))
                .anySatisfy(reason -> assertThat(reason).contains("(erased)", "try again later"));
    }

    /**
     * A note claimed in the same batch as a slow one waits for its post; its customer is erased meanwhile. The erasure
     * cancels it and removes its text, and the poster reads it again right before its post: it never reaches the helpdesk.
     */
    @Test
    void aNoteWaitingBehindASlowPostWhenItsCustomerIsErasedIsNotPosted() throws Exception {
        LocalDate started = UtcDays.today();   // the erasure is on this UTC date or, past midnight, a later one
        String slowTicket = newTicketId();
        String erasedTicket = newTicketId();
        String slowPath = "/api/v2/tickets/" + slowTicket + ".json";
        String erasedPath = "/api/v2/tickets/" + erasedTicket + ".json";
        // The helpdesk is busy at first: both notes wait (Retry-After 600 s), the slow ticket's first.
        var busy = List.of(slowPath, erasedPath).stream().map(path -> infra.providers().stubFor(put(urlPathEqualTo(path)).atPriority(1)
                .willReturn(aResponse().withStatus(503).withHeader("Retry-After", "600").withBody("{\"error\": \"unavailable\"}")))).toList();
        String slowKey = replied(slowTicket, "cus_slow" + slowTicket, "Sol Slow");
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(slowKey).stream().anyMatch(n -> ((Number) n.get("attempts")).intValue() == 1));
        String customer = "cus_gone" + erasedTicket;
        String erasedKey = replied(erasedTicket, customer, "Gil Gone");
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(erasedKey).stream().anyMatch(n -> ((Number) n.get("attempts")).intValue() == 1));
        busy.forEach(infra.providers()::removeStub);
        // Then it takes notes, the slow ticket's after 5 s (under the local profile's 8 s response timeout: at 8 s the answer
        // raced the timeout, and the slow note was sometimes never taken); both notes come due together, claimed in one batch.
        infra.providers().stubFor(put(urlPathEqualTo(slowPath)).atPriority(1).willReturn(aResponse().withStatus(200).withFixedDelay(5000)
                .withHeader("Content-Type", "application/json").withBody("{\"ticket\": {}}")));
        infra.providers().stubFor(put(urlPathEqualTo(erasedPath)).atPriority(1).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"ticket\": {}}")));
        String both = "SELECT t.id FROM ticket_note t JOIN delivery d ON d.id = t.delivery_id JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key IN (?, ?)";
        jdbc.update("UPDATE ticket_note SET next_attempt_at = now() WHERE id IN (" + both + ")", slowKey, erasedKey);
        await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT count(*) FROM ticket_note WHERE id IN (" + both
                + ") AND next_attempt_at > now() + interval '20 seconds'", Integer.class, slowKey, erasedKey) == 2);   // leased: claimed
        assertThat(notes(slowKey)).extracting(n -> n.get("state")).containsExactly("PENDING");

        HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=asked", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> "POSTED".equals(notes(slowKey).get(0).get("state")));
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> helpdeskPuts(erasedPath) == 1);   // the busy answer only
        assertThat(notes(erasedKey)).singleElement().satisfies(note -> assertThat(note).containsEntry("state", "CANCELLED")
                .hasEntrySatisfying("body", body -> assertThat(body).isIn(UtcDays.texts(started, "note text removed by erasure of the customer on ", ""))));
    }

    /**
     * An SMS on its way to the provider when its customer is erased: the provider's answers, quoting the number (an
     * "unavailable", retried at once, then a refusal), arrive after the erasure scrubbed the reasons there were. They are
     * written with the number read "(erased)", on the delivery and its attempts: nothing in the ledger names the erased
     * customer's number.
     */
    @Test
    void anOutcomeArrivingAfterTheErasureQuotesNoAddress() throws Exception {
        String unique = newTicketId();
        String phone = "+1500556" + (1000 + Integer.parseInt(unique) % 8999);
        String customer = "cus_late" + unique;
        // First a slow "unavailable" quoting the number (an in-process retry follows), then a refusal quoting it.
        String scenario = "late-outcome-" + unique;
        var unavailable = infra.providers().stubFor(com.github.tomakehurst.wiremock.client.WireMock.post(urlPathEqualTo(
                        "/2010-04-01/Accounts/ACdemo/Messages.json")).inScenario(scenario).whenScenarioStateIs(Scenario.STARTED)
                .withRequestBody(containing(phone.substring(1))).atPriority(1).willSetStateTo("refuse").willReturn(aResponse().withStatus(503)
                        .withFixedDelay(4000).withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 20503, \"message\": \"Cannot reach " + phone + " right now.\"}")));
        var refused = infra.providers().stubFor(com.github.tomakehurst.wiremock.client.WireMock.post(urlPathEqualTo(
                        "/2010-04-01/Accounts/ACdemo/Messages.json")).inScenario(scenario).whenScenarioStateIs("refuse")
                .withRequestBody(containing(phone.substring(1))).atPriority(1).willReturn(aResponse().withStatus(400)
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"code\": 21211, \"message\": \"The 'To' number " + phone + " is not a valid phone number.\"}")));
        try {
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Lee Late', ?, ?)", customer,
                    customer + "@example.com", phone);
            String key = Samples.paymentFailedKey(unique);
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENDING".equals(delivery(key, "sms").get("state")));

            HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=asked", null);
            assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);

            await().atMost(Duration.ofSeconds(30)).until(() -> "FAILED".equals(delivery(key, "sms").get("state")));
            String digits = phone.substring(phone.length() - 4);
            assertThat((String) delivery(key, "sms").get("reason")).isEqualTo("sms not sent: provider answered HTTP 400 Bad Request:"
                    + " {\"code\": 21211, \"message\": \"The 'To' number (erased) is not a valid phone number.\"}" + Samples.TWILIO_21211_ADVICE);
            assertThat(jdbc.queryForList("SELECT a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                    + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'sms'", String.class, key))
                    .anySatisfy(reason -> assertThat(reason).contains("The 'To' number (erased) is not"))
                    .anySatisfy(reason -> assertThat(reason).contains("Cannot reach (erased) right now"))
                    .allSatisfy(reason -> assertThat(String.valueOf(reason)).doesNotContain(digits));
        } finally {
            infra.providers().removeStub(unavailable);
            infra.providers().removeStub(refused);
        }
    }

    /** An agent's reply on the ticket for a new customer, mailed; returns its notification's key. */
    private String replied(String ticket, String customer, String name) throws Exception {
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, ?, ?)", customer, name, customer + "@example.org");
        String event = Samples.supportEvent("ticket.comment_added.json", ticket).replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01NOTE" + ticket)
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("9000000123456", "78" + ticket);
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);
        String key = "support:agent_replied:" + ticket + ":41000000000555";
        awaitMailFor(key);
        return key;
    }

    /** The ticket notes of a notification's deliveries, oldest first. */
    private List<Map<String, Object>> notes(String key) {
        return jdbc.queryForList("""
                SELECT t.outcome, t.ticket_id, t.state, t.attempts, t.body, t.reason, t.posted_at FROM ticket_note t
                JOIN delivery d ON d.id = t.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ? ORDER BY t.id""", key);
    }

    private int helpdeskPuts(String path) {
        return (int) infra.providers().getAllServeEvents().stream()
                .filter(e -> e.getRequest().getMethod().getName().equals("PUT") && e.getRequest().getUrl().equals(path)).count();
    }


    /**
     * An erasure and a CRM contact change of the same customer at the same moment. The erasure is held once it has written
     * its tombstone, not yet committed (a test connection holds the customer's directory row, which the erasure deletes next),
     * and the contact change arrives meanwhile. It used to read no tombstone, wait for the row and re-create the customer once
     * the erasure committed; now it waits for the customer's lock, which the erasure holds, then finds the tombstone.
     */
    @Test
    void aContactChangeAppliedWhileTheCustomerIsErasedDoesNotBringThemBack() throws Exception {
        LocalDate started = UtcDays.today();   // the erasure is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String customer = "cus_race" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, updated_at) VALUES (?, 'Rae Race', ?, '2026-11-01T00:00:00Z')",
                customer, "rae" + unique + "@example.com");
        String contact = Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("0015g00000XyZ1AAA", "0015g" + unique + "RRR").replace("jenny.rosen@example.org", "rae" + unique + "@example.net");
        long row;
        HttpResponse<String> erased;
        try (Connection test = dataSource.getConnection()) {
            test.setAutoCommit(false);
            try (PreparedStatement hold = test.prepareStatement("SELECT 1 FROM customer WHERE customer_id = ? FOR UPDATE")) {
                hold.setString(1, customer);
                hold.executeQuery().close();
            }
            CompletableFuture<HttpResponse<String>> erasure = CompletableFuture.supplyAsync(() -> {
                try {
                    return apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=race", null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> waiting("DELETE FROM customer WHERE%") == 1);

            row = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)"
                    + " RETURNING id", Long.class, contact);
            // The contact change is in and waits: for the customer's lock (or, before the fix, for the row the test holds).
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() ->
                    waiting("%pg_advisory_xact_lock(hashtext('herald.customer')%") + waiting("INSERT INTO customer %") == 1);
            test.commit();
            erased = erasure.get(30, TimeUnit.SECONDS);
        }

        assertThat(erased.statusCode()).isEqualTo(200);
        Map<String, Object> refused = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, step, reason FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?", "crm-outbox-" + row),
                rows -> rows.size() == 1).get(0);
        assertThat(refused).containsEntry("outcome", "QUARANTINED").containsEntry("step", "identity");
        assertThat(refused.get("reason").toString()).containsAnyOf(UtcDays.textArray(started, "contact update for customer " + customer
                + " refused: the customer was erased from Herald on ", " by admin (comment: \"race\")"));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_link WHERE customer_id = ?", Integer.class, customer)).isZero();
    }

    /**
     * An admin links a quarantined event to a customer whose erasure is committing at that moment: the link waits for the
     * customer's lock, then finds the erasure; the event stays quarantined saying so, and no link to the customer is left.
     */
    @Test
    void aLinkMadeWhileTheCustomerIsErasedLeavesNoLinkToThem() throws Exception {
        LocalDate started = UtcDays.today();   // the erasure is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String customer = "cus_linkrace" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Lin Race', ?)", customer, "lin" + unique + "@example.com");
        String stranger = "cus_stranger" + unique;   // not in the directory: its event is quarantined, to be linked
        assertThat(postSignedBilling(Samples.paymentFailedNow(unique).replace("cus_RkT4aB7cD9eF1g", stranger)).statusCode()).isEqualTo(202);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT id FROM unrouted_event WHERE source = 'billing'"
                + " AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class, "%in_test" + unique + "%"), ids -> !ids.isEmpty()).get(0);
        HttpResponse<String> erased;
        HttpResponse<String> linked;
        try (Connection test = dataSource.getConnection()) {
            test.setAutoCommit(false);
            try (PreparedStatement hold = test.prepareStatement("SELECT 1 FROM customer WHERE customer_id = ? FOR UPDATE")) {
                hold.setString(1, customer);
                hold.executeQuery().close();
            }
            CompletableFuture<HttpResponse<String>> erasure = CompletableFuture.supplyAsync(() -> call(() ->
                    apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=race", null)));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> waiting("DELETE FROM customer WHERE%") == 1);
            CompletableFuture<HttpResponse<String>> link = CompletableFuture.supplyAsync(() -> call(() -> apiAs(ADMIN, "POST",
                    "/api/quarantine/" + event + "/link", "{\"customerId\": \"" + customer + "\", \"comment\": \"same person\"}")));
            // The link waits for the customer's lock, which the erasure holds.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> waiting("%pg_advisory_xact_lock(hashtext('herald.customer')%") == 1);
            test.commit();
            erased = erasure.get(30, TimeUnit.SECONDS);
            linked = link.get(30, TimeUnit.SECONDS);
        }

        assertThat(erased.statusCode()).isEqualTo(200);
        assertThat(linked.statusCode()).as(linked.body()).isEqualTo(200);
        assertThat(JSON.readTree(linked.body()).get("status").asText()).isEqualTo("OPEN");
        assertThat(jdbc.queryForObject("SELECT reason FROM unrouted_event WHERE id = ?", String.class, event))
                .containsAnyOf(UtcDays.textArray(started, "names customer " + customer + ", who was erased from Herald on ", ""));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_link WHERE customer_id = ? OR external_id = ?", Integer.class,
                customer, stranger)).isZero();
    }

    private static <T> T call(java.util.concurrent.Callable<T> request) {
        try {
            return request.call();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sessions waiting for a lock in a statement like this (pg_stat_activity). */
    private int waiting(String statement) {
        return jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ?",
                Integer.class, statement);
    }

    @Test
    void theConsoleButtonErasesForAnAdminOnly() throws Exception {
        String unique = newTicketId();
        String customer = "cus_button" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Bo Button', ?)", customer, "bo" + unique + "@example.com");

        HttpResponse<String> adminPage = apiAs(ADMIN, "GET", "/console/customers/" + customer, null);
        assertThat(adminPage.body()).contains("id=\"erase\"", "bo" + unique + "@example.com");
        assertThat(apiAs(OPERATOR, "GET", "/console/customers/" + customer, null).body()).doesNotContain("id=\"erase\"");
        assertThat(apiAs(VIEWER, "GET", "/console/customers/" + customer, null).body()).doesNotContain("bo" + unique + "@example.com");

        assertThat(form(OPERATOR, customer, "comment=asked&confirm=yes").statusCode()).isEqualTo(403);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isEqualTo(1);
        HttpResponse<String> done = form(ADMIN, customer, "comment=" + URLEncoder.encode("asked by phone, ticket " + unique, StandardCharsets.UTF_8)
                + "&confirm=yes");
        assertThat(done.statusCode()).isEqualTo(302);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isZero();
        assertThat(jdbc.queryForObject("SELECT requested_by FROM customer_erasure WHERE customer_id = ?", String.class, customer)).isEqualTo("admin");
    }

    private HttpResponse<String> form(String account, String customer, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/console/customers/" + customer + "/erase"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The payment-failed sample about another invoice, for this customer. */
    private static String eventFor(String unique, String customer, String email) {
        return Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer).replace("jenny.rosen@example.com", email)
                .replace("Jenny Rosen", "Erin Erased");
    }
}
