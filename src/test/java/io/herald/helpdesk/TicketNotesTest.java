package io.herald.helpdesk;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Two-way support notes (issue 13 point 6) on the embedded stack, WireMock as Zendesk: the shipped catalog has ticket-notes on
 * support.agent_replied and off for support.ticket_status_changed; the local profile points herald.helpdesk at the sandbox.
 */
class TicketNotesTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Zendesk API token auth as the local profile configures it: {email}/token and the token. */
    private static final String AUTHORIZATION = "Basic " + Base64.getEncoder().encodeToString(
            "helpdesk@herald.local/token:local-demo-helpdesk-token".getBytes(StandardCharsets.UTF_8));

    @Autowired
    TicketNotes ticketNotes;
    @Autowired
    org.apache.camel.CamelContext camel;

    @Test
    void anAgentReplyGetsOnePrivateNotePerOutcomeWhateverRepeats() throws Exception {
        String ticket = newTicketId();
        String key = reply(ticket);
        String messageId = awaitMailFor(key).getMessageID();
        String subject = (String) delivery(key, "email").get("subject");

        // Sent: one private note on the ticket, as the helpdesk agent with the API token.
        await().atMost(Duration.ofSeconds(30)).until(() -> notesOn(ticket).size() == 1);
        ServeEvent sent = notesOn(ticket).get(0);
        assertThat(sent.getRequest().getHeader("Authorization")).isEqualTo(AUTHORIZATION);
        assertThat(sent.getRequest().getHeader("Content-Type")).startsWith("application/json");
        JsonNode comment = JSON.readTree(sent.getRequest().getBodyAsString()).path("ticket").path("comment");
        assertThat(comment.path("public").isBoolean()).isTrue();
        assertThat(comment.path("public").asBoolean()).isFalse();
        assertThat(comment.path("body").asText())
                .matches("Customer notified by email \\(j\\*\\*\\*@example\\.org\\) at \\d\\d:\\d\\d UTC on \\d{4}-\\d\\d-\\d\\d: '.*'\\.")
                .contains("'" + subject + "'")
                .doesNotContain("jenny.rosen@example.org");

        // Delivered, reported twice (SendGrid sends the event again under a new id): one more note, not two.
        for (String eventId : List.of("dlv1-" + ticket, "dlv2-" + ticket)) {
            String events = "[{\"email\": \"jenny.rosen@example.org\", \"timestamp\": 1763720060, \"smtp-id\": \"" + messageId + "\","
                    + " \"event\": \"delivered\", \"response\": \"250 OK\", \"sg_event_id\": \"" + eventId + "\"}]";
            assertThat(postEmailEvents(events).statusCode()).isEqualTo(200);
        }
        assertThat(delivery(key, "email")).containsEntry("state", "DELIVERED");
        await().atMost(Duration.ofSeconds(30)).until(() -> notesOn(ticket).size() == 2);
        assertThat(JSON.readTree(notesOn(ticket).get(1).getRequest().getBodyAsString()).path("ticket").path("comment").path("body").asText())
                .startsWith("Delivered to the customer by email (j***@example.org) at ").contains("'" + subject + "'", "(sent ");

        // The scan running again (here twice more, on top of its timer) queues nothing new, and nothing is posted again.
        assertThat(ticketNotes.queue()).isZero();
        assertThat(ticketNotes.queue()).isZero();
        // The helpdesk answers before the note's row is marked POSTED: the row follows a moment later (seen once in a full run).
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(notes(key)).containsExactly(
                Map.of("outcome", "SENT", "state", "POSTED", "attempts", 1), Map.of("outcome", "DELIVERED", "state", "POSTED", "attempts", 1)));
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> notesOn(ticket).size() == 2);

        // The notification's timeline shows the notes.
        String page = apiAs(OPERATOR, "GET", "/console/notifications/" + notificationId(key), null).body();
        assertThat(page).contains("Ticket note added to ticket " + ticket + " (SENT)", "Ticket note added to ticket " + ticket + " (DELIVERED)");
        // And its proof of delivery, in the JSON and the printable page, for a viewer masked as the rest (it was in the timeline only).
        JsonNode proofNotes = JSON.readTree(apiAs(OPERATOR, "GET", "/api/notifications/" + notificationId(key) + "/proof", null).body())
                .path("ticketNotes");
        assertThat(proofNotes).hasSize(2);
        assertThat(proofNotes.get(0).path("ticketId").asText()).isEqualTo(ticket);
        assertThat(proofNotes.get(0).path("outcome").asText()).isEqualTo("SENT");
        assertThat(proofNotes.get(0).path("state").asText()).isEqualTo("POSTED");
        assertThat(proofNotes.get(0).path("channel").asText()).isEqualTo("email");
        assertThat(proofNotes.get(0).path("text").asText()).startsWith("Customer notified by email (j***@example.org) at ");
        assertThat(proofNotes.get(0).path("postedAt").asText()).isNotBlank();
        assertThat(proofNotes.get(1).path("outcome").asText()).isEqualTo("DELIVERED");
        assertThat(proofNotes.get(1).path("text").asText()).startsWith("Delivered to the customer by email (j***@example.org) at ");
        String viewerProof = apiAs(VIEWER, "GET", "/api/notifications/" + notificationId(key) + "/proof", null).body();
        assertThat(viewerProof).contains("\"ticketNotes\":[{", "Customer notified by email (j***@example.org)")
                .doesNotContain("jenny.rosen@example.org").doesNotContain("Jenny");
        assertThat(apiAs(VIEWER, "GET", "/console/notifications/" + notificationId(key) + "/proof", null).body())
                .contains("Notes on the helpdesk ticket", ">" + ticket + "<", "email, SENT", "email, DELIVERED",
                        "Customer notified by email (j***@example.org)").doesNotContain("jenny.rosen@example.org");
        // And the customer's page lists the notes written about their notifications.
        String customer = jdbc.queryForObject("SELECT customer_id FROM notification WHERE idempotency_key = ?", String.class, key);
        String customerPage = apiAs(OPERATOR, "GET", "/console/customers/" + customer, null).body();
        assertThat(customerPage).contains("id=\"ticket-notes\"", ">" + ticket + "<", "email, SENT", "email, DELIVERED");
    }

    @Test
    void aBusyHelpdeskIsAskedAgainAfterItsRetryAfterAndTakesTheNoteOnce() throws Exception {
        String ticket = newTicketId();
        String path = "/api/v2/tickets/" + ticket + ".json";
        infra.providers().stubFor(put(urlPathEqualTo(path)).atPriority(1).inScenario("busy-" + ticket)
                .whenScenarioStateIs(Scenario.STARTED).willSetStateTo("up")
                .willReturn(aResponse().withStatus(503).withHeader("Retry-After", "1").withBody("{\"error\": \"unavailable\"}")));
        infra.providers().stubFor(put(urlPathEqualTo(path)).atPriority(1).inScenario("busy-" + ticket)
                .whenScenarioStateIs("up")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody("{\"ticket\": {}}")));

        String key = reply(ticket);
        await().atMost(Duration.ofSeconds(40)).until(() -> notes(key).equals(List.of(Map.of("outcome", "SENT", "state", "POSTED", "attempts", 2))));
        assertThat(notesOn(ticket)).extracting(e -> e.getResponse().getStatus()).containsExactly(503, 200);
        assertThat(notesOn(ticket)).extracting(e -> e.getRequest().getBodyAsString()).containsOnly(notesOn(ticket).get(0).getRequest().getBodyAsString());
        assertThat(jdbc.queryForObject("""
                SELECT t.reason FROM ticket_note t JOIN delivery d ON d.id = t.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ?""", String.class, key)).isNull();
    }

    @Test
    void aNoteTheHelpdeskRefusesIsFailedWithAReasonInTheConsoleAndNotRetried() throws Exception {
        String ticket = newTicketId();
        infra.providers().stubFor(put(urlPathEqualTo("/api/v2/tickets/" + ticket + ".json")).atPriority(1)
                .willReturn(aResponse().withStatus(404).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": \"RecordNotFound\", \"description\": \"Not found\"}")));

        String key = reply(ticket);
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(key).equals(List.of(Map.of("outcome", "SENT", "state", "FAILED", "attempts", 1))));
        String reason = "The helpdesk refused the note for ticket " + ticket
                + ": 404 ticket not found; check that the ticket still exists (deleted or merged tickets take no notes)";
        assertThat(jdbc.queryForObject("""
                SELECT t.reason FROM ticket_note t JOIN delivery d ON d.id = t.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ?""", String.class, key)).isEqualTo(reason);
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> notesOn(ticket).size() == 1);

        HttpResponse<String> console = apiAs(VIEWER, "GET", "/console/ticket-notes?open=true", null);
        assertThat(console.statusCode()).isEqualTo(200);
        assertThat(console.body()).contains(reason, "FAILED");
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notificationId(key), null).body())
                .contains("Ticket note for ticket " + ticket + " FAILED (SENT)", reason);
    }

    @Test
    void aTypeWithoutTicketNotesGetsNone() throws Exception {
        String ticket = newTicketId();
        String key = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket)
                .replace("01JD4S7K9Q2W3E4R5T6Y7U8I9O", "01STATUS" + ticket)).statusCode()).isEqualTo(202);
        awaitMailFor(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));

        ticketNotes.queue();
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> notesOn(ticket).isEmpty());
        assertThat(notes(key)).isEmpty();
    }

    /**
     * A note this instance claimed but had not posted yet (it waited behind its batch's other posts) whose lease ran out,
     * and which another instance then claimed: right before its post, this instance finds it is no longer its own and does
     * not post it; the instance that holds it does, once.
     */
    @Test
    void aNoteClaimedByAnotherInstanceAfterItsLeaseRanOutIsPostedByThatOneOnly() throws Exception {
        String ticket = newTicketId();
        camel.getRouteController().stopRoute("ticket-notes");
        String key;
        List<Long> claimedHere = new java.util.ArrayList<>();   // this test's claims lease other due notes too: given back after
        try {
            key = reply(ticket);
            awaitMailFor(key);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
            ticketNotes.queue();
            List<TicketNotes.Note> first = ticketNotes.claim();
            first.forEach(note -> claimedHere.add(note.id()));
            TicketNotes.Note mine = ours(first, key);
            jdbc.update("UPDATE ticket_note SET next_attempt_at = now() WHERE id = ?", mine.id());   // its lease ran out
            List<TicketNotes.Note> second = ticketNotes.claim();
            second.forEach(note -> claimedHere.add(note.id()));
            TicketNotes.Note theirs = ours(second, key);

            assertThat(ticketNotes.stillPending(exchangeWith(mine))).as("the first claimer, right before its post").isFalse();
            assertThat(ticketNotes.stillPending(exchangeWith(theirs))).as("the instance that holds it now").isTrue();
        } finally {
            // Given back unposted (this test posts nothing itself): the route then posts it.
            jdbc.update(con -> {
                var statement = con.prepareStatement("UPDATE ticket_note SET next_attempt_at = now(), post_started_at = NULL"
                        + " WHERE state = 'PENDING' AND id = ANY(?)");
                statement.setArray(1, con.createArrayOf("bigint", claimedHere.toArray()));
                return statement;
            });
            camel.getRouteController().startRoute("ticket-notes");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(key).equals(List.of(Map.of("outcome", "SENT", "state", "POSTED", "attempts", 1))));
        assertThat(notesOn(ticket)).hasSize(1);
    }

    /**
     * A note whose post went out and whose outcome was never recorded (its instance stopped right after the PUT, or lost the
     * database for longer than the lease): another instance used to claim it when the lease ran out and post it again, a
     * second copy on the ticket. It is FAILED for a person to check instead, and not posted.
     */
    @Test
    void aNoteWhosePostWasCutOffIsFailedForAPersonNotPostedAgain() throws Exception {
        String ticket = newTicketId();
        camel.getRouteController().stopRoute("ticket-notes");
        String key;
        List<Long> claimedHere = new java.util.ArrayList<>();
        try {
            key = reply(ticket);
            awaitMailFor(key);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
            ticketNotes.queue();
            List<TicketNotes.Note> claimed = ticketNotes.claim();
            claimed.forEach(note -> claimedHere.add(note.id()));
            TicketNotes.Note mine = ours(claimed, key);
            assertThat(ticketNotes.stillPending(exchangeWith(mine))).as("right before the PUT").isTrue();
            // The PUT went out; the instance stopped before it recorded the answer. Its lease runs out.
            jdbc.update("UPDATE ticket_note SET next_attempt_at = now() WHERE id = ?", mine.id());
            claimedHere.remove(mine.id());
        } finally {
            jdbc.update(con -> {
                var statement = con.prepareStatement("UPDATE ticket_note SET next_attempt_at = now() WHERE state = 'PENDING' AND id = ANY(?)");
                statement.setArray(1, con.createArrayOf("bigint", claimedHere.toArray()));
                return statement;
            });
            camel.getRouteController().startRoute("ticket-notes");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> notes(key).equals(List.of(Map.of("outcome", "SENT", "state", "FAILED", "attempts", 0))));
        assertThat(jdbc.queryForObject("""
                SELECT t.reason FROM ticket_note t JOIN delivery d ON d.id = t.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key = ?""", String.class, key))
                .isEqualTo("Herald was posting this note to ticket " + ticket + " when it stopped (or lost its database) and did not learn"
                        + " whether the helpdesk took it; it is not posted again, which could put a second copy on the ticket. Check the"
                        + " ticket and add the note by hand if it is missing");
        assertThat(notesOn(ticket)).as("not posted again").isEmpty();
    }

    private TicketNotes.Note ours(List<TicketNotes.Note> claimed, String key) {
        long delivery = ((Number) delivery(key, "email").get("id")).longValue();
        return claimed.stream().filter(note -> note.deliveryId() == delivery).findFirst().orElseThrow();
    }

    private org.apache.camel.Exchange exchangeWith(TicketNotes.Note note) {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
        exchange.getMessage().setBody(note);
        return exchange;
    }

    /** An agent's public reply on the ticket, from the helpdesk's webhook (notes on); its notification key. */
    private String reply(String ticket) throws Exception {
        String event = Samples.supportEvent("ticket.comment_added.json", ticket).replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01NOTES" + ticket);
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);
        return "support:agent_replied:" + ticket + ":41000000000555";
    }

    /** The notes the helpdesk sandbox received for a ticket, oldest first. */
    private List<ServeEvent> notesOn(String ticket) {
        return infra.providers().getAllServeEvents().stream()
                .filter(e -> e.getRequest().getMethod().getName().equals("PUT"))
                .filter(e -> e.getRequest().getUrl().equals("/api/v2/tickets/" + ticket + ".json"))
                .sorted((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()))
                .toList();
    }

    /** The ticket_note rows of a notification's deliveries: outcome, state, attempts. */
    private List<Map<String, Object>> notes(String key) {
        return jdbc.queryForList("""
                SELECT t.outcome, t.state, t.attempts FROM ticket_note t JOIN delivery d ON d.id = t.delivery_id
                JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? ORDER BY t.id""", key);
    }

    private long notificationId(String key) {
        return jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
    }

}
