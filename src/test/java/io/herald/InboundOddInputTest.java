package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

/**
 * Odd or hostile input at Herald's inbound doors that HostileWebhookTest, HostileEventsTest and CrmPoisonRowTest do not cover
 * (found by an audit of the doors, 2026-12-06): a move to an implausible year, a CRM payload with a byte order mark, a UTF-16
 * body, bidi controls in a ticket subject, a phone number written with no-break spaces.
 */
class InboundOddInputTest extends HeraldIntegrationTest {

    /** A customer of this test alone, email only. */
    private String newCustomer(String label) {
        String customer = "cus_odd_" + label + "_" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, locale, time_zone) VALUES (?, 'Odd Input', ?, 'en-GB', 'Europe/London')",
                customer, customer.replace('_', '.') + "@odd.example.net");
        return customer;
    }

    private long outboxRow(String eventType, String payload) {
        return jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('appointment', ?, ?) RETURNING id",
                Long.class, eventType, payload);
    }

    /** Every row the CRM row ended in: "NOTIFICATION <delivery states>", "QUARANTINED step: reason", "IGNORED step: reason". */
    private List<String> outcomes(long row) {
        String eventId = "crm-outbox-" + row;
        List<String> rows = new ArrayList<>();
        jdbc.queryForList("SELECT outcome, step, reason FROM unrouted_event WHERE source_event_id = ?", eventId)
                .forEach(r -> rows.add(r.get("outcome") + " " + r.get("step") + ": " + r.get("reason")));
        jdbc.queryForList("SELECT n.id, n.idempotency_key FROM notification n WHERE n.source_event_id = ?", eventId)
                .forEach(r -> rows.add("NOTIFICATION " + r.get("idempotency_key") + " " + jdbc.queryForList(
                        "SELECT channel || '=' || state || coalesce(' (' || reason || ')', '') FROM delivery WHERE notification_id = ?",
                        String.class, r.get("id"))));
        return rows;
    }

    private List<String> awaitOutcome(long row) {
        return await().atMost(Duration.ofSeconds(60)).until(() -> outcomes(row),
                r -> !r.isEmpty() && r.stream().noneMatch(s -> s.contains("PENDING") || s.contains("SENDING") || s.contains("[]")));
    }

    private static String reschedule(String customer, String appointment, String startsAt) {
        return Samples.text("crm/appointment.rescheduled.json").replace("APT-55812", appointment)
                .replace("cus_QwE5rT6yU7iO8p", customer).replace("2026-11-26T10:00:00-05:00", startsAt)
                .replace("\"account\": {\"externalId\"", "\"account\": {\"externalId\"");
    }

    /**
     * appointment.scheduled refuses a start time outside config/rules.yaml's dates (10 years either side); a move to such a time
     * is the same nonsense and should be refused the same way, not told to the customer.
     */
    @Test
    void aMoveToAnImplausibleYearIsQuarantinedLikeABookingIs() throws Exception {
        String customer = newCustomer("year");
        Map<String, Long> rows = new java.util.LinkedHashMap<>();
        for (String startsAt : List.of("9999-12-31T10:00:00Z", "+10000-01-01T10:00:00Z", "0001-01-01T10:00:00Z")) {
            rows.put(startsAt, outboxRow("appointment.rescheduled", reschedule(customer, "APT-Y" + newTicketId(), startsAt)));
        }
        // The same times as a booking: the reference behaviour.
        String booking = Samples.text("crm/appointment.scheduled.json").replace("APT-55812", "APT-B" + newTicketId())
                .replace("cus_QwE5rT6yU7iO8p", customer).replace("2026-11-24T14:30:00-05:00", "9999-12-31T10:00:00Z");
        long bookingRow = outboxRow("appointment.scheduled", booking);

        assertThat(awaitOutcome(bookingRow)).singleElement().asString().startsWith("QUARANTINED validation");
        for (Map.Entry<String, Long> each : rows.entrySet()) {
            awaitOutcome(each.getValue());
        }
        for (Map.Entry<String, Long> each : rows.entrySet()) {
            assertThat(outcomes(each.getValue())).as("move to %s", each.getKey()).singleElement().asString()
                    .startsWith("QUARANTINED validation").contains("is not plausible");
        }
    }

    /**
     * A CRM payload column written with a UTF-8 byte order mark (Windows tools do): the webhook and the Kafka doors take it
     * off (ByteOrderMark); the CRM door should too, or the order confirmation is never sent.
     */
    @Test
    void aCrmPayloadWithAByteOrderMarkIsReadLikeTheOtherDoorsReadIt() throws Exception {
        String customer = newCustomer("bom");
        String order = "ORD-BOM" + newTicketId();
        String payload = "\uFEFF" + Samples.text("crm/order.confirmed.json").replace("ORD-100234", order)
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("0015g00000XyZ1AAA", "crm" + order);
        long row = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)"
                + " RETURNING id", Long.class, payload);
        List<String> outcome = awaitOutcome(row);
        assertThat(outcome).singleElement().asString().startsWith("NOTIFICATION crm:order.confirmed:" + order);
    }
    /** A CRM row's amounts are kept as the CRM wrote them: 10.00 is shown as 10.00 in its raw payload, not 1E+1. */
    @Test
    void aCrmRowsDecimalsAreKeptAsWritten() throws Exception {
        String order = "ORD-DEC" + newTicketId();
        String payload = Samples.text("crm/order.confirmed.json").replace("ORD-100234", order)
                .replace("cus_RkT4aB7cD9eF1g", "cus_nobody_" + order).replace("0015g00000XyZ1AAA", "crm" + order);
        long row = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', ?)"
                + " RETURNING id", Long.class, payload);
        assertThat(awaitOutcome(row)).singleElement().asString().startsWith("QUARANTINED identity");
        long quarantined = jdbc.queryForObject("SELECT id FROM unrouted_event WHERE source_event_id = ?", Long.class, "crm-outbox-" + row);
        String raw = api("GET", "/api/quarantine/" + quarantined).body();
        assertThat(raw).contains("10.00").contains("119.90").doesNotContain("1E+1");
    }

    /**
     * The impact of the missing plausibility check on a move: a CRM row that moves a booked appointment to the year 1 (a
     * default date the CRM wrote, a broken import) withdraws the real appointment's pending reminders, and the customer is told
     * nothing (the notice is SKIPPED as "already started"). A booking with that time would have been quarantined.
     */
    @Test
    void aMoveToTheYearOneKeepsTheRealAppointmentsRemindersWaiting() throws Exception {
        String customer = newCustomer("remind");
        String appointment = "APT-R" + newTicketId();
        String startsAt = java.time.Instant.now().plus(Duration.ofDays(3)).truncatedTo(java.time.temporal.ChronoUnit.MINUTES).toString();
        String booking = Samples.text("crm/appointment.scheduled.json").replace("APT-55812", appointment)
                .replace("cus_QwE5rT6yU7iO8p", customer).replace("2026-11-24T14:30:00-05:00", startsAt);
        long bookingRow = outboxRow("appointment.scheduled", booking);
        await().atMost(Duration.ofSeconds(60)).until(() -> waiting(appointment), n -> n == 2);

        long move = outboxRow("appointment.rescheduled", reschedule(customer, appointment, "0001-01-01T10:00:00Z"));
        assertThat(waiting(appointment)).as("reminders of the real appointment still waiting").isEqualTo(2);
    }

    private int waiting(String appointment) {
        return jdbc.queryForObject("SELECT count(*) FROM scheduled_send WHERE match_key = ? AND state = 'SCHEDULED'", Integer.class,
                "appointment:" + appointment);
    }

    /**
     * A ticket subject with Unicode bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE) and a zero-width space: the email's Subject
     * header shows the text reversed ("Invoice exe.pdf" spoofing), and nothing in Herald removes them. CR/LF are removed from a
     * subject (MessageParts); these are not.
     */
    @Test
    void bidiOverridesInATicketSubjectDoNotReachTheCustomersMail() throws Exception {
        String ticket = newTicketId();
        String event = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("01JD4T1A2S3D4F5G6H7J8K9L0Z", "01JODD" + ticket)
                .replace("41000000000555", "41" + ticket)
                .replace("Printer error E-42 after update", "Your refund \u202Efdp.exe\u202C is ready\u200B")
                .replace("\"Support Team\"", "\"Support\u202E maeT\"");
        assertThat(postSignedSupport(event).statusCode()).isEqualTo(202);
        String key = "support:agent_replied:" + ticket + ":41" + ticket;
        MimeMessage mail = awaitMailFor(key);
        String subject = mail.getSubject();
        String body = com.icegreen.greenmail.util.GreenMailUtil.getBody(mail);
        assertThat(subject).doesNotContain("\u202E").doesNotContain("\u200B").contains("Your refund fdp.exe is ready");
        assertThat(body).doesNotContain("\u202E").doesNotContain("=E2=80=AE");
    }
    /**
     * A mobile phone copied from a web page or a spreadsheet carries no-break spaces (U+00A0) where it shows spaces. Herald
     * removes spaces from a number before checking it, but not these: the whole contact change is quarantined saying the number
     * "is not an international number (... such as +44 7700 900123)" while it reads exactly like one, and the rest of the
     * change (a new email) is not applied.
     */
    @Test
    void aPhoneWrittenWithNoBreakSpacesIsReadLikeOneWrittenWithSpaces() throws Exception {
        String customer = "cus_odd_nbsp_" + newTicketId();
        String contact = Samples.text("crm/contact.updated.json").replace("+44 7700 900123", "+44\u00A07700\u00A0900123")
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("0015g00000XyZ1AAA", "crm" + customer);
        long row = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)"
                + " RETURNING id", Long.class, contact);
        await().atMost(Duration.ofSeconds(60)).until(() -> !outcomes(row).isEmpty()
                || !jdbc.queryForList("SELECT phone FROM customer WHERE customer_id = ? AND phone IS NOT NULL", String.class, customer).isEmpty());
        List<String> quarantined = outcomes(row);
        List<String> phone = jdbc.queryForList("SELECT phone FROM customer WHERE customer_id = ?", String.class, customer);
        assertThat(quarantined).isEmpty();
        assertThat(phone).containsExactly("+447700900123");
    }

    /**
     * A signed billing webhook body in UTF-16 (no BOM): every byte is valid UTF-8 (NULs and ASCII), Jackson's byte reader
     * detects UTF-16 and reads it, so Herald answers 202; the mapping then reads UTF-8 and quarantines it. The sender is told
     * it was accepted. Expected: refused with 400 in words (send UTF-8), as an invalid UTF-8 body is.
     */
    @Test
    void aUtf16BodyIsRefusedAtTheDoorNotAcceptedAndQuarantinedLater() throws Exception {
        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM unrouted_event", Long.class);
        long rejectedBefore = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        String unique = "u16" + newTicketId();
        byte[] body = Samples.paymentFailed(unique).replaceAll("[^\\x00-\\x7F]", "").getBytes(java.nio.charset.StandardCharsets.UTF_16BE);
        java.net.http.HttpResponse<String> answer = post("/webhooks/billing", "application/json", body, Map.of("Stripe-Signature",
                io.herald.testsupport.Signatures.stripe(java.time.Instant.now().getEpochSecond(), body, BILLING_SECRET)));
        assertThat(answer.statusCode()).isEqualTo(400);
        await().atMost(Duration.ofSeconds(10)).until(() -> !jdbc.queryForList(
                "SELECT reason FROM inbound_rejection WHERE id > ? AND source = 'billing'", String.class, rejectedBefore).isEmpty());
        assertThat(jdbc.queryForList("SELECT reason FROM unrouted_event WHERE id > ? AND source = 'billing' AND source_event_id LIKE ?",
                String.class, before, "%" + unique + "%")).isEmpty();
    }
}
