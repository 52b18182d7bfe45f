package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Year;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import com.icegreen.greenmail.util.GreenMailUtil;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ingest.CrmOutboxRows;
import io.herald.ingest.MappingReloads;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** The CRM outbox, polled with camel-sql, to the customer's inbox and the customer directory. */
class CrmSourceTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    @Autowired
    MappingReloads reloads;

    @Autowired
    ProducerTemplate producer;

    @Autowired
    DataSource dataSource;

    @Autowired
    CrmOutboxRows outboxRows;

    @Test
    void anOrderAndAnAppointmentFromTheOutboxReachTheirCustomers() throws Exception {
        String unique = newTicketId();
        long order = outbox("order", "order.confirmed", order(unique, "cus_RkT4aB7cD9eF1g"));
        // An appointment still ahead (one already started gets no confirmation: AppointmentRemindersTest), whatever the
        // date the suite runs on: a 26 November that is a Tuesday, in a year after this one (2030, then 2041, ...), so what
        // the customer reads is the same words each time but the year.
        int year = Year.now(ZoneOffset.UTC).getValue() + 1;
        while (LocalDate.of(year, 11, 26).getDayOfWeek() != DayOfWeek.TUESDAY) {
            year++;
        }
        String startsAt = year + "-11-26T14:30:00-05:00";
        long appointment = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json")
                .replace("APT-55812", "APT-" + unique).replace("2026-11-24T14:30:00-05:00", startsAt));

        MimeMessage orderMail = awaitMailFor("crm:order.confirmed:ORD-" + unique);
        assertThat(orderMail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        // Jenny (en-GB): amounts and the promised date written her way.
        assertThat(orderMail.getSubject()).isEqualTo("Order ORD-" + unique + " confirmed: €129.90");
        assertThat(((Multipart) orderMail.getContent()).getBodyPart(0).getContent().toString()).contains(
                "- 1 x Laser printer 4410 at €119.90: €119.90", "Total: €129.90",
                "It will be with you by Wednesday, 25 November 2026 (standard shipping).");

        // 14:30-05:00 for a customer in America/New_York with locale en-US, written in their time and language.
        MimeMessage appointmentMail = awaitMailFor("crm:appointment.scheduled:APT-" + unique + ":crm-outbox-" + appointment);
        assertThat(appointmentMail.getAllRecipients()).extracting(Object::toString).containsExactly("amara.okafor@example.com");
        assertThat(appointmentMail.getSubject()).isEqualTo("Your Onboarding call is booked for Tuesday, November 26, " + year + ", 2:30 PM EST");
        assertThat(GreenMailUtil.getBody(appointmentMail)).contains("(45 minutes) with Sam Okafor", "https://meet.example.com/apt-55812");

        await().atMost(Duration.ofSeconds(10)).until(() -> processed(order) && processed(appointment));
    }

    /** An outbox whose payload column is bytea, json or jsonb (not text) is read as its JSON, exactly as written. */
    @Test
    void aPayloadColumnOfAnotherSqlTypeIsReadAsItsJsonExactly() throws Exception {
        String json = "{\"orderNumber\": \"A-1\", \"totalAmount\": 129.90, \"tiny\": 1e-400, \"huge\": 1e400}";
        for (String column : List.of("convert_to(?, 'UTF8')", "CAST(? AS json)", "CAST(? AS jsonb)", "?")) {
            Map<String, Object> row = new java.util.HashMap<>(jdbc.queryForMap("SELECT 7 AS id, 'order.confirmed' AS event_type, "
                    + column + " AS payload, now() AS created_at", json));
            org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
            exchange.getMessage().setBody(row);
            outboxRows.prepare(exchange);
            JsonNode queued = new ObjectMapper().readTree(exchange.getMessage().getBody(String.class));
            assertThat(exchange.getProperty(CrmOutboxRows.REFUSAL)).as(column).isNull();
            assertThat(queued.path("payload").path("orderNumber").asText()).as(column).isEqualTo("A-1");
            assertThat(queued.path("payload").path("totalAmount").decimalValue()).as(column).isEqualByComparingTo("129.90");
            assertThat(queued.path("payload").path("huge").isTextual()).as(column + ": 1e400 stays a number").isFalse();
        }
    }

    /** The claim reads a payload's size and beginning in SQL, whatever the column's type, without fetching the payload. */
    @Test
    void aPayloadsSizeAndBeginningAreReadInSqlForEveryColumnType() {
        String json = "{\"note\": \"Grüße\"}";
        for (String column : List.of("convert_to(?, 'UTF8')", "CAST(? AS json)", "CAST(? AS text)")) {
            Map<String, Object> read = jdbc.queryForMap("SELECT herald_crm_payload_bytes(p) AS bytes, herald_crm_payload_start(p, 11)"
                    + " AS start FROM (SELECT " + column + " AS p) AS t", json);
            Object start = read.get("start");
            assertThat(read.get("bytes")).as(column).isEqualTo(19L);
            assertThat(start instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : start)
                    .as(column).isEqualTo("{\"note\": \"G");
        }
        // jsonb is read as PostgreSQL prints it (what Herald queues): its size is that text's.
        assertThat(jdbc.queryForObject("SELECT herald_crm_payload_bytes(CAST(? AS jsonb))", Long.class, json)).isEqualTo(19L);
    }

    /**
     * A CRM outbox whose created_at is a timestamp without time zone: its times were read in Herald's own JVM zone, so the
     * same row had another time (and another order against other sources) on a machine in Tokyo than in the UTC container.
     * Now read as UTC whatever the JVM's zone (said at startup by CrmOutboxCheck); a time with its offset is read as it is.
     */
    @Test
    void aCreatedAtWithoutTimeZoneIsReadAsUtcWhateverHeraldsOwnZone() throws Exception {
        String claim = camel.getEndpoints().stream().filter(e -> e instanceof org.apache.camel.component.sql.SqlEndpoint)
                .map(e -> ((org.apache.camel.component.sql.SqlEndpoint) e).getQuery()).filter(q -> q.contains("FOR UPDATE SKIP LOCKED"))
                .findFirst().orElseThrow();
        assertThat(claim).contains(" FROM crm_outbox WHERE ");
        jdbc.execute("CREATE TABLE crm_outbox_naive (id BIGSERIAL PRIMARY KEY, event_type TEXT, payload TEXT, created_at TIMESTAMP,"
                + " processed_at TIMESTAMP)");
        java.util.TimeZone jvm = java.util.TimeZone.getDefault();
        try {
            jdbc.update("INSERT INTO crm_outbox_naive (event_type, payload, created_at) VALUES ('order.confirmed', '{}', '2026-11-21 08:58:13')");
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Asia/Tokyo"));
            List<Map<String, Object>> rows = jdbc.queryForList(claim.replace(" FROM crm_outbox WHERE ", " FROM crm_outbox_naive WHERE "));
            java.util.TimeZone.setDefault(jvm);
            assertThat(rows).hasSize(1);
            org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
            exchange.getMessage().setBody(new java.util.HashMap<>(rows.get(0)));
            outboxRows.prepare(exchange);
            assertThat(new ObjectMapper().readTree(exchange.getMessage().getBody(String.class)).path("createdAt").asText())
                    .isEqualTo("2026-11-21T08:58:13Z");
        } finally {
            java.util.TimeZone.setDefault(jvm);
            jdbc.execute("DROP TABLE crm_outbox_naive");
        }
    }

    @Test
    void aContactUpdateChangesTheDirectoryAndSendsNothing() throws Exception {
        String customer = "cus_crm" + newTicketId();
        String contact = Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("jenny.rosen@example.org", customer + "@example.net");
        long row = outbox("contact", "contact.updated", contact);

        Map<String, Object> entry = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT display_name, email, phone, push_tokens::text AS push, locale, time_zone, preferences->>'orders' AS orders,"
                        + " updated_at FROM customer WHERE customer_id = ?", customer), rows -> rows.size() == 1).get(0);
        assertThat(entry).containsEntry("display_name", "Jenny Rosen").containsEntry("email", customer + "@example.net")
                .containsEntry("phone", "+447700900123").containsEntry("locale", "en-GB")
                .containsEntry("time_zone", "Europe/London").containsEntry("orders", "[\"email\", \"push\"]");
        assertThat(entry.get("push").toString()).contains("fcm:dQw4w9WgXcQ");
        await().atMost(Duration.ofSeconds(10)).until(() -> processed(row));

        // An older change arriving late never rolls the record back.
        long stale = outbox("contact", "contact.updated", contact.replace(customer + "@example.net", "old@example.net")
                .replace("2026-11-21T08:15:00Z", "2026-10-01T08:00:00Z"));
        await().atMost(Duration.ofSeconds(30)).until(() -> processed(stale));
        assertThat(jdbc.queryForObject("SELECT email FROM customer WHERE customer_id = ?", String.class, customer))
                .isEqualTo(customer + "@example.net");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE customer_id = ?", Integer.class, customer)).isZero();
        // The operator sees why it changed nothing: kept as IGNORED, with both times.
        Map<String, Object> skipped = unrouted("crm-outbox-" + stale);
        assertThat(skipped).containsEntry("outcome", "IGNORED").containsEntry("step", "directory");
        assertThat(skipped.get("reason")).isEqualTo("crm contact.updated crm-outbox-" + stale + " (changed 2026-10-01T08:00:00Z) was not"
                + " applied: customer " + customer + "'s directory entry holds a newer change (changed 2026-11-21T08:15:00Z), and an"
                + " older change never rolls a customer back; the ids it lists were not linked either. Nothing to do unless the"
                + " newer change is wrong: then correct the contact in the CRM");

        // A change that names only the new mobile number changes only that: the opt-out of marketing, the zone, the
        // language and the push tokens stay (they used to be cleared: every channel allowed again, UTC, English).
        long partial = outbox("contact", "contact.updated", """
                {"account": {"externalId": "%s", "crmId": "0015g00000XyZ1AAA"}, "mobilePhone": "+44 7700 900999",
                 "updatedAt": "2026-11-22T09:00:00Z"}""".formatted(customer));
        await().atMost(Duration.ofSeconds(30)).until(() -> processed(partial) && "+447700900999".equals(
                jdbc.queryForObject("SELECT phone FROM customer WHERE customer_id = ?", String.class, customer)));
        assertThat(jdbc.queryForMap("SELECT phone, email, display_name, locale, time_zone, preferences->>'marketing' AS marketing,"
                + " preferences->>'orders' AS orders, push_tokens::text AS push FROM customer WHERE customer_id = ?", customer))
                .containsEntry("phone", "+447700900999").containsEntry("email", customer + "@example.net")
                .containsEntry("display_name", "Jenny Rosen").containsEntry("locale", "en-GB").containsEntry("time_zone", "Europe/London")
                .containsEntry("marketing", "[]").containsEntry("orders", "[\"email\", \"push\"]")
                .hasEntrySatisfying("push", push -> assertThat(push.toString()).contains("fcm:dQw4w9WgXcQ"));

        // A change dated hours ahead (a local time written with Z) would stop every later change until then: quarantined.
        long ahead = outbox("contact", "contact.updated", contact.replace("2026-11-21T08:15:00Z",
                java.time.Instant.now().plus(Duration.ofHours(10)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
        String reason = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT reason FROM unrouted_event WHERE source_event_id = ?", String.class, "crm-outbox-" + ahead), r -> r.size() == 1).get(0);
        assertThat(reason).contains("is in the future (more than 15 minutes ahead of Herald's clock): the CRM's clock or its time"
                + " zone is wrong");
        assertThat(jdbc.queryForObject("SELECT phone FROM customer WHERE customer_id = ?", String.class, customer)).isEqualTo("+447700900999");

        // Preferences that name no channel Herald sends for a category it sends would quietly opt the customer out of every
        // billing message: quarantined naming them. Categories and channels in capitals are the ones they name; a channel
        // Herald does not have next to one it has, and any channel of a category Herald does not send, are kept.
        long typo = outbox("contact", "contact.updated", """
                {"account": {"externalId": "%s"}, "preferences": {"billing": ["emial"]}, "updatedAt": "2026-11-22T10:00:00Z"}"""
                .formatted(customer));
        String refused = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT reason FROM unrouted_event WHERE source_event_id = ?", String.class, "crm-outbox-" + typo), r -> r.size() == 1).get(0);
        assertThat(refused).contains("the preferences for 'billing' name no channel Herald sends ([\"emial\"]), not one of email, sms,"
                + " push, in_app; kept, they would opt the customer out of every billing message");
        long capitals = outbox("contact", "contact.updated", """
                {"account": {"externalId": "%s"}, "preferences": {"Billing": ["Email", " SMS", "whatsapp"], "marketing": ["fax"]},
                 "updatedAt": "2026-11-22T10:05:00Z"}""".formatted(customer));
        await().atMost(Duration.ofSeconds(30)).until(() -> processed(capitals) && "[\"fax\"]".equals(jdbc.queryForObject(
                "SELECT preferences->>'marketing' FROM customer WHERE customer_id = ?", String.class, customer)));
        assertThat(jdbc.queryForObject("SELECT preferences->>'billing' FROM customer WHERE customer_id = ?", String.class, customer))
                .isEqualTo("[\"email\", \"sms\", \"whatsapp\"]");

        // A customer id with a slash could never be named in the console's or the API's addresses (its erasure refused by the
        // web server): quarantined naming the character, nobody created.
        String slashed = "ACME/" + newTicketId();
        long unaddressable = outbox("contact", "contact.updated", contact.replace(customer, slashed));
        String why = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT reason FROM unrouted_event WHERE source_event_id = ?", String.class, "crm-outbox-" + unaddressable), r -> r.size() == 1).get(0);
        assertThat(why).contains("the customer id '" + slashed + "' contains '/', which Herald's console and API cannot take in a"
                + " customer's address");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Long.class, slashed)).isZero();

        // The next order for this customer goes to the address the CRM just gave.
        String unique = newTicketId();
        outbox("order", "order.confirmed", order(unique, customer));
        assertThat(awaitMailFor("crm:order.confirmed:ORD-" + unique).getAllRecipients())
                .extracting(Object::toString).containsExactly(customer + "@example.net");
    }

    @Test
    void aBadRowIsQuarantinedAloneAndEveryGoodRowIsDelivered() throws Exception {
        String first = newTicketId();
        String second = newTicketId();
        String nobody = "cus_nobody" + newTicketId();
        long good1 = outbox("order", "order.confirmed", order(first, "cus_RkT4aB7cD9eF1g"));
        long notJson = outbox("order", "order.confirmed", "{\"orderNumber\": \"ORD-broken");
        long unknown = outbox("order", "order.confirmed", order(newTicketId(), nobody));
        long cancelled = outbox("appointment", "appointment.no_show", Samples.text("crm/appointment.scheduled.json"));
        long good2 = outbox("order", "order.confirmed", order(second, "cus_QwE5rT6yU7iO8p"));

        awaitMailFor("crm:order.confirmed:ORD-" + first);
        awaitMailFor("crm:order.confirmed:ORD-" + second);
        await().atMost(Duration.ofSeconds(10)).until(() -> List.of(good1, notJson, unknown, cancelled, good2).stream()
                .allMatch(this::processed));

        Map<String, Object> broken = unrouted("crm-outbox-" + notJson);
        assertThat(broken).containsEntry("outcome", "QUARANTINED").containsEntry("step", "outbox");
        assertThat(broken.get("reason")).isEqualTo("CRM outbox row " + notJson + " has a payload that is not valid JSON"
                + " (it ends before the JSON is complete). Correct the payload in the CRM and insert the row again");
        assertThat(broken.get("raw_payload").toString()).contains("ORD-broken");
        Map<String, Object> noSuchCustomer = unrouted("crm-outbox-" + unknown);
        assertThat(noSuchCustomer).containsEntry("outcome", "QUARANTINED").containsEntry("step", "identity");
        assertThat(noSuchCustomer.get("reason").toString()).contains(nobody + ", who is not in Herald's customer directory");
        Map<String, Object> ignored = unrouted("crm-outbox-" + cancelled);
        assertThat(ignored).containsEntry("outcome", "IGNORED");
        // The reason says what Herald takes and what to do: a type the CRM misspelt ("order.confimred") is told apart at once.
        assertThat(ignored.get("reason").toString()).isEqualTo("crm event type 'appointment.no_show' is not one Herald sends a"
                + " message for (it sends order.confirmed, appointment.scheduled, appointment.rescheduled and appointment.cancelled,"
                + " and applies contact.updated to its customer directory); nothing was sent and the event is kept here. Nothing to"
                + " do, unless it was meant as one of those: then correct the event type in the CRM and insert the row again");
    }

    /**
     * The CRM wrote one cancellation twice (two outbox rows: a retry after a timeout, a job run twice). Each row was a
     * notification of its own, keyed by its outbox id, and the customer was told twice by email and SMS that the same
     * appointment was cancelled. The repeat is now recorded SKIPPED naming the first; a cancellation after the appointment
     * was booked again is still told.
     */
    @Test
    void theSameCancellationWrittenTwiceIsToldOnceAndOneAfterARebookingAgain() throws Exception {
        String apt = "APT-" + newTicketId();
        String cancel = Samples.text("crm/appointment.cancelled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00");
        long booked = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        awaitMailFor("crm:appointment.scheduled:" + apt + ":crm-outbox-" + booked);
        List<Long> twice = jdbc.queryForList("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES"
                + " ('appointment', 'appointment.cancelled', ?), ('appointment', 'appointment.cancelled', ?) RETURNING id",
                Long.class, cancel, cancel).stream().sorted().toList();
        String told = "crm:appointment.cancelled:" + apt + ":crm-outbox-" + twice.get(0);
        String repeat = "crm:appointment.cancelled:" + apt + ":crm-outbox-" + twice.get(1);
        awaitMailFor(told);
        assertSkippedOnEmailAndSms(repeat, "not sent: appointment " + apt + " was already"
                    + " cancelled by crm event crm-outbox-" + twice.get(0) + " (notification ",
                "); nothing booked or moved it"
                    + " since, so this is a repeat of that cancellation, told by that notification");
        assertThat(mailsFor(repeat)).isEmpty();
        assertThat(mailsFor(told)).hasSize(1);

        // Booked again (another time), then cancelled again: that cancellation is news.
        long bookedAgain = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-27T10:00:00-05:00"));
        awaitMailFor("crm:appointment.scheduled:" + apt + ":crm-outbox-" + bookedAgain);
        long again = outbox("appointment", "appointment.cancelled", cancel.replace("2030-11-26T14:30:00-05:00", "2030-11-27T10:00:00-05:00"));
        awaitMailFor("crm:appointment.cancelled:" + apt + ":crm-outbox-" + again);
    }

    /**
     * The CRM wrote one booking twice, the second time with its start in UTC ("2030-11-26T19:30:00Z" for "14:30:00-05:00"):
     * the booking was keyed by its start as written, so the customer got two confirmations and two sets of reminders for one
     * appointment (a booking is now keyed by its outbox row: without RepeatedBookings any second row would do that). The repeat is now SKIPPED naming the first, and makes no reminders.
     */
    @Test
    void theSameBookingWrittenAgainWithItsStartInAnotherOffsetIsConfirmedOnce() throws Exception {
        String apt = "APT-" + newTicketId();
        String booking = Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt);
        long first = outbox("appointment", "appointment.scheduled", booking.replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        awaitMailFor("crm:appointment.scheduled:" + apt + ":crm-outbox-" + first);
        long second = outbox("appointment", "appointment.scheduled", booking.replace("2026-11-24T14:30:00-05:00", "2030-11-26T19:30:00Z"));
        String repeat = "crm:appointment.scheduled:" + apt + ":crm-outbox-" + second;
        assertSkippedOnEmailAndSms(repeat, "not sent: appointment " + apt + " was already booked"
                    + " for 2030-11-26 19:30 UTC by crm event crm-outbox-" + first + " (notification ",
                "); nothing cancelled or"
                    + " moved it since, so this is a repeat of that booking, confirmed by that notification");
        assertThat(mailsFor(repeat)).isEmpty();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Long.class,
                repeat + ":reminder:%")).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Long.class,
                "crm:appointment.scheduled:" + apt + ":crm-outbox-" + first + ":reminder:%")).isEqualTo(2);
    }

    /**
     * The CRM booked an appointment, cancelled it, and booked the same id again for the same time. The booking was keyed by
     * the appointment id and its start, so the new booking was taken for a repeat of the first: the customer, told it was
     * cancelled, got no confirmation and no reminders. It is now a booking of its own: confirmed, its reminders scheduled.
     */
    @Test
    void anAppointmentBookedAgainForTheSameTimeAfterItsCancellationIsConfirmedAndReminded() throws Exception {
        String apt = "APT-" + newTicketId();
        String booking = Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00");
        long first = outbox("appointment", "appointment.scheduled", booking);
        awaitMailFor(awaitBookingKey(first));
        long cancelled = outbox("appointment", "appointment.cancelled", Samples.text("crm/appointment.cancelled.json")
                .replace("APT-55812", apt).replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        awaitMailFor("crm:appointment.cancelled:" + apt + ":crm-outbox-" + cancelled);
        long again = outbox("appointment", "appointment.scheduled", booking);

        await().atMost(Duration.ofSeconds(30)).until(() -> processed(again));
        String rebooked = awaitBookingKey(again);
        MimeMessage confirmation = awaitMailFor(rebooked);
        assertThat(confirmation.getAllRecipients()).extracting(Object::toString).containsExactly("amara.okafor@example.com");
        assertThat(confirmation.getSubject()).startsWith("Your Onboarding call is booked for Tuesday, November 26, 2030");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(rebooked, "sms").get("state")));
        // The new booking's reminders wait for their time; the cancelled booking's were cancelled.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT s.state FROM scheduled_send s JOIN notification n"
                + " ON n.id = s.notification_id WHERE n.idempotency_key LIKE ? ORDER BY n.idempotency_key", String.class, rebooked + ":reminder:%"),
                states -> states.equals(List.of("SCHEDULED", "SCHEDULED")));
        assertThat(jdbc.queryForList("SELECT s.state FROM scheduled_send s JOIN notification n ON n.id = s.notification_id"
                + " WHERE n.idempotency_key LIKE ?", String.class, bookingKey(first) + ":reminder:%")).containsExactly("CANCELLED", "CANCELLED");
        assertThat(mailsFor(bookingKey(first))).hasSize(1);
    }

    /**
     * A booking Herald handled under the key it had before (the appointment id and its start), read again afterwards (a
     * re-read batch at the upgrade, its payload already past retention): the same CRM event, so no second confirmation and no
     * second set of reminders; its deliveries are SKIPPED naming the first.
     */
    @Test
    void aBookingHandledUnderItsFormerKeyAndReadAgainIsNotConfirmedAgain() throws Exception {
        String apt = "APT-" + newTicketId();
        long row = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        String key = "crm:appointment.scheduled:" + apt + ":crm-outbox-" + row;
        awaitMailFor(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        long handled = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        // As the ledger of a Herald before this change has it, its payload removed by retention; then the row is read again.
        jdbc.update("UPDATE notification SET idempotency_key = ?, payload_removed_at = now(), payload_removed_by = 'retention' WHERE id = ?",
                "crm:appointment.scheduled:" + apt + ":2030-11-26T14:30:00-05:00", handled);
        jdbc.update("DELETE FROM notification_payload WHERE notification_id = ?", handled);
        jdbc.update("UPDATE crm_outbox SET processed_at = NULL WHERE id = ?", row);

        assertSkippedOnEmailAndSms(key, "not sent: appointment " + apt + " was already booked"
                    + " by crm event crm-outbox-" + row + " (notification " + handled + ", ",
                "); this is the same event read"
                    + " again, confirmed by that notification");
        assertThat(mailsFor(key)).as("the confirmation sent when it was first handled, and no other").hasSize(1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM scheduled_send WHERE match_key = ? AND state = 'SCHEDULED'", Long.class,
                "appointment:" + apt)).isEqualTo(2);
    }

    /**
     * The CRM wrote one move twice (two outbox rows). A move is keyed by its outbox row, so the customer was told twice that
     * the appointment moved. The repeat is now SKIPPED naming the first; a move back and forth is still told each time.
     */
    @Test
    void theSameMoveWrittenTwiceIsToldOnce() throws Exception {
        String apt = "APT-" + newTicketId();
        long booked = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        awaitMailFor("crm:appointment.scheduled:" + apt + ":crm-outbox-" + booked);
        String move = Samples.text("crm/appointment.rescheduled.json").replace("APT-55812", apt)
                .replace("2026-11-26T10:00:00-05:00", "2030-11-28T10:00:00-05:00").replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00");
        List<Long> twice = jdbc.queryForList("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES"
                + " ('appointment', 'appointment.rescheduled', ?), ('appointment', 'appointment.rescheduled', ?) RETURNING id",
                Long.class, move, move).stream().sorted().toList();
        String told = "crm:appointment.rescheduled:" + apt + ":crm-outbox-" + twice.get(0);
        String repeat = "crm:appointment.rescheduled:" + apt + ":crm-outbox-" + twice.get(1);
        awaitMailFor(told);
        assertSkippedOnEmailAndSms(repeat, "not sent: appointment " + apt + " was already moved"
                    + " to 2030-11-28 15:00 UTC by crm event crm-outbox-" + twice.get(0) + " (notification ",
                "); nothing"
                    + " cancelled or moved it since, so this is a repeat of that move, told by that notification");
        assertThat(mailsFor(repeat)).isEmpty();
        assertThat(mailsFor(told)).hasSize(1);
    }

    /**
     * A move and then a change of only its details at the new time (another owner): the second is a "move" to the time the
     * appointment already has, and news ("new details, same time"), not a repeat of the move; it was taken for one and SKIPPED,
     * so the customer never heard of the new owner.
     */
    @Test
    void aChangeOfDetailsRightAfterAMoveIsToldNotTakenForARepeat() throws Exception {
        String apt = "APT-" + newTicketId();
        long booked = outbox("appointment", "appointment.scheduled", Samples.text("crm/appointment.scheduled.json").replace("APT-55812", apt)
                .replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00"));
        awaitMailFor("crm:appointment.scheduled:" + apt + ":crm-outbox-" + booked);
        String move = Samples.text("crm/appointment.rescheduled.json").replace("APT-55812", apt)
                .replace("2026-11-26T10:00:00-05:00", "2030-11-28T10:00:00-05:00").replace("2026-11-24T14:30:00-05:00", "2030-11-26T14:30:00-05:00");
        long moved = outbox("appointment", "appointment.rescheduled", move);
        awaitMailFor("crm:appointment.rescheduled:" + apt + ":crm-outbox-" + moved);
        String newOwner = move.replace("2030-11-26T14:30:00-05:00", "2030-11-28T10:00:00-05:00").replace("Sam Okafor", "Priya Raman");
        long changed = outbox("appointment", "appointment.rescheduled", newOwner);

        MimeMessage told = awaitMailFor("crm:appointment.rescheduled:" + apt + ":crm-outbox-" + changed);
        assertThat(told.getSubject()).contains("new details, same time");
        assertThat(GreenMailUtil.getBody(told)).contains("Priya Raman");
    }

    /**
     * An event type the CRM's column pads with spaces (a CHAR(40) column) or writes in capitals ("Order.Confirmed") is the type
     * Herald knows: such an order confirmation was IGNORED as "not a customer notification" and never sent.
     */
    @Test
    void anEventTypePaddedWithSpacesOrInCapitalsIsTheTypeHeraldKnows() {
        String padded = newTicketId();
        String capitals = newTicketId();
        outbox("order", "order.confirmed                         ", order(padded, "cus_RkT4aB7cD9eF1g"));
        outbox("order", " ORDER.Confirmed", order(capitals, "cus_RkT4aB7cD9eF1g"));
        awaitMailFor("crm:order.confirmed:ORD-" + padded);
        awaitMailFor("crm:order.confirmed:ORD-" + capitals);
    }

    /**
     * The CRM writes its event types as order.confirmed; one written ORDER_CONFIRMED, order-confirmed or orderConfirmed (an
     * enum's name, a slug, a JSON property) was kept IGNORED as a type Herald does not take, and the customer never heard of
     * their order, though capitals and spaces were already read as the type. Separators and camel case are read the same way
     * now; a type that is none of Herald's is still IGNORED.
     */
    @Test
    void anEventTypeWrittenWithUnderscoresHyphensOrInCamelCaseIsTheTypeHeraldKnows() {
        String enumName = newTicketId();
        String slug = newTicketId();
        String camelCase = newTicketId();
        outbox("order", "ORDER_CONFIRMED", order(enumName, "cus_RkT4aB7cD9eF1g"));
        outbox("order", "order-confirmed", order(slug, "cus_RkT4aB7cD9eF1g"));
        outbox("order", "orderConfirmed", order(camelCase, "cus_RkT4aB7cD9eF1g"));
        String customer = "cus_ct" + newTicketId();
        outbox("contact", "contact_updated", Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("jenny.rosen@example.org", customer + "@example.net").replace("0015g00000XyZ1AAA", "0015g" + customer));
        awaitMailFor("crm:order.confirmed:ORD-" + enumName);
        awaitMailFor("crm:order.confirmed:ORD-" + slug);
        awaitMailFor("crm:order.confirmed:ORD-" + camelCase);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT email FROM customer WHERE customer_id = ?",
                String.class, customer), emails -> emails.equals(List.of(customer + "@example.net")));
    }

    /**
     * A contact change whose customer id has spaces around it ("cus_RkT4aB7cD9eF1g ", a CRM form field kept as typed) created a
     * second customer "cus_RkT4aB7cD9eF1g " beside the real one, and the real customer's new email was never applied: events
     * match customer ids exactly, so the real one kept the old address. Now quarantined naming the spaces, nobody created.
     */
    @Test
    void aContactChangeWhoseCustomerIdHasSpacesAroundItIsQuarantinedNotMadeASecondCustomer() {
        String customer = "cus_sp" + newTicketId();
        String spaced = customer + " ";
        long row = outbox("contact", "contact.updated", Samples.text("crm/contact.updated.json")
                .replace("\"cus_RkT4aB7cD9eF1g\"", "\"" + spaced + "\"").replace("0015g00000XyZ1AAA", "0015g" + customer));
        Map<String, Object> held = unrouted("crm-outbox-" + row);
        assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "validation");
        assertThat(held.get("reason").toString()).contains("the customer id '" + spaced + "' has spaces around it; Herald matches"
                + " customer ids exactly, so it would be a customer of its own beside '" + customer + "'. The directory was not changed; correct the contact in the"
                + " CRM");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id IN (?, ?)", Long.class, spaced, customer)).isZero();
    }

    /**
     * The same with a no-break space after the id (a CRM field pasted from a web page or a spreadsheet, as phones are): the
     * check for spaces took only ordinary ones, so "cus_x\u00a0" was made a second customer beside the real one, silently.
     */
    @Test
    void aContactChangeWhoseCustomerIdHasANoBreakSpaceAfterItIsQuarantinedNotMadeASecondCustomer() {
        String customer = "cus_nb" + newTicketId();
        String spaced = customer + "\u00a0";
        long row = outbox("contact", "contact.updated", Samples.text("crm/contact.updated.json")
                .replace("\"cus_RkT4aB7cD9eF1g\"", "\"" + spaced + "\"").replace("0015g00000XyZ1AAA", "0015g" + customer));
        Map<String, Object> held = unrouted("crm-outbox-" + row);
        assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "validation");
        assertThat(held.get("reason").toString()).contains("has spaces around it; Herald matches customer ids exactly, so it would be a"
                + " customer of its own beside '" + customer + "'");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id IN (?, ?)", Long.class, spaced, customer)).isZero();
    }

    /**
     * A directory entry written before customer ids with spaces around them were refused ("cus_x ", the CRM's id as typed):
     * every contact change of it was quarantined, so its new email, phone or opt-out never reached Herald, and correcting the
     * id in the CRM would have made another customer beside it. A change naming exactly the id the directory holds is applied
     * to it; with both "cus_x " and "cus_x" in the directory it is quarantined saying which entries there are and what to do.
     */
    @Test
    void aContactChangeNamingAnEntryThatAlreadyHasSpacesAroundItsIdUpdatesThatEntry() {
        String customer = "cus_old" + newTicketId();
        String spaced = customer + " ";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, updated_at) VALUES (?, 'Old Entry', 'old@example.net',"
                + " '2026-11-01T00:00:00Z')", spaced);
        long row = outbox("contact", "contact.updated", Samples.text("crm/contact.updated.json")
                .replace("\"cus_RkT4aB7cD9eF1g\"", "\"" + spaced + "\"").replace("jenny.rosen@example.org", "new@example.net")
                .replace("0015g00000XyZ1AAA", "0015g" + customer));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT email FROM customer WHERE customer_id = ?",
                String.class, spaced).equals("new@example.net"));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?", Long.class,
                "crm-outbox-" + row)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Long.class, customer)).isZero();

        // Both the spaced entry and the one without spaces: which one the CRM means is not guessed.
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, updated_at) VALUES (?, 'New Entry', 'other@example.net',"
                + " '2026-11-01T00:00:00Z')", customer);
        long both = outbox("contact", "contact.updated", Samples.text("crm/contact.updated.json")
                .replace("\"cus_RkT4aB7cD9eF1g\"", "\"" + spaced + "\"").replace("jenny.rosen@example.org", "newer@example.net")
                .replace("0015g00000XyZ1AAA", "0015g" + customer).replace("2026-11-21T08:", "2026-11-22T08:"));
        Map<String, Object> held = unrouted("crm-outbox-" + both);
        assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "validation");
        assertThat(held.get("reason").toString()).contains("the customer id '" + spaced + "' has spaces around it, and Herald's directory"
                + " holds both '" + spaced + "' (written before such ids were refused) and '" + customer + "'; a change is not guessed to be for one of them. Correct the contact's"
                + " customer id in the CRM to the entry it is for");
        assertThat(jdbc.queryForObject("SELECT email FROM customer WHERE customer_id = ?", String.class, spaced)).isEqualTo("new@example.net");
    }

    /**
     * A row under the CRM limit whose notification is larger than a megabyte (each line gains its price and total as text):
     * the notifications producer kept Kafka's default max.request.size of 1 MiB and the order was quarantined "because of an
     * unexpected problem"; every producer now takes what the topics Herald creates take.
     */
    @Test
    void anOrderWhoseNotificationIsLargerThanAMegabyteIsStillMailed() throws Exception {
        String unique = newTicketId();
        // 3,000 lines with long names, each gaining about 39 bytes (its price and total as text, as the ledger's JSON writes
        // them): the mapping's work is per line, and 14,000 short lines took it 20-60 s.
        StringBuilder lines = new StringBuilder();
        String longName = " of a long product name".repeat(12);
        for (int i = 0; i < 3_000; i++) {
            lines.append(i == 0 ? "" : ",").append("{\"name\":\"Item ").append(i).append(longName)
                    .append("\",\"qty\":1,\"unitPrice\":123456.5}");
        }
        String payload = order(unique, "cus_RkT4aB7cD9eF1g").replaceAll("(?s)\"lines\": \\[.*?\\],", "\"lines\": [" + lines + "],");
        assertThat(payload.length()).isBetween(800_000, 1_000_000);
        long row = outbox("order", "order.confirmed", payload);

        // Mapping a 1 MB order is slow (6-7 s on a busy machine, 38 s once), and under heavy load the whole way took over the
        // 60 s this test once gave it. Herald itself gives a mapping herald.ingest.mapping-time-limit (2 minutes in the tests)
        // before it quarantines the event: the test waits that long for the notification (failing at once if the event was
        // quarantined instead), then for its mail.
        String key = "crm:order.confirmed:ORD-" + unique;
        await().atMost(Duration.ofSeconds(150)).until(() -> {
            assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?",
                    Long.class, "crm-outbox-" + row)).as("quarantined instead of admitted").isZero();
            return jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Integer.class, key) == 1;
        });
        MimeMessage mail = await().atMost(Duration.ofSeconds(90)).until(() -> mailsFor(key), m -> !m.isEmpty()).get(0);
        assertThat(jdbc.queryForObject("SELECT octet_length(p.data::text) FROM notification n JOIN notification_payload p"
                + " ON p.notification_id = n.id WHERE n.idempotency_key = ?", Integer.class, key))
                .isGreaterThan(1_048_576);
        assertThat(mail.getSubject()).contains("ORD-" + unique);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?", Long.class,
                "crm-outbox-" + row)).isZero();
    }

    /**
     * A topic created elsewhere with a smaller max.message.bytes refuses a large notification for good. It used to end in
     * two rows, a quarantine "because of an unexpected problem" and a notification RECEIVED for ever (whose payload retention
     * kept for ever); now one quarantine that says how large it is, and a re-drive once the topic takes it mails it once.
     */
    @Test
    void anOrderTheBrokerRefusesForItsSizeEndsInOneQuarantineAndIsMailedOnceReDriven() throws Exception {
        String unique = newTicketId();
        String key = "crm:order.confirmed:ORD-" + unique;
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            lines.append(i == 0 ? "" : ",").append("{\"sku\":\"SKU-").append(i).append("\",\"name\":\"Item ").append(i)
                    .append("\",\"qty\":1,\"unitPrice\":1.5}");
        }
        String payload = order(unique, "cus_RkT4aB7cD9eF1g").replaceAll("(?s)\"lines\": \\[.*?\\],", "\"lines\": [" + lines + "],");
        long row;
        notificationsTopicTakes("20000");
        try {
            row = outbox("order", "order.confirmed", payload);
            Map<String, Object> held = unrouted("crm-outbox-" + row);
            assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "validation");
            // Well within what Herald's producer takes: the topic set smaller is named, with the command that sets it.
            assertThat(held.get("reason").toString()).startsWith("crm event crm-outbox-" + row + " makes a notification of ")
                    .endsWith(" bytes, which Kafka topic herald.notifications refused as too large: its max.message.bytes is set"
                            + " below herald.ingest.kafka-max-request-size (2097152 bytes), which Herald sends; nothing was sent. Set it"
                            + " (kafka-configs.sh --alter --entity-type topics --entity-name herald.notifications"
                            + " --add-config max.message.bytes=2097152), then re-drive it");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Long.class, key)).isZero();
            // Re-driven while the topic still refuses it: still quarantined, saying so in the same words (the re-drive used to
            // send the operator to the event's source, which was not at fault), and no notification left RECEIVED for ever (the
            // re-drive admitted it, and only the batch path withdrew what it could not publish).
            HttpResponse<String> tooEarly = api("POST", "/api/quarantine/" + held.get("id") + "/redrive");
            assertThat(tooEarly.body()).contains("which Kafka topic herald.notifications refused as too large");
            assertThat(unrouted("crm-outbox-" + row).get("reason").toString()).isEqualTo("crm event crm-outbox-" + row + " makes a"
                    + " notification which Kafka topic herald.notifications refused as too large: its max.message.bytes is set below"
                    + " herald.ingest.kafka-max-request-size (2097152 bytes), which Herald sends; nothing was sent. Set it"
                    + " (kafka-configs.sh --alter --entity-type topics --entity-name herald.notifications"
                    + " --add-config max.message.bytes=2097152), then re-drive it");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Long.class, key)).isZero();
        } finally {
            notificationsTopicTakes(null);
        }
        HttpResponse<String> redriven = api("POST", "/api/quarantine/" + unrouted("crm-outbox-" + row).get("id") + "/redrive");
        assertThat(redriven.statusCode()).isEqualTo(200);
        awaitMailFor(key);
        assertThat(mailsFor(key)).hasSize(1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Long.class, key)).isOne();
    }

    /** Sets (or, with null, removes) the notifications topic's own max.message.bytes, as an operator of the broker would. */
    private void notificationsTopicTakes(String maxMessageBytes) throws Exception {
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            ConfigEntry entry = new ConfigEntry(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxMessageBytes == null ? "" : maxMessageBytes);
            AlterConfigOp op = new AlterConfigOp(entry, maxMessageBytes == null ? AlterConfigOp.OpType.DELETE : AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, "herald.notifications"), List.of(op)))
                    .all().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void rowsClaimedByAnotherInstanceAreSkippedAndNeverTakenTwice() throws Exception {
        camel.getRouteController().stopRoute("crm-outbox-poll");
        try {
            String theirs = newTicketId();
            String ours = newTicketId();
            long theirRow = outbox("order", "order.confirmed", order(theirs, "cus_RkT4aB7cD9eF1g"));
            long ourRow = outbox("order", "order.confirmed", order(ours, "cus_RkT4aB7cD9eF1g"));

            try (Connection otherInstance = dataSource.getConnection()) {
                // Another Herald instance runs the same claim and holds the oldest row in its transaction.
                otherInstance.setAutoCommit(false);
                List<Long> claimedByThem = claim(otherInstance, 1);
                assertThat(claimedByThem).containsExactly(theirRow);

                List<?> claimedByUs = producer.requestBody("direct:crm-outbox-claim", null, List.class);
                assertThat(claimedByUs.stream().map(r -> ((Number) ((Map<?, ?>) r).get("id")).longValue())).containsExactly(ourRow);
                awaitMailFor("crm:order.confirmed:ORD-" + ours);

                // It finishes its work and marks the row; we never see it.
                otherInstance.createStatement().executeUpdate("UPDATE crm_outbox SET processed_at = now() WHERE id = " + theirRow);
                otherInstance.commit();
            }
            assertThat(producer.requestBody("direct:crm-outbox-claim", null, List.class)).isEmpty();
            assertThat(mailsFor("crm:order.confirmed:ORD-" + theirs)).isEmpty();
            assertThat(processed(ourRow)).isTrue();
        } finally {
            camel.getRouteController().startRoute("crm-outbox-poll");
        }
    }

    @Test
    void aQuarantinedRowGoesThroughWhenReDrivenAfterTheMappingIsFixed() throws Exception {
        String unique = newTicketId();
        long row = outbox("order", "order.confirmed", order(unique, "cus_RkT4aB7cD9eF1g").replace("\"currency\": \"EUR\",", ""));
        Map<String, Object> held = unrouted("crm-outbox-" + row);
        assertThat(held.get("reason").toString()).contains("crm event crm-outbox-" + row + " has no currency: payload.currency is null");
        long id = ((Number) held.get("id")).longValue();

        Path mapping = MAPPINGS.resolve("crm-outbox.ds");
        String original = Files.readString(mapping);
        try {
            // The integration engineer decides orders without a currency are in euros, and reloads the CRM routes.
            String fixed = original.replace("herald.required(c.wrapped, ['payload', 'currency'], c.what + ' has no currency')",
                    "(local given = herald.get(c.payload, ['currency']); if given == null then 'EUR' else given)");
            assertThat(fixed).isNotEqualTo(original);
            reloadCrmRoutesWith(mapping, fixed);

            HttpResponse<String> redriven = api("POST", "/api/quarantine/" + id + "/redrive");
            assertThat(redriven.body()).contains("\"status\":\"REDRIVEN\"", "\"outcome\":\"ROUTE\"");
            assertThat(awaitMailFor("crm:order.confirmed:ORD-" + unique).getSubject())
                    .isEqualTo("Order ORD-" + unique + " confirmed: €129.90");
        } finally {
            reloadCrmRoutesWith(mapping, original);
        }
    }

    /**
     * Writes the mapping file, then saves routes/crm-outbox.camel.yaml again in one step (written beside it, then moved over
     * it: Camel is told once) and waits for that save's reload.
     */
    private void reloadCrmRoutesWith(Path mapping, String text) throws Exception {
        Files.writeString(mapping, text);
        Path routes = ROUTES.resolve("crm-outbox.camel.yaml");
        String file = routes.getFileName().toString();
        Instant saved = Instant.now();
        Path saving = routes.resolveSibling(file + ".saving");
        Files.writeString(saving, Files.readString(routes));
        Files.move(saving, routes, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        await().atMost(Duration.ofSeconds(30)).until(() -> reloads.loadedAt(file) != null && reloads.loadedAt(file).isAfter(saved)
                && camel.getRoute("crm-mapping") != null
                && camel.getRouteController().getRouteStatus("crm-mapping").isStarted());
    }

    private static List<Long> claim(Connection connection, int limit) throws Exception {
        List<Long> ids = new ArrayList<>();
        try (ResultSet rows = connection.createStatement().executeQuery("SELECT id FROM crm_outbox WHERE processed_at IS NULL"
                + " ORDER BY id LIMIT " + limit + " FOR UPDATE SKIP LOCKED")) {
            while (rows.next()) {
                ids.add(rows.getLong(1));
            }
        }
        return ids;
    }

    private static String order(String unique, String customerId) {
        return Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-" + unique)
                .replace("cus_RkT4aB7cD9eF1g", customerId);
    }

    /** The key's email and SMS end SKIPPED (never SENT), each with a reason that starts and ends so. */
    private void assertSkippedOnEmailAndSms(String key, String reasonStart, String reasonEnd) {
        for (String channel : List.of("email", "sms")) {
            Map<String, Object> skipped = await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, channel),
                    d -> "SKIPPED".equals(d.get("state")) || "SENT".equals(d.get("state")));
            assertThat(skipped).as(channel).containsEntry("state", "SKIPPED");
            assertThat(skipped.get("reason").toString()).as(channel).startsWith(reasonStart).endsWith(reasonEnd);
        }
    }

    private long outbox(String aggregate, String eventType, String payload) {
        return jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES (?, ?, ?) RETURNING id",
                Long.class, aggregate, eventType, payload);
    }

    private String awaitBookingKey(long row) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> bookingKey(row), java.util.Objects::nonNull);
    }

    /** The key Herald gave the booking read from this outbox row, or null while it has none. */
    private String bookingKey(long row) {
        return jdbc.queryForList("SELECT idempotency_key FROM notification WHERE source_event_id = ? AND type = 'crm.appointment_scheduled'",
                String.class, "crm-outbox-" + row).stream().findFirst().orElse(null);
    }

    private boolean processed(long row) {
        return jdbc.queryForObject("SELECT processed_at IS NOT NULL FROM crm_outbox WHERE id = ?", Boolean.class, row);
    }

    private Map<String, Object> unrouted(String sourceEventId) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id, outcome, step, reason, raw_payload FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?",
                sourceEventId), rows -> rows.size() == 1).get(0);
    }
}
