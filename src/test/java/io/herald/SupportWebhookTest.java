package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.icegreen.greenmail.util.GreenMailUtil;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

/** The first path end to end: signed ticket webhook -> Kafka -> DataSonnet -> customer -> SMTP, in the ledger. */
class SupportWebhookTest extends HeraldIntegrationTest {

    @Test
    void signedTicketWebhookReachesTheCustomersInboxAndTheLedger() throws Exception {
        String ticket = newTicketId();
        String event = Samples.supportEvent("ticket.status_changed.json", ticket);

        HttpResponse<String> response = postSignedSupport(event);

        assertThat(response.statusCode()).isEqualTo(202);
        // The answer carries no header of Herald's own workings (the Kafka key, the requester's id, was sent back).
        assertThat(response.headers().map().keySet()).noneMatch(name -> name.toLowerCase(java.util.Locale.ROOT).startsWith("kafka"));
        // Matched by its key: a mail of an earlier test in this JVM (a digest, a parked retry, a quiet-hours wait ending) may
        // reach the inbox meanwhile.
        String key = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        MimeMessage mail = awaitMailFor(key);
        assertThat(mailsFor(key)).hasSize(1);
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        assertThat(mail.getSubject()).isEqualTo("Your request #" + ticket + " is now Solved");
        assertThat(GreenMailUtil.getBody(mail))
                .contains("Hello Jenny,")
                .contains("Your support request #" + ticket + " \"Printer error E-42 after update\" changed from Open to Solved.");

        Map<String, Object> row = await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForMap("""
                SELECT n.state AS notification_state, n.type, n.customer_id, d.channel, d.state, d.recipient_masked,
                       c.subject, d.created_at, d.sent_at, d.reason
                FROM notification n JOIN delivery d ON d.notification_id = n.id LEFT JOIN delivery_content c ON c.delivery_id = d.id
                WHERE n.idempotency_key = ? AND d.channel = 'email'""", key),
                r -> "SENT".equals(r.get("state")));
        assertThat(row).containsEntry("notification_state", "ROUTED")
                .containsEntry("type", "support.ticket_status_changed")
                .containsEntry("customer_id", "cus_RkT4aB7cD9eF1g")
                .containsEntry("channel", "email")
                .containsEntry("recipient_masked", "j***@example.org")
                .containsEntry("subject", "Your request #" + ticket + " is now Solved")
                .containsEntry("reason", null);
        assertThat(row.get("created_at")).isNotNull();
        assertThat(row.get("sent_at")).isNotNull();
    }

    @Test
    void aTicketSubjectWithLineBreaksStaysInTheSubjectLineAndAddsNoHeaderOrRecipient() throws Exception {
        String ticket = newTicketId();
        String reply = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01CRLF" + ticket)
                .replace("\"Printer error E-42 after update\"", "\"Printer\\r\\nBcc: thief@evil.test\\r\\nX-Injected: yes\"");
        assertThat(postSignedSupport(reply).statusCode()).isEqualTo(202);

        jakarta.mail.internet.MimeMessage mail = awaitMailFor("support:agent_replied:" + ticket + ":41000000000555");
        assertThat(mail.getSubject()).isEqualTo("New reply on your request #" + ticket + ": Printer Bcc: thief@evil.test X-Injected: yes");
        assertThat(mail.getHeader("X-Injected")).isNull();
        assertThat(mail.getHeader("Bcc")).isNull();
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        assertThat(Arrays.stream(infra.mail().getReceivedMessages()).filter(m -> {
            try {
                return m.getSubject().contains("#" + ticket + ":");
            } catch (jakarta.mail.MessagingException e) {
                throw new IllegalStateException(e);
            }
        })).as("one message, to one recipient").hasSize(1);
    }

    /** A 3,000-character ticket subject: the SMS is cut to Twilio's 1,600 characters in the subject, its own words kept whole. */
    @Test
    void aTicketSubjectTooLongForAnSmsIsShortenedAndTheSmsStillGoesOut() throws Exception {
        String customer = "cus_longsms" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, preferences) VALUES (?, 'Long Subject', ?, '+447700900555',"
                + " '{\"support\": [\"sms\"]}'::jsonb)", customer, customer + "@example.net");
        String ticket = newTicketId();
        String subject = "Printer error E-42 " + "after the update the tray jams again ".repeat(80);
        String reply = Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("\"Printer error E-42 after update\"", "\"" + subject.strip() + "\"");
        assertThat(postSignedSupport(reply).statusCode()).isEqualTo(202);

        String key = "support:agent_replied:" + ticket + ":41000000000555";
        await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> assertThat(delivery(key, "sms")).containsEntry("state", "SENT"));
        List<LoggedRequest> sent = infra.providers().findAll(postRequestedFor(urlPathMatching("/2010-04-01/Accounts/[^/]+/Messages.json"))
                .withHeader("Idempotency-Key", equalTo(key + ":sms")));
        assertThat(sent).hasSize(1);
        String body = URLDecoder.decode(sent.get(0).getBodyAsString().replaceAll(".*(?:^|&)Body=([^&]*).*", "$1"), StandardCharsets.UTF_8);
        assertThat(body.length()).isLessThanOrEqualTo(1600);
        assertThat(body).contains("replied to your request #" + ticket + " \"Printer error E-42 after the update")
                .endsWith("...\": \"Hi Jenny, firmware 4.2.1 fixes E-42. Could you install it and tell us if the error is gone?\"");   // in GSM-7: "…" would make the whole SMS UCS-2
        assertThat(delivery(key, "sms")).containsEntry("reason", null);
    }

    @Test
    void anInternalNoteNeverReachesTheCustomerAndIsRecordedAsIgnored() throws Exception {
        String noteTicket = newTicketId();
        String note = Samples.supportEvent("ticket.comment_added.json", noteTicket)
                .replace("\"is_public\": true", "\"is_public\": false")
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01NOTE" + noteTicket);
        String replyTicket = newTicketId();
        String reply = Samples.supportEvent("ticket.comment_added.json", replyTicket)
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01REPLY" + replyTicket);

        assertThat(postSignedSupport(note).statusCode()).isEqualTo(202);
        assertThat(postSignedSupport(reply).statusCode()).isEqualTo(202);

        // The public reply, sent after the note on the same queue, arrives; the note never does.
        // (Matched by key and subject, not by the inbox's count: an earlier test's mail may arrive meanwhile.)
        assertThat(awaitMailFor("support:agent_replied:" + replyTicket + ":41000000000555").getSubject()).contains("#" + replyTicket);
        assertThat(Arrays.stream(infra.mail().getReceivedMessages()).filter(m -> {
            try {
                return String.valueOf(m.getSubject()).contains("#" + noteTicket);
            } catch (jakarta.mail.MessagingException e) {
                throw new IllegalStateException(e);
            }
        })).as("mail about the internal note's ticket").isEmpty();
        Map<String, Object> ignored = jdbc.queryForMap("SELECT outcome, reason FROM unrouted_event WHERE source_event_id = ?",
                "01NOTE" + noteTicket);
        assertThat(ignored).containsEntry("outcome", "IGNORED")
                .containsEntry("reason", "internal note 41000000000555 on ticket " + noteTicket + " is never sent to a customer");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "01NOTE" + noteTicket)).isZero();
    }

    /**
     * Zendesk closes every solved ticket on its own some days later (its standard automation "Close ticket 4 days after
     * status is set to solved"): the customer, told when it was solved, was mailed again days later "changed from Solved
     * to Closed". That change is recorded as IGNORED with the reason; a ticket closed without being solved is still told.
     */
    @Test
    void aSolvedTicketClosedByZendeskDaysLaterIsNotToldAgainButOneClosedUnsolvedIs() throws Exception {
        String solvedTicket = newTicketId();
        String autoClosed = Samples.supportEvent("ticket.status_changed.json", solvedTicket)
                .replace("01JD4S7K9Q2W3E4R5T6Y7U8I9O", "01AUTOCLOSE" + solvedTicket)
                .replace("\"time\": \"2026-11-21T10:12:44Z\"", "\"time\": \"2026-11-25T10:13:02Z\"")
                .replace("\"actor_id\": \"9000000000001\"", "\"actor_id\": \"-1\"")
                .replace("\"status\": \"SOLVED\"", "\"status\": \"CLOSED\"")
                .replace("{\"current\": \"SOLVED\", \"previous\": \"OPEN\"}", "{\"current\": \"CLOSED\", \"previous\": \"SOLVED\"}");
        assertThat(autoClosed).contains("\"previous\": \"SOLVED\"");
        String closedUnsolvedTicket = newTicketId();
        String closedUnsolved = Samples.supportEvent("ticket.status_changed.json", closedUnsolvedTicket)
                .replace("01JD4S7K9Q2W3E4R5T6Y7U8I9O", "01CLOSED" + closedUnsolvedTicket)
                .replace("\"status\": \"SOLVED\"", "\"status\": \"CLOSED\"")
                .replace("{\"current\": \"SOLVED\", \"previous\": \"OPEN\"}", "{\"current\": \"CLOSED\", \"previous\": \"PENDING\"}");
        assertThat(closedUnsolved).contains("\"previous\": \"PENDING\"");

        assertThat(postSignedSupport(autoClosed).statusCode()).isEqualTo(202);
        assertThat(postSignedSupport(closedUnsolved).statusCode()).isEqualTo(202);

        MimeMessage closed = awaitMailFor("support:ticket_status_changed:" + closedUnsolvedTicket + ":CLOSED:2026-11-21T10:12:44Z");
        assertThat(closed.getSubject()).isEqualTo("Your request #" + closedUnsolvedTicket + " is now Closed");
        assertThat(GreenMailUtil.getBody(closed)).contains("changed from Pending to Closed.");
        Map<String, Object> ignored = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, reason FROM unrouted_event WHERE source_event_id = ?", "01AUTOCLOSE" + solvedTicket), rows -> rows.size() == 1).get(0);
        assertThat(ignored).containsEntry("outcome", "IGNORED")
                .containsEntry("reason", "ticket " + solvedTicket + " was closed after it was solved, as Zendesk closes solved tickets"
                        + " on its own some days later: the customer was told when it was solved, nothing new to tell them");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "01AUTOCLOSE" + solvedTicket)).isZero();
        assertThat(infra.mail().getReceivedMessages()).extracting(MimeMessage::getSubject)
                .containsExactly("Your request #" + closedUnsolvedTicket + " is now Closed");
    }

    /**
     * An event whose time is not a time (as the helpdesk sent it, copied by the mapping) is quarantined as the source's to
     * correct: not "correct the mapping and restart Herald", which sent operators to a mapping that was right.
     */
    @Test
    void anEventTimeThatIsNotATimeIsTheSourcesToCorrect() throws Exception {
        String ticket = newTicketId();
        String event = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("\"time\": \"2026-11-21T10:20:03Z\"", "\"time\": \"yesterday\"")
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01WHEN" + ticket);
        assertThat(event).contains("\"time\": \"yesterday\"");
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);

        Map<String, Object> held = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, step, reason FROM unrouted_event WHERE source_event_id = ?", "01WHEN" + ticket), rows -> rows.size() == 1).get(0);
        assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "validation");
        assertThat((String) held.get("reason")).contains("the event time 'yesterday', as the source sent it, is not a date and time with its"
                + " offset (ISO-8601, such as 2026-11-21T10:12:44Z). Correct the event at its source, then re-drive it")
                .doesNotContain("correct the mapping");
    }

    @Test
    void wrongMissingOrStaleSignatureIsRefusedWith401AndNothingIsSent() throws Exception {
        String refusedTicket = newTicketId();
        String refused = Samples.supportEvent("ticket.status_changed.json", refusedTicket);
        byte[] bytes = refused.getBytes(StandardCharsets.UTF_8);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String stale = Instant.now().minus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.SECONDS).toString();

        HttpResponse<String> wrongSecret = postSupport(refused, now, Signatures.zendesk("not-the-secret", now, bytes));
        HttpResponse<String> missing = postSupport(refused, now, null);
        HttpResponse<String> staleTimestamp = postSupport(refused, stale, Signatures.zendesk(SUPPORT_SECRET, stale, bytes));
        HttpResponse<String> alteredBody = postSupport(refused.replace("SOLVED", "CLOSED"), now, Signatures.zendesk(SUPPORT_SECRET, now, bytes));

        assertThat(wrongSecret.statusCode()).isEqualTo(401);
        assertThat(wrongSecret.body()).contains("signature does not match");
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.body()).contains("missing X-Zendesk-Webhook-Signature header");
        assertThat(staleTimestamp.statusCode()).isEqualTo(401);
        assertThat(staleTimestamp.body()).contains("stale signature");
        assertThat(alteredBody.statusCode()).isEqualTo(401);

        // Every refused attempt is recorded, with its reason and the body as received.
        assertThat(jdbc.queryForList("SELECT reason FROM inbound_rejection WHERE source = 'support' AND http_status = 401 AND body_excerpt LIKE ?",
                String.class, "%\"id\": \"" + refusedTicket + "\"%"))
                .hasSize(4)
                .anySatisfy(reason -> assertThat(reason).contains("stale signature"));
        // With where each came from, the "From" column of the console's Rejected webhooks page: it was empty for every
        // refusal a webhook route made (signature, malformed JSON), as if the sender could not be told.
        assertThat(jdbc.queryForList("SELECT remote_addr FROM inbound_rejection WHERE source = 'support' AND http_status = 401"
                + " AND body_excerpt LIKE ?", String.class, "%\"id\": \"" + refusedTicket + "\"%"))
                .hasSize(4).allSatisfy(from -> assertThat(from).isIn("127.0.0.1", "0:0:0:0:0:0:0:1"));

        // A good event sent afterwards is delivered; it is the only mail, and the refused ticket has no notification.
        String goodTicket = newTicketId();
        assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", goodTicket)).statusCode()).isEqualTo(202);
        // (Matched by key and subject, not by the whole inbox: an earlier test's mail may arrive meanwhile.)
        assertThat(awaitMailFor("support:ticket_status_changed:" + goodTicket + ":SOLVED:2026-11-21T10:12:44Z").getSubject())
                .isEqualTo("Your request #" + goodTicket + " is now Solved");
        assertThat(infra.mail().getReceivedMessages()).extracting(m -> String.valueOf(m.getSubject()))
                .noneMatch(subject -> subject.contains("#" + refusedTicket));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Integer.class,
                "support:%:" + refusedTicket + ":%")).isZero();
    }
}
