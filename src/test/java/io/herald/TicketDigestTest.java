package io.herald;

import static io.herald.testsupport.OwnHeraldClient.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.FormatStyle;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herald.dispatch.DispatchPlanner;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.MovableClock;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Customer digests (issue 14 point 6) on the embedded stack, with the shipped catalog: support.ticket_status_changed has a
 * digest window of two minutes by ticket. The ticket updates come in through the signed support webhook; time passes only when the test moves
 * Herald's clock (MovableClock, which db-scheduler reads too), so the window closes without the test sleeping. What is
 * checked is what the customer gets (the mails in the SMTP server) and what the ledger shows for each update.
 *
 * <p>Its own Herald (testsupport.OwnHerald: its own database, topics and group), so moving its clock fires only its sends.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
@Import(TicketDigestTest.MovableTime.class)
class TicketDigestTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TYPE = "support.ticket_status_changed";
    private static final Duration PAST_THE_WINDOW = Duration.ofMinutes(2).plusSeconds(1);
    private static final List<String> STATUSES = List.of("OPEN", "PENDING", "ON_HOLD", "OPEN", "PENDING", "OPEN", "PENDING", "ON_HOLD",
            "OPEN", "SOLVED");
    private static final AtomicInteger TICKETS = new AtomicInteger(700_000_000 + (int) (System.currentTimeMillis() % 100_000_000));
    private static final ZoneId LONDON = ZoneId.of("Europe/London");

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MovableClock clock;
    @Autowired
    DispatchPlanner dispatchPlanner;
    @Autowired
    CamelContext camel;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @TestConfiguration
    static class MovableTime {
        @Bean
        @Primary
        MovableClock movableClock() {
            return new MovableClock();
        }
    }

    @DynamicPropertySource
    static void ownHeraldWithTicketDigests(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "ticket-digest-test");
        registry.add("herald.catalog", () -> "config/catalog.yaml");   // as shipped: support.ticket_status_changed digest {window: PT2M, key: ticketId}
        registry.add("herald.scheduling.poll-interval", () -> "PT0.5S");
        registry.add("herald.mail.rate-per-second", () -> "1000");
    }

    @Test
    void tenUpdatesOfOneTicketWithinTheWindowMakeOneMailListingTheTenInOrderWhenTheWindowCloses() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(120);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            keys.add(postUpdate(ticket, STATUSES.get(i), i == 0 ? "NEW" : STATUSES.get(i - 1), first.plusSeconds(10L * i)));
        }
        awaitPlaced(keys);

        // Nothing reached the customer yet; the ledger shows one notification waiting for the window's end and nine carried by it.
        assertThat(mailsForTicket(ticket)).isEmpty();
        long opener = openerOf(ticket);
        for (String key : keys) {
            Map<String, Object> email = herald.delivery(key, "email");
            if (herald.notificationId(key) == opener) {
                assertThat(email.get("state")).isEqualTo("SCHEDULED");
                assertThat((String) email.get("reason")).contains("digest window PT2M for ticketId " + ticket);
            } else {
                assertThat(email.get("state")).isEqualTo("DIGESTED");
                assertThat(lastAttempt(key, "email")).containsEntry("outcome", "DIGESTED");
                assertThat((String) lastAttempt(key, "email").get("reason")).startsWith("sent in the digest of notification " + opener + " (ticketId " + ticket);
                assertThat(herald.delivery(key, "in_app").get("state")).isEqualTo("DIGESTED");
            }
        }

        clock.advance(PAST_THE_WINDOW);

        MimeMessage mail = awaitOneMailForTicket(ticket);
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        assertThat(mail.getSubject()).isEqualTo("Your request #" + ticket + ": 10 updates, now Solved");
        String body = textOf(mail);
        assertThat(body).contains("Your support request #" + ticket + " \"Printer error E-42 after update\" was updated 10 times:");
        for (int i = 0; i < 10; i++) {
            assertThat(body).contains((i + 1) + ". " + londonTime(first.plusSeconds(10L * i)) + ": " + label(STATUSES.get(i)));
        }
        assertThat(body.indexOf("1. ")).isLessThan(body.indexOf("2. "));
        assertThat(body.indexOf("9. ")).isLessThan(body.indexOf("10. "));
        assertThat(body).contains("It is now Solved.").doesNotContain("changed from").doesNotContain(first.toString().substring(0, 10) + "T");

        // The ledger: the opening notification's email and in-app message are the one message sent; each update stays
        // its own notification, its deliveries carried by that message.
        Map<String, Object> sent = await().atMost(Duration.ofSeconds(10)).until(() -> deliveryOf(opener, "email"), d -> "SENT".equals(d.get("state")));
        assertThat(sent.get("subject")).isEqualTo("Your request #" + ticket + ": 10 updates, now Solved");
        assertThat(await().atMost(Duration.ofSeconds(10)).until(() -> deliveryOf(opener, "in_app"), d -> "SENT".equals(d.get("state"))).get("subject"))
                .isEqualTo("Request #" + ticket + ": 10 updates, now Solved");
        assertThat(jdbc.queryForList("SELECT a.outcome FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " WHERE d.notification_id = ? AND d.channel = 'email' ORDER BY a.id", String.class, opener)).containsSubsequence("SCHEDULED", "FIRED", "SENT");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ANY(?) AND d.state = 'DIGESTED'", Integer.class, (Object) keys.toArray(String[]::new))).isEqualTo(18);
        assertThat(mailsForTicket(ticket)).hasSize(1);

        // What an operator reads on an update's page (GET /api/notifications/{id}): which notification's message carried it.
        long joiner = herald.notificationId(keys.stream().filter(k -> herald.notificationId(k) != opener).findFirst().orElseThrow());
        JsonNode page = operatorGet("/api/notifications/" + joiner);
        assertThat(page.get("deliveries").findValuesAsText("state")).containsOnly("DIGESTED");
        assertThat(page.get("timeline").toString()).contains("\"what\":\"DIGESTED\"")
                .contains("sent in the digest of notification " + opener + " (ticketId " + ticket);
        JsonNode carrier = operatorGet("/api/notifications/" + opener);
        assertThat(carrier.get("timeline").toString()).contains("SCHEDULED").contains("FIRED").contains("its scheduled time");
    }

    @Test
    void anUpdateAfterTheWindowClosedOpensANewDigestAndTwoTicketsMakeTwoDigests() throws Exception {
        String ticket = newTicket();
        String other = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60);
        List<String> keys = new ArrayList<>();
        keys.add(postUpdate(ticket, "OPEN", "NEW", first));
        keys.add(postUpdate(other, "OPEN", "NEW", first.plusSeconds(1)));
        keys.add(postUpdate(ticket, "PENDING", "OPEN", first.plusSeconds(2)));
        keys.add(postUpdate(other, "SOLVED", "OPEN", first.plusSeconds(3)));
        keys.add(postUpdate(ticket, "SOLVED", "PENDING", first.plusSeconds(4)));
        awaitPlaced(keys);
        assertThat(openerOf(ticket)).isNotEqualTo(openerOf(other));

        clock.advance(PAST_THE_WINDOW);

        // Two tickets, two digests: one mail each, listing that ticket's updates only.
        assertThat(awaitOneMailForTicket(ticket).getSubject()).isEqualTo("Your request #" + ticket + ": 3 updates, now Solved");
        MimeMessage otherMail = awaitOneMailForTicket(other);
        assertThat(otherMail.getSubject()).isEqualTo("Your request #" + other + ": 2 updates, now Solved");
        assertThat(textOf(otherMail)).contains("was updated 2 times").doesNotContain("3. ");

        // The window is over: the next update of the ticket opens a new digest, sent alone in the usual form when it closes.
        String late = postUpdate(ticket, "OPEN", "SOLVED", first.plusSeconds(90));
        awaitPlaced(List.of(late));
        assertThat(herald.delivery(late, "email").get("state")).isEqualTo("SCHEDULED");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_digest WHERE digest_key = ?", Integer.class, ticket)).isEqualTo(2);
        assertThat(mailsForTicket(ticket)).hasSize(1);

        clock.advance(PAST_THE_WINDOW);

        await().atMost(Duration.ofSeconds(30)).until(() -> mailsForTicket(ticket).size() == 2);
        MimeMessage second = mailsForTicket(ticket).stream().filter(m -> !subject(m).contains("updates")).findFirst().orElseThrow();
        assertThat(second.getSubject()).isEqualTo("Your request #" + ticket + " is now Open");
        assertThat(textOf(second)).contains("changed from Solved to Open.").doesNotContain("was updated");
    }

    @Test
    void theSameUpdatesDispatchedAgainBeforeOrAfterTheDigestWentOutAddNothingAndSendNothingMore() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(30);
        List<String> keys = List.of(postUpdate(ticket, "OPEN", "NEW", first), postUpdate(ticket, "PENDING", "OPEN", first.plusSeconds(5)),
                postUpdate(ticket, "SOLVED", "PENDING", first.plusSeconds(9)));
        awaitPlaced(keys);

        // The consumer restarted before committing: the same batch (all three, the opening one included) is dispatched again.
        dispatchAgain(keys);
        assertThat(members(ticket)).isEqualTo(3);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_digest WHERE digest_key = ?", Integer.class, ticket)).isEqualTo(1);

        clock.advance(PAST_THE_WINDOW);
        MimeMessage mail = awaitOneMailForTicket(ticket);
        assertThat(mail.getSubject()).isEqualTo("Your request #" + ticket + ": 3 updates, now Solved");
        assertThat(textOf(mail)).contains("3. ").doesNotContain("4. ");
        long opener = openerOf(ticket);
        await().atMost(Duration.ofSeconds(10)).until(() -> "SENT".equals(deliveryOf(opener, "email").get("state")));

        // ... and again after the digest went out, with the window long over: no new digest, no second mail.
        dispatchAgain(keys);
        clock.advance(PAST_THE_WINDOW);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_digest WHERE digest_key = ?", Integer.class, ticket)).isEqualTo(1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM scheduled_send s JOIN customer_digest d ON d.opened_by = s.notification_id"
                + " WHERE d.digest_key = ? AND s.state = 'SCHEDULED'", Integer.class, ticket)).isZero();
        assertThat(mailsForTicket(ticket)).hasSize(1);

        // Only an operator's explicit resend sends it again, and the copy is the digest too.
        long emailId = ((Number) deliveryOf(opener, "email").get("id")).longValue();
        HttpResponse<String> resend = herald.as(OPERATOR, "POST", "/api/deliveries/" + emailId + "/resend",
                "{\"comment\": \"the customer says it never arrived\", \"confirm\": true}");
        assertThat(resend.statusCode()).as(resend.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsForTicket(ticket).size() == 2);
        assertThat(mailsForTicket(ticket)).extracting(TicketDigestTest::subject).containsOnly("Your request #" + ticket + ": 3 updates, now Solved");
        assertThat(textOf(mailsForTicket(ticket).get(1))).contains("3. ").contains("It is now Solved.");
    }

    @Test
    void twoFirstUpdatesDispatchedAtOnceOnTwoInstancesOpenOneDigest() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(20);
        // Two updates admitted to the ledger, then dispatched at the same moment by two consumers (two instances).
        List<String> keys = List.of(admit(ticket, "PENDING", "OPEN", first), admit(ticket, "SOLVED", "PENDING", first.plusSeconds(1)));
        CyclicBarrier together = new CyclicBarrier(2);
        ExecutorService instances = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> dispatched = new ArrayList<>();
            for (String key : keys) {
                dispatched.add(instances.submit(() -> {
                    together.await();
                    dispatchPlanner.dispatch(batchOf(List.of(canonical(key))));
                    return null;
                }));
            }
            for (Future<?> one : dispatched) {
                one.get();
            }
        } finally {
            instances.shutdownNow();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_digest WHERE digest_key = ?", Integer.class, ticket)).isEqualTo(1);
        assertThat(members(ticket)).isEqualTo(2);
        // What makes it one: the database allows one open digest per type, customer and key.
        assertThatThrownBy(() -> jdbc.update("""
                INSERT INTO customer_digest (type, customer_id, digest_key, opened_by, closes_at)
                SELECT d.type, d.customer_id, d.digest_key, m.notification_id, d.closes_at
                FROM customer_digest d JOIN customer_digest_member m ON m.digest_id = d.id AND m.notification_id <> d.opened_by
                WHERE d.digest_key = ? AND d.open""", ticket)).isInstanceOf(DuplicateKeyException.class)
                .hasMessageContaining("customer_digest_one_open");

        clock.advance(PAST_THE_WINDOW);
        assertThat(awaitOneMailForTicket(ticket).getSubject()).isEqualTo("Your request #" + ticket + ": 2 updates, now Solved");
    }

    /**
     * Zendesk does not promise order: a status that occurred earlier may arrive later. Within the window it is listed in the
     * digest in its place, which still ends with the newest; after the newest was told, it is cancelled, not sent (it would
     * tell the customer an older status as the current one). A newer one afterwards opens a digest as usual.
     */
    @Test
    void anOlderStatusArrivingLateIsListedInItsPlaceWithinTheWindowAndCancelledOnceTheNewerOneWasTold() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60);
        String solved = postUpdate(ticket, "SOLVED", "PENDING", first.plusSeconds(30));
        awaitPlaced(List.of(solved));
        String open = postUpdate(ticket, "OPEN", "NEW", first);   // older, arrives second, within the window
        awaitPlaced(List.of(solved, open));

        clock.advance(PAST_THE_WINDOW);
        MimeMessage mail = awaitOneMailForTicket(ticket);
        assertThat(mail.getSubject()).isEqualTo("Your request #" + ticket + ": 2 updates, now Solved");
        String body = textOf(mail);
        assertThat(body).contains("1. " + londonTime(first) + ": Open").contains("2. " + londonTime(first.plusSeconds(30)) + ": Solved")
                .contains("It is now Solved.");
        long opener = openerOf(ticket);
        await().atMost(Duration.ofSeconds(10)).until(() -> "SENT".equals(deliveryOf(opener, "email").get("state")));

        // Older than Solved, arriving after Solved was told: cancelled with the reason, on email and in-app; nothing sent.
        String pending = postUpdate(ticket, "PENDING", "OPEN", first.plusSeconds(10));
        Map<String, Object> cancelled = await().atMost(Duration.ofSeconds(30)).until(() -> herald.delivery(pending, "email"),
                d -> d != null && "CANCELLED".equals(d.get("state")));
        assertThat((String) cancelled.get("reason")).startsWith("superseded: a newer support.ticket_status_changed for ticket " + ticket
                + " (occurred ").contains("already told to the customer when this support.ticket_status_changed (occurred ")
                .endsWith("makes it pointless: cancelled, not sent (config/catalog.yaml: notifications.support.ticket_status_changed.cancelled-by)");
        assertThat(herald.delivery(pending, "in_app").get("state")).isEqualTo("CANCELLED");
        clock.advance(PAST_THE_WINDOW);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer_digest WHERE digest_key = ?", Integer.class, ticket)).isEqualTo(1);

        // Reopened later: newer than everything told, so it opens a new digest and reaches the customer.
        String reopened = postUpdate(ticket, "OPEN", "SOLVED", first.plusSeconds(90));
        awaitPlaced(List.of(reopened));
        clock.advance(PAST_THE_WINDOW);
        await().atMost(Duration.ofSeconds(30)).until(() -> mailsForTicket(ticket).size() == 2);
        assertThat(mailsForTicket(ticket)).extracting(TicketDigestTest::subject)
                .containsExactlyInAnyOrder("Your request #" + ticket + ": 2 updates, now Solved", "Your request #" + ticket + " is now Open");
    }

    /**
     * An older digest's message that an email outage parked (its timer fired, the provider refused it) would reach the
     * customer after a newer status is told: the newer status withdraws it, with the reason, as a newer refund total does.
     */
    @Test
    void aNewerStatusWithdrawsAnOlderDigestMessageThatAnOutageParked() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(60);
        String pending = postUpdate(ticket, "PENDING", "OPEN", first);
        awaitPlaced(List.of(pending));
        long opener = openerOf(ticket);
        // As an outage leaves it: the timer fired, and the email was parked for a later attempt (not yet due).
        jdbc.update("UPDATE scheduled_send SET state = 'FIRED' WHERE notification_id = ?", opener);
        jdbc.update("UPDATE delivery SET state = 'PARKED', reason = 'email provider unavailable; parked', next_attempt_at = now() + interval '1 hour'"
                + " WHERE notification_id = ? AND channel = 'email'", opener);

        String solved = postUpdate(ticket, "SOLVED", "PENDING", first.plusSeconds(30));
        awaitPlaced(List.of(solved));
        Map<String, Object> withdrawn = await().atMost(Duration.ofSeconds(30)).until(() -> deliveryOf(opener, "email"),
                d -> "CANCELLED".equals(d.get("state")));
        assertThat((String) withdrawn.get("reason")).startsWith("superseded: a newer support.ticket_status_changed for ticket " + ticket)
                .contains("makes the waiting older one pointless");
        assertThat(herald.delivery(solved, "email").get("state")).isEqualTo("SCHEDULED");
    }

    @Test
    void aGermanCustomersDigestIsInGermanWithTheTimesInBerlin() throws Exception {
        String ticket = newTicket();
        Instant first = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(40);
        List<String> keys = List.of(postUpdate(ticket, "OPEN", "NEW", first, "cus_NffrFeUfNV2Hib"),
                postUpdate(ticket, "SOLVED", "OPEN", first.plusSeconds(30), "cus_NffrFeUfNV2Hib"));
        awaitPlaced(keys);

        clock.advance(PAST_THE_WINDOW);

        MimeMessage mail = awaitOneMailForTicket(ticket);
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("lukas.mueller@example.de");
        assertThat(mail.getSubject()).isEqualTo("Ihre Anfrage #" + ticket + ": 2 Änderungen, jetzt „Gelöst“");
        String body = textOf(mail);
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        Locale german = Locale.forLanguageTag("de-DE");
        String firstTime = DateTimeFormatter.ofLocalizedDate(FormatStyle.FULL).withLocale(german).format(first.atZone(berlin)) + ", "
                + DateTimeFormatter.ofPattern("HH:mm zzz", german).format(first.atZone(berlin));
        assertThat(body).contains("wurde 2-mal geändert:").contains("1. " + firstTime + ": Status „Offen“").contains("Der Status ist jetzt „Gelöst“.");
    }

    // --- helpers ---

    /** The operator API as the local profile's demo operator. */
    private JsonNode operatorGet(String path) {
        HttpResponse<String> response = herald.as(OPERATOR, "GET", path, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return OwnHeraldClient.json(response);
    }

    private String newTicket() {
        return String.valueOf(TICKETS.incrementAndGet());
    }

    private String postUpdate(String ticket, String status, String previous, Instant at) throws Exception {
        return postUpdate(ticket, status, previous, at, null);
    }

    /** One signed ticket.status_changed webhook (Jenny Rosen's ticket, or the given customer's); returns its idempotency key. */
    private String postUpdate(String ticket, String status, String previous, Instant at, String customerId) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(Samples.supportEvent("ticket.status_changed.json", ticket));
        event.put("id", "01DIGEST" + ticket + at.getEpochSecond() + status);
        event.put("time", at.toString());
        ((ObjectNode) event.get("event")).put("current", status).put("previous", previous);
        if (customerId != null) {
            // A ticket stamped with the Herald customer id and no Zendesk requester: the external id names the customer.
            ((ObjectNode) event.get("detail")).put("external_id", customerId).remove("requester_id");
        }
        herald.postSupport(JSON.writeValueAsString(event));
        return "support:ticket_status_changed:" + ticket + ":" + status + ":" + at;
    }

    /** Admitted to the ledger as intake admits it (RECEIVED, its canonical stored), not yet dispatched. */
    private String admit(String ticket, String status, String previous, Instant at) throws Exception {
        String key = "support:ticket_status_changed:" + ticket + ":" + status + ":" + at;
        ObjectNode canonical = (ObjectNode) JSON.readTree(Files.readString(Path.of("src/test/resources/golden/support/ticket.status_changed.canonical.json")));
        canonical.put("idempotencyKey", key).put("sourceEventId", "01ADMIT" + ticket + status).put("occurredAt", at.toString());
        ((ObjectNode) canonical.get("refs")).put("ticketId", ticket);
        ((ObjectNode) canonical.get("data")).put("ticketId", ticket).put("status", label(status)).put("previousStatus", label(previous));
        canonical.remove("customerLink");
        jdbc.update("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, occurred_at)
                VALUES (?, 'support', ?, ?, ?, 'RECEIVED', ?::jsonb, ?)""", key, canonical.get("sourceEventId").asText(), TYPE,
                canonical.get("customerId").asText(), JSON.writeValueAsString(canonical), java.sql.Timestamp.from(at));
        return key;
    }

    private void dispatchAgain(List<String> keys) throws Exception {
        dispatchPlanner.dispatch(batchOf(keys.stream().map(this::canonical).toList()));
    }

    private Exchange batchOf(List<String> canonicals) {
        List<Exchange> records = new ArrayList<>();
        for (String canonical : canonicals) {
            Exchange record = new DefaultExchange(camel);
            record.getMessage().setBody(canonical);
            records.add(record);
        }
        Exchange batch = new DefaultExchange(camel);
        batch.getMessage().setBody(records);
        return batch;
    }

    private String canonical(String key) {
        return jdbc.queryForObject("SELECT canonical::text FROM notification WHERE idempotency_key = ?", String.class, key);
    }

    /** Every update is in a digest: its email either waits for the window (the one that opened it) or is carried by it. */
    private void awaitPlaced(List<String> keys) {
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("""
                SELECT count(*) FROM notification n JOIN customer_digest_member m ON m.notification_id = n.id
                JOIN delivery d ON d.notification_id = n.id AND d.channel = 'email' AND d.state IN ('SCHEDULED', 'DIGESTED')
                WHERE n.idempotency_key = ANY(?)""", Integer.class, (Object) keys.toArray(String[]::new)) == keys.size());
    }

    private long openerOf(String ticket) {
        return jdbc.queryForObject("SELECT opened_by FROM customer_digest WHERE digest_key = ? ORDER BY id LIMIT 1", Long.class, ticket);
    }

    private int members(String ticket) {
        return jdbc.queryForObject("SELECT count(*) FROM customer_digest_member m JOIN customer_digest d ON d.id = m.digest_id"
                + " WHERE d.digest_key = ?", Integer.class, ticket);
    }

    private Map<String, Object> deliveryOf(long notificationId, String channel) {
        return jdbc.queryForMap("SELECT d.*, c.subject, c.rendered_body FROM delivery d LEFT JOIN delivery_content c ON c.delivery_id = d.id"
                + " WHERE d.notification_id = ? AND d.channel = ?", notificationId, channel);
    }

    private Map<String, Object> lastAttempt(String key, String channel) {
        return jdbc.queryForMap("""
                SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
                JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ? ORDER BY a.id DESC LIMIT 1""",
                key, channel);
    }

    private MimeMessage awaitOneMailForTicket(String ticket) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsForTicket(ticket).isEmpty());
        List<MimeMessage> mails = mailsForTicket(ticket);
        assertThat(mails).hasSize(1);
        return mails.get(0);
    }

    /** The mails Herald sent for this ticket's notifications (by their X-Herald-Idempotency-Key header). */
    private List<MimeMessage> mailsForTicket(String ticket) {
        return herald.mailsForKeysStartingWith("support:ticket_status_changed:" + ticket + ":");
    }

    /** The mail's text part as the customer's mail program shows it (decoded). */
    private static String textOf(MimeMessage mail) throws Exception {
        Object content = mail.getContent();
        String text = content instanceof Multipart parts ? parts.getBodyPart(0).getContent().toString() : content.toString();
        return text.replace("\r\n", "\n");
    }

    private static String subject(MimeMessage mail) {
        try {
            return mail.getSubject();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** As the support mapping labels a status: SOLVED is "Solved", ON_HOLD "On hold". */
    private static String label(String status) {
        return status.charAt(0) + status.substring(1).toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    /** An event's time as the en-GB customer in Europe/London reads it. */
    private static String londonTime(Instant at) {
        Locale british = Locale.forLanguageTag("en-GB");
        return DateTimeFormatter.ofLocalizedDate(FormatStyle.FULL).withLocale(british).format(at.atZone(LONDON)) + ", "
                + DateTimeFormatter.ofPattern("HH:mm zzz", british).format(at.atZone(LONDON));
    }
}
