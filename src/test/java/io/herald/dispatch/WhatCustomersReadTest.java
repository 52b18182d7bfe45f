package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import io.herald.identity.Customer;
import io.herald.ingest.MappingLibraries;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.testsupport.DataSonnetRun;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What customers read, per type and channel, rendered exactly as a sender renders it (MessageParts: TemplateRenderer,
 * MessageContext, SmsText, HtmlFromText), from the mappings' own outputs where a source is involved: amounts in every kind
 * of currency, times across DST and the date line, German after the greeting, tickets put on hold, long subjects, German
 * quantities, the payment-failure SMS, refunds completed in steps, links never cut. Each test asserts what a demanding
 * customer or copy editor expects to read (found by an audit of the messages, 2026-12-06).
 */
class WhatCustomersReadTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule());
    private static final Customer JENNY = new Customer("cus_jenny", "Jenny Rosen", "jenny@example.org", "+447700900123",
            List.of("tok"), "en-GB", "Europe/London", Map.of());
    private static final Customer LUKAS = new Customer("cus_lukas", "Lukas Müller", "lukas@example.org", "+4915112345678",
            List.of("tok"), "de-DE", "Europe/Berlin", Map.of());

    private static DefaultCamelContext camel;
    private final MessageParts parts = parts();

    @BeforeAll
    static void startCamel() {
        camel = new DefaultCamelContext();
        camel.start();
        MappingLibraries.addTo(camel, Path.of("datasonnet"));
    }

    @AfterAll
    static void stopCamel() throws Exception {
        if (camel != null) {
            camel.close();
        }
    }

    // ------------------------------------------------------------------ amounts

    /**
     * An amount in a currency whose English symbol is its ISO code (KWD, BHD, CHF, SEK...) is written with the code glued to the
     * digits: "KWD12.345". CLDR's currency spacing (and every bank statement) separates them: "KWD 12.345".
     */
    @Test
    void anAmountInACurrencyWrittenAsItsCodeIsSeparatedFromTheDigits() {
        CanonicalNotification failed = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", "12.345 KWD", "attemptCount", 1,
                "hostedInvoiceUrl", "https://invoice.stripe.com/i/acct_1/test_1"));
        Map<String, String> email = parts.render(failed, "billing.payment_failed", "email", JENNY);
        Map<String, String> sms = parts.render(failed, "billing.payment_failed", "sms", JENNY);
        CanonicalNotification paid = notification("billing.invoice_paid", Map.of(
                "invoiceId", "in_2", "invoiceNumber", "INV-0043", "amountPaid", "1250.000 BHD"));
        String receipt = parts.render(paid, "billing.invoice_paid", "email", JENNY).get("subject");
        CanonicalNotification refund = notification("billing.charge_refunded", Map.of(
                "chargeId", "ch_1", "amountRefunded", "80.00 CHF", "chargeAmount", "129.90 CHF", "partialRefund", true));
        String chf = parts.render(refund, "billing.charge_refunded", "email", JENNY).get("subject");

        assertThat(email.get("subject")).isEqualTo("Your payment of KWD\u00a012.345 did not go through");
        assertThat(sms.get("text")).startsWith("Your payment of KWD 12.345 for invoice INV-0042 did not go through.");
        assertThat(receipt).isEqualTo("Receipt: invoice INV-0043 paid (BHD\u00a01,250.000)");
        assertThat(chf).isEqualTo("We have refunded CHF\u00a080.00 of your CHF\u00a0129.90 payment");
    }

    /** Held up: zero- and three-decimal currencies from Stripe's minor units, very large amounts, German forms. */
    @Test
    void zeroAndThreeDecimalAndVeryLargeAmountsKeepTheirValue() {
        String jpy = map("billing-stripe.ds", stripeFailure(120000, "jpy"));
        String kwd = map("billing-stripe.ds", stripeFailure(12345, "kwd"));
        String big = map("billing-stripe.ds", stripeFailure(123456789012345L, "eur"));
        assertThat(field(jpy, "amountDue")).isEqualTo("120000 JPY");
        assertThat(field(kwd, "amountDue")).isEqualTo("12.345 KWD");
        assertThat(field(big, "amountDue")).isEqualTo("1234567890123.45 EUR");
        Map<String, Object> de = MessageContext.of(notification("billing.payment_failed",
                Map.of("a", "120000 JPY", "b", "12.345 KWD", "c", "1234567890123.45 EUR")), LUKAS, Locale.GERMANY);
        assertThat(de).containsEntry("aLocal", "120.000\u00a0¥").containsEntry("bLocal", "12,345\u00a0KWD")
                .containsEntry("cLocal", "1.234.567.890.123,45\u00a0€");
    }

    /**
     * A German SMS writes 55.000 ₩ as "55.000 KRW" (GSM-7 has no ₩), and German writes CLP and ISK by their codes ("4.900 CLP",
     * "49 ISK"): written amounts that read like the mappings' raw form ("55000 KRW"). They are what the customer should read, so
     * the SMS goes out; the delivery used to fail saying the template printed a raw amount ("print {{amountDueLocalLocal}}").
     */
    @Test
    void aGermanSmsOfAnAmountWrittenWithItsCurrencyCodeIsSent() {
        Map<String, String> written = Map.of("55000 KRW", "55.000 KRW", "500 KRW", "500 KRW", "4900 CLP", "4.900 CLP",
                "49 ISK", "49 ISK", "85000 VND", "85.000 VND");
        written.forEach((raw, read) -> {
            CanonicalNotification failed = notification("billing.payment_failed", Map.of(
                    "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", raw, "attemptCount", 1));
            assertThat(parts.render(failed, "billing.payment_failed", "sms", LUKAS).get("text")).as(raw)
                    .isEqualTo("Ihre Zahlung von " + read + " für die Rechnung INV-0042 ist fehlgeschlagen.");
        });
    }

    /**
     * The ops webhook's digest line is the rendered text, masked (OpsDigestQueue), and so is every delivery's record the console
     * shows. An English-speaking customer in Germany, the Netherlands or Austria (en-DE, en-NL, en-AT) has amounts written with
     * dots ("250.000.000,00 IDR", "₫ 250.000.000"), which the masking took for phone numbers: the team read "Payment failed:
     * 2…0000,00 IDR". An amount next to its currency, or with its decimal comma, is no phone number; phone numbers stay masked.
     */
    @Test
    void theOpsWebhookShowsALargeAmountWrittenWithDotsAsAnAmount() {
        Customer anna = new Customer("cus_anna", "Anna Berg", "anna@example.org", "+4915112345678", List.of(), "en-DE", "Europe/Berlin", Map.of());
        Customer nils = new Customer("cus_nils", "Nils Dam", "nils@example.org", "+31612345678", List.of(), "en-NL", "Europe/Amsterdam", Map.of());
        CanonicalNotification idr = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", "250000000.00 IDR", "attemptCount", 1));
        CanonicalNotification vnd = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_2", "invoiceNumber", "INV-0043", "amountDue", "250000000 VND", "attemptCount", 1));
        String idrLine = io.herald.logging.Masking.mask(parts.render(idr, "billing.payment_failed", "ops_webhook", anna).get("text"));
        String vndLine = io.herald.logging.Masking.mask(parts.render(vnd, "billing.payment_failed", "ops_webhook", nils).get("text"));
        assertThat(idrLine).startsWith(":warning: Payment failed: 250.000.000,00\u00a0IDR, invoice INV-0042");
        assertThat(vndLine).startsWith(":warning: Payment failed: ₫\u00a0250.000.000, invoice INV-0043");
    }

    /**
     * The ops webhook is read by the team, in one channel for customers everywhere: times written in each customer's zone read
     * "7:30 PM CST" for a customer in Chicago and "09:30 CST" for one in Shanghai, the same abbreviation for zones 14 hours
     * apart (IST is India, Israel or Ireland). The team's text writes times in UTC; the customer's own messages keep their zone.
     */
    @Test
    void theOpsWebhookWritesTimesInUtcWhateverTheCustomersZone() {
        Customer chicago = new Customer("cus_chi", "Cal Ito", "cal@example.org", null, List.of(), "en-US", "America/Chicago", Map.of());
        Customer shanghai = new Customer("cus_sha", "Li Wei", "li@example.org", null, List.of(), "zh-CN", "Asia/Shanghai", Map.of());
        CanonicalNotification failed = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", "49.00 USD", "attemptCount", 1,
                "nextPaymentAttempt", "2027-01-15T01:30:00Z"));
        assertThat(parts.render(failed, "billing.payment_failed", "ops_webhook", chicago).get("text"))
                .endsWith("Next attempt: Friday, January 15, 2027, 1:30 AM UTC.");
        assertThat(parts.render(failed, "billing.payment_failed", "ops_webhook", shanghai).get("text"))
                .endsWith("Next attempt: Friday, 15 January 2027, 1:30 am UTC.");
        assertThat(parts.render(failed, "billing.payment_failed", "email", chicago).get("text"))
                .contains("We will try again on Thursday, January 14, 2027, 7:30 PM CST.");
    }

    // ------------------------------------------------------------------ times

    /** Held up: the repeated hour of October's change is told apart, the date line is crossed, no zone is labelled. */
    @Test
    void repeatedHoursDateLineAndNoZoneAreWrittenUnambiguously() {
        Map<String, Object> first = MessageContext.of(notification("crm.appointment_reminder",
                Map.of("startsAt", "2026-10-25T02:30:00+02:00", "later", "2026-10-25T02:30:00+01:00")), LUKAS, Locale.GERMANY);
        assertThat(first.get("startsAtLocal")).isEqualTo("Sonntag, 25. Oktober 2026, 02:30 MESZ");
        assertThat(first.get("laterLocal")).isEqualTo("Sonntag, 25. Oktober 2026, 02:30 MEZ");
        Customer auckland = new Customer("cus_nz", "Aroha", "a@example.org", null, List.of(), "en-NZ", "Pacific/Auckland", Map.of());
        Map<String, Object> nz = MessageContext.of(notification("crm.appointment_reminder",
                Map.of("startsAt", "2026-12-31T23:30:00-10:00")), auckland, Locale.forLanguageTag("en-NZ"));
        assertThat(nz.get("startsAtLocal")).isEqualTo("Friday, 1 January 2027, 10:30 pm NZDT");
        Customer nozone = new Customer("cus_u", "Una", "u@example.org", null, List.of(), "en-GB", null, Map.of());
        Map<String, Object> none = MessageContext.of(notification("crm.appointment_reminder",
                Map.of("startsAt", "2026-11-24T14:30:00-05:00")), nozone, Locale.UK);
        assertThat(none.get("startsAtLocal")).isEqualTo("Tuesday, 24 November 2026, 14:30 UTC-05:00");
    }

    /**
     * A CRM writes a placeholder for a time it has not got (0001-01-01, the Unix epoch, 9999-12-31): a cancellation's or a move's
     * former time read "Your Call on Thursday, 1 January 1970, 01:00 GMT is cancelled", "on Sunday, 31 December 1, 23:58 GMT has
     * moved to ..." and, in German, "am Samstag, 1. Januar 10000". Such a time is left out (config/rules.yaml, implausible:
     * leave-out): the notice reads without it, and the cancellation and the move still reach the reminders.
     */
    @Test
    void aPlaceholderTimeOfACancelledOrMovedAppointmentIsLeftOut() throws Exception {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        io.herald.notification.NotificationValidator validator = new io.herald.notification.NotificationValidator(catalog,
                new io.herald.notification.NotificationRules("config/rules.yaml", catalog), JSON);
        String now = Instant.now().toString();
        String later = Instant.now().plus(java.time.Duration.ofDays(5)).truncatedTo(java.time.temporal.ChronoUnit.DAYS).plusSeconds(36_000).toString();
        String laterRead = MessageContext.of(notification("x", Map.of("t", later)), JENNY, Locale.UK).get("tLocal").toString();
        for (String placeholder : List.of("0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01")) {
            String cancelledRow = """
                    {"outboxId": 91, "eventType": "appointment.cancelled", "createdAt": "%s",
                     "payload": {"appointmentId": "APT-9", "account": {"externalId": "cus_jenny"}, "service": "Call", "startsAt": "%s"}}"""
                    .formatted(now, placeholder);
            CanonicalNotification cancelled = validator.validate(JSON.readTree(map("crm-outbox.ds", cancelledRow)));
            assertThat(parts.render(cancelled, "crm.appointment_cancelled", "sms", JENNY).get("text")).as(placeholder)
                    .isEqualTo("Your Call is cancelled.");
            assertThat(parts.render(cancelled, "crm.appointment_cancelled", "email", LUKAS).get("text")).as(placeholder)
                    .contains("Ihr Termin „Call“ wurde abgesagt").doesNotContain("Januar");
            String movedRow = """
                    {"outboxId": 92, "eventType": "appointment.rescheduled", "createdAt": "%s",
                     "payload": {"appointmentId": "APT-9", "account": {"externalId": "cus_jenny"}, "service": "Call",
                                 "startsAt": "%s", "previousStartsAt": "%s"}}""".formatted(now, later, placeholder);
            CanonicalNotification moved = validator.validate(JSON.readTree(map("crm-outbox.ds", movedRow)));
            assertThat(parts.render(moved, "crm.appointment_rescheduled", "email", JENNY).get("text")).as(placeholder)
                    .contains("Your Call has moved to " + laterRead + ". Your reminders move with it.");
        }
    }

    // ------------------------------------------------------------------ German copy

    /**
     * After "Hallo Lukas," a German letter goes on in lower case (as every other German template does: "wir konnten",
     * "vielen Dank", "wir erinnern Sie"). The ticket status and the "details changed" notices start with a capital.
     */
    @Test
    void germanTextAfterTheGreetingGoesOnInLowerCase() throws Exception {
        CanonicalNotification status = golden("support/ticket.status_changed.canonical.json");
        String ticket = parts.render(status, "support.ticket_status_changed", "email", LUKAS).get("text");
        Map<String, Object> data = new LinkedHashMap<>(golden("crm/appointment.rescheduled.canonical.json").data());
        data.put("previousStartsAt", data.get("startsAt"));
        CanonicalNotification details = notification("crm.appointment_rescheduled", data);
        String moved = parts.render(details, "crm.appointment_rescheduled", "email", LUKAS).get("text");
        CanonicalNotification trial = golden("billing/customer.subscription.trial_will_end.no-payment-method.canonical.json");
        String trialText = parts.render(trial, "billing.trial_will_end", "email", LUKAS).get("text");

        assertThat(ticket).startsWith("Hallo Lukas,\n\nder Status Ihrer Supportanfrage");
        assertThat(moved).startsWith("Hallo Lukas,\n\ndie Angaben zu Ihrem Termin");
        // After a colon a whole sentence starts with a capital in German (as the renewal notice writes "Betrag: Es wird").
        assertThat(trialText).contains("fügen Sie vorher eine hinzu: Ohne sie läuft");
    }

    // ------------------------------------------------------------------ tickets

    /**
     * Zendesk: solved, then put on hold (an agent reopens it to wait for a third party), then solved again. The requester saw
     * the ticket open again in between: the change to hold is told as "from Solved to Open", so the second "Solved" follows
     * an "Open" (a digest of the three reads "Solved, Open, Solved", not "Solved, Solved"). Put on hold from open stays
     * untold.
     */
    @Test
    void aTicketSolvedThenPutOnHoldIsToldAsOpenAgain() throws Exception {
        String onHold = map("support-ticket.ds", ticketEvent("01HOLD", "2026-11-21T10:12:40Z", "SOLVED", "HOLD"));
        assertThat(JSON.readTree(onHold).path("ignored").isMissingNode()).as(onHold).isTrue();
        CanonicalNotification reopened = canonical(onHold);
        assertThat(reopened.data()).containsEntry("status", "Open").containsEntry("previousStatus", "Solved");
        String english = parts.render(reopened, "support.ticket_status_changed", "email", JENNY).get("text");
        String german = parts.render(reopened, "support.ticket_status_changed", "email", LUKAS).get("text");
        assertThat(english).contains("Solved").contains("Open");
        assertThat(german).contains("Gelöst").contains("Offen");
        assertThat(english.indexOf("Solved")).isLessThan(english.indexOf("Open"));

        String fromOpen = map("support-ticket.ds", ticketEvent("01HOLD2", "2026-11-21T10:12:40Z", "OPEN", "HOLD"));
        assertThat(JSON.readTree(fromOpen).path("ignored").asText()).contains("put on hold");
        // New is shown to requesters as open as well.
        String fromNew = map("support-ticket.ds", ticketEvent("01HOLD4", "2026-11-21T10:12:40Z", "NEW", "HOLD"));
        assertThat(JSON.readTree(fromNew).path("ignored").asText()).contains("put on hold");
        String fromPending = map("support-ticket.ds", ticketEvent("01HOLD3", "2026-11-21T10:12:40Z", "PENDING", "HOLD"));
        assertThat(canonical(fromPending).data()).containsEntry("status", "Open").containsEntry("previousStatus", "Pending");
    }

    // ------------------------------------------------------------------ subjects

    /**
     * An email subject is one line a mail client shows in part (Gmail about 70-130 characters): a 3,000-character ticket
     * subject or incident summary makes a 3,000-character subject header. SMS and push are fitted; the subject is not.
     */
    @Test
    void anEmailSubjectIsKeptToWhatAMailClientShows() {
        String longSubject = "Printer error E-42 after the update the tray jams again ".repeat(55).strip();
        CanonicalNotification reply = new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied",
                "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"),
                Map.of("ticketId", "35436", "agentName", "Sam Agent", "ticketSubject", longSubject, "commentBody", "Please try the new driver."),
                "normal");
        Map<String, String> replyEmail = parts.render(reply, "support.agent_replied", "email", JENNY);
        String subject = replyEmail.get("subject");
        CanonicalNotification incident = notification("incident.notice", Map.of("summary", longSubject, "startedAt", "2026-11-24T10:00:00Z"));
        String incidentSubject = parts.render(incident, "incident.notice", "email", JENNY).get("subject");
        assertThat(subject.length()).isLessThanOrEqualTo(MessageParts.MAX_SUBJECT);
        assertThat(subject).startsWith("New reply on your request #35436: Printer error E-42 after the update").endsWith("…");
        assertThat(incidentSubject.length()).isLessThanOrEqualTo(MessageParts.MAX_SUBJECT);
        assertThat(incidentSubject).endsWith("…");
        // The body keeps the whole text.
        assertThat(replyEmail.get("text")).contains(longSubject);
    }

    /**
     * A requester's subject, or an agent's whole reply, that reads like an amount or a time ("49.00 USD", "2026-12-01T10:00:00Z")
     * was taken for a template printing a raw value: the reply reached the customer on no channel, and the delivery's reason told
     * the operator to print {{ticketSubjectLocal}}, which would have shown every other subject as nothing. Someone's words,
     * declared kind text in config/rules.yaml, are printed as they were written.
     */
    @Test
    void aTicketSubjectOrReplyThatReadsLikeAnAmountOrATimeIsPrintedAsWritten() throws Exception {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        SmsSettings sms = new SmsSettings("", "", "", "", 10, 16, null, null, false, null, null, null, null, "", 1600, 10);
        PushSettings push = new PushSettings("", "", 50, 16, null, null, false, null, null, null, null, 1000, "", 10);
        MessageParts declared = new MessageParts(new TemplateRenderer("templates", "en"), sms, push,
                new io.herald.notification.NotificationRules("config/rules.yaml", catalog));
        CanonicalNotification reply = new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied",
                "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"),
                Map.of("ticketId", "35436", "agentName", "Sam Agent", "ticketSubject", "49.00 USD",
                        "commentBody", "2026-12-01T10:00:00Z", "commentExcerpt", "2026-12-01T10:00:00Z"), "normal");
        assertThat(declared.render(reply, "support.agent_replied", "email", JENNY).get("subject"))
                .isEqualTo("New reply on your request #35436: 49.00 USD");
        assertThat(declared.render(reply, "support.agent_replied", "email", JENNY).get("text")).contains("\n\n2026-12-01T10:00:00Z\n");
        assertThat(declared.render(reply, "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Sam Agent replied to your request #35436 \"49.00 USD\": \"2026-12-01T10:00:00Z\"");
        assertThat(declared.render(reply, "support.agent_replied", "push", JENNY).get("body"))
                .isEqualTo("Sam Agent replied to \"49.00 USD\": 2026-12-01T10:00:00Z");
    }

    /**
     * A name is one line: a CRM's name field filled from a form's text area ("Ana\nMaría", "Jenny\r\nBcc: x@example.com") or with
     * a tab greeted the customer over two lines ("Hello Ana" and "María," below it) in the text and the HTML. Line breaks, tabs
     * and other control characters in a name are read as one space.
     */
    @Test
    void aNameWithALineBreakIsGreetedOnOneLine() {
        Customer ana = new Customer("cus_ana", "Ana\nMaría Pérez", "ana@example.org", null, List.of(), "en-GB", "Europe/London", Map.of(),
                "Ana\r\nMaría\t");
        CanonicalNotification failed = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", "49.00 EUR", "attemptCount", 1));
        Map<String, String> email = parts.render(failed, "billing.payment_failed", "email", ana);
        assertThat(email.get("text")).startsWith("Hello Ana María,\n\n");
        assertThat(email.get("html")).contains("<p>Hello Ana María,</p>");
        Customer unnamed = new Customer("cus_u", "Jenny\r\nBcc: x@example.com", "u@example.org", null, List.of(), "en-GB", "Europe/London", Map.of());
        assertThat(MessageContext.of(failed, unnamed, Locale.UK).get("customer"))
                .isEqualTo(Map.of("id", "cus_u", "name", "Jenny Bcc: x@example.com", "firstName", "Jenny"));
    }

    /**
     * Held up: Mustache tags and HTML in what customers and sources write are printed as text, never interpreted. A ticket subject
     * "{{customer.name}} {{=<% %>=}} <%ticketId%>" and an agent's reply with a section and a partial read as written on every
     * channel; a subject, a reply and a customer's name with markup are escaped in the HTML part, whether written from the text
     * (an agent's reply) or by an email.html template (a payment to confirm, its invoice number from the billing system).
     */
    @Test
    void mustacheTagsAndHtmlInTheDataArePrintedAsText() {
        String subject = "{{customer.name}} {{=<% %>=}} <%ticketId%> {{{x}}}";
        String body = "{{#a}}b{{/a}} {{> p}} <script>alert(1)</script>";
        CanonicalNotification reply = new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied",
                "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"),
                Map.of("ticketId", "35436", "agentName", "Sam <b>Agent</b>", "ticketSubject", subject, "commentBody", body,
                        "commentExcerpt", body), "normal");
        Map<String, String> email = parts.render(reply, "support.agent_replied", "email", JENNY);
        assertThat(email.get("subject")).isEqualTo("New reply on your request #35436: " + subject);
        assertThat(email.get("text")).contains("\"" + subject + "\":\n\n" + body + "\n");
        assertThat(email.get("html")).contains("&lt;script&gt;alert(1)&lt;/script&gt;", "Sam &lt;b&gt;Agent&lt;/b&gt;",
                "{{customer.name}} {{=&lt;% %&gt;=}} &lt;%ticketId%&gt; {{{x}}}").doesNotContain("<script", "<b>");
        assertThat(parts.render(reply, "support.agent_replied", "sms", JENNY).get("text")).contains("\"" + subject + "\"", body);
        assertThat(parts.render(reply, "support.agent_replied", "push", JENNY).get("body")).contains(subject, body);

        Customer marked = new Customer("cus_m", "<img src=x onerror=alert(1)>", "m@example.org", null, List.of(), "en-GB", "Europe/London",
                Map.of(), "<img src=x onerror=alert(1)>");
        CanonicalNotification confirm = notification("billing.payment_action_required", Map.of("invoiceId", "in_1",
                "invoiceNumber", "INV-1\"><script>x</script>", "amountDue", "49.00 EUR", "attemptCount", 1));
        String html = parts.render(confirm, "billing.payment_action_required", "email", marked).get("html");
        assertThat(html).contains("Hello &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;,", "INV-1&quot;&gt;&lt;script&gt;x&lt;/script&gt;")
                .doesNotContain("<img", "<script");
    }

    // ------------------------------------------------------------------ orders, SMS wording

    /** A quantity that is not whole (1.5 kg of coffee) is written the German way in a German mail: "1,5 x", not "1.5 x". */
    @Test
    void aGermanOrderWritesAFractionalQuantityTheGermanWay() throws Exception {
        String order = map("crm-outbox.ds", """
                {"outboxId": 901, "eventType": "order.confirmed", "createdAt": "2026-11-21T09:58:13Z",
                 "payload": {"account": {"externalId": "cus_lukas"}, "orderNumber": "100311", "currency": "EUR", "totalAmount": 36.75,
                             "lines": [{"name": "Kaffeebohnen (kg)", "qty": 1.5, "unitPrice": 24.50}]}}""");
        CanonicalNotification confirmed = canonical(order);
        String german = parts.render(confirmed, "crm.order_confirmed", "email", LUKAS).get("text");
        assertThat(german).contains("- 1,5 x Kaffeebohnen (kg) zu je 24,50\u00a0€: 36,75\u00a0€");
    }

    /**
     * A unit price below the currency's smallest unit (labels at 0.125 EUR each, B2B) was rounded to a cent while its line total
     * was not: "1,000 x Label at €0.13: €125.00", which does not add up (1,000 x €0.13 is €130.00). A unit price keeps the
     * precision the CRM gave it, up to a thousandth; totals are rounded to the currency's unit as before.
     */
    @Test
    void aUnitPriceBelowACentIsWrittenAsGivenSoTheLineAddsUp() throws Exception {
        String order = map("crm-outbox.ds", """
                {"outboxId": 902, "eventType": "order.confirmed", "createdAt": "2026-11-21T09:58:13Z",
                 "payload": {"account": {"externalId": "cus_jenny"}, "orderNumber": "100312", "currency": "EUR", "totalAmount": 144.99,
                             "lines": [{"name": "Label", "qty": 1000, "unitPrice": 0.125}, {"name": "Ink", "qty": 1, "unitPrice": 19.99}]}}""");
        String text = parts.render(canonical(order), "crm.order_confirmed", "email", JENNY).get("text");
        assertThat(text).contains("- 1,000 x Label at €0.125: €125.00\n- 1 x Ink at €19.99: €19.99\n\nTotal: €144.99");
        String yen = map("crm-outbox.ds", """
                {"outboxId": 903, "eventType": "order.confirmed", "createdAt": "2026-11-21T09:58:13Z",
                 "payload": {"account": {"externalId": "cus_jenny"}, "orderNumber": "100313", "currency": "JPY", "totalAmount": 1005,
                             "lines": [{"name": "Screw", "qty": 10, "unitPrice": 100.5}]}}""");
        assertThat(parts.render(canonical(yen), "crm.order_confirmed", "email", JENNY).get("text"))
                .contains("- 10 x Screw at JP¥100.5: JP¥1,005\n");
        // Two places where the currency has none are two places, not three ("JP¥100.250" read as three-decimal money).
        String quarterYen = map("crm-outbox.ds", """
                {"outboxId": 904, "eventType": "order.confirmed", "createdAt": "2026-11-21T09:58:13Z",
                 "payload": {"account": {"externalId": "cus_jenny"}, "orderNumber": "100314", "currency": "JPY", "totalAmount": 401,
                             "lines": [{"name": "Washer", "qty": 4, "unitPrice": 100.25}]}}""");
        assertThat(parts.render(canonical(quarterYen), "crm.order_confirmed", "email", JENNY).get("text"))
                .contains("- 4 x Washer at JP¥100.25: JP¥401\n");
    }

    /** The payment-failure SMS asks to "update your card" while the email (and the German SMS) say "payment method": an invoice may be paid by SEPA debit or bank transfer. */
    @Test
    void thePaymentFailureSmsDoesNotAssumeACard() {
        CanonicalNotification failed = notification("billing.payment_failed", Map.of(
                "invoiceId", "in_1", "invoiceNumber", "INV-0042", "amountDue", "49.00 EUR", "attemptCount", 1,
                "hostedInvoiceUrl", "https://invoice.stripe.com/i/acct_1/test_1"));
        String sms = parts.render(failed, "billing.payment_failed", "sms", JENNY).get("text");
        String email = parts.render(failed, "billing.payment_failed", "email", JENNY).get("text");
        assertThat(email).contains("update your payment method");
        assertThat(sms).doesNotContain("card");
    }

    /**
     * A charge refunded in two steps (£80.00, then the remaining £49.99): the first mail says "£80.00 in total of your £129.99
     * payment"; the second, for the rest, reads "We refunded £129.99", as if a new refund of the whole payment were on its way.
     */
    @Test
    void theRefundThatCompletesEarlierPartialRefundsDoesNotReadAsANewRefundOfTheWholePayment() throws Exception {
        String first = map("billing-stripe.ds", stripeRefund("evt_r1", 1763730000, 8000, false, "[{\"id\": \"re_1\", \"amount\": 8000}]"));
        String second = map("billing-stripe.ds", stripeRefund("evt_r2", 1763816400, 12999, true,
                "[{\"id\": \"re_2\", \"amount\": 4999}, {\"id\": \"re_1\", \"amount\": 8000}]"));
        Map<String, String> partial = parts.render(canonical(first), "billing.charge_refunded", "email", JENNY);
        Map<String, String> rest = parts.render(canonical(second), "billing.charge_refunded", "email", JENNY);
        Map<String, String> restDe = parts.render(canonical(second), "billing.charge_refunded", "email", LUKAS);
        assertThat(partial.get("text")).contains("We have now refunded £80.00 in total of your £129.99 payment");
        assertThat(rest.get("subject")).isEqualTo("Your £129.99 payment for order ORD-100311 is refunded in full");
        assertThat(restDe.get("subject")).isEqualTo("Ihre Zahlung von 129,99\u00a0£ für die Bestellung ORD-100311 ist vollständig erstattet");
        assertThat(rest.get("text")).doesNotContain("We refunded £129.99 for order ORD-100311 to your original payment method.");
    }

    /**
     * An agent's reply that starts with a help-centre link longer than the excerpt's 120 characters: the SMS and the push (with
     * first-success, possibly all the customer gets) carry the link cut in the middle, a broken address.
     */
    @Test
    void anSmsOrPushNeverCarriesALinkCutInTheMiddle() throws Exception {
        String link = "https://support.example.com/hc/en-us/articles/360001234567-How-to-reset-the-printer-tray-sensor-after-the-firmware-update";
        String reply = map("support-ticket.ds", """
                {"type": "zen:event-type:ticket.comment_added", "id": "01REPLY", "time": "2026-11-21T10:20:00Z",
                 "detail": {"id": "35436", "external_id": "cus_jenny", "requester_id": "9000000123456", "subject": "Printer tray"},
                 "event": {"comment": {"id": "777", "is_public": true, "body": "%s\\n\\nThis fixes it in two minutes.",
                                       "author": {"id": "1", "is_staff": true, "name": "Sam Agent"}}}}""".formatted(link));
        CanonicalNotification replied = canonical(reply);
        String sms = parts.render(replied, "support.agent_replied", "sms", JENNY).get("text");
        String push = parts.render(replied, "support.agent_replied", "push", JENNY).get("body");
        assertThat(sms).satisfiesAnyOf(text -> assertThat(text).contains(link), text -> assertThat(text).doesNotContain("https://"));
        assertThat(push).satisfiesAnyOf(text -> assertThat(text).contains(link), text -> assertThat(text).doesNotContain("https://"));
    }

    // ------------------------------------------------------------------ helpers

    private static String stripeRefund(String id, long created, long refunded, boolean whole, String refunds) {
        return """
                {"id": "%s", "type": "charge.refunded", "created": %d, "api_version": "2024-06-20",
                 "data": {"object": {"id": "ch_3QxU2b", "object": "charge", "customer": "cus_jenny", "currency": "gbp",
                                     "amount": 12999, "amount_refunded": %d, "refunded": %s, "captured": true,
                                     "metadata": {"order_id": "ORD-100311"}, "refunds": {"object": "list", "data": %s}}}}"""
                .formatted(id, created, refunded, whole, refunds);
    }

    private static String ticketEvent(String id, String time, String previous, String current) {
        return """
                {"type": "zen:event-type:ticket.status_changed", "id": "%s", "time": "%s",
                 "detail": {"id": "35436", "external_id": "cus_jenny", "requester_id": "9000000123456",
                            "subject": "Printer error E-42 after update"},
                 "event": {"current": "%s", "previous": "%s"}}""".formatted(id, time, current, previous);
    }

    private static String stripeFailure(long amount, String currency) {
        return """
                {"id": "evt_%s", "type": "invoice.payment_failed", "created": 1763719200,
                 "data": {"object": {"id": "in_%s", "customer": "cus_jenny", "number": "INV-1", "currency": "%s",
                                     "amount_due": %d, "amount_paid": 0, "attempt_count": 1}}}""".formatted(currency, currency, currency, amount);
    }

    private static String map(String mapping, String input) {
        return DataSonnetRun.evaluate(camel, "resource:file:datasonnet/" + mapping, input);
    }

    private static String field(String mapped, String name) {
        try {
            return JSON.readTree(mapped).path("data").path(name).asText();
        } catch (Exception e) {
            throw new IllegalStateException(mapped, e);
        }
    }

    private static CanonicalNotification canonical(String mapped) throws Exception {
        JsonNode node = JSON.readTree(mapped);
        Map<String, Object> refs = JSON.convertValue(node.get("refs"), new TypeReference<>() { });
        Map<String, Object> data = JSON.convertValue(node.get("data"), new TypeReference<>() { });
        return new CanonicalNotification(node.get("idempotencyKey").asText(), node.get("source").asText(), node.get("sourceEventId").asText(),
                node.get("type").asText(), node.path("customerId").asText(null), Instant.parse(node.get("occurredAt").asText()), refs, data,
                node.get("priority").asText());
    }

    private static CanonicalNotification golden(String file) throws Exception {
        return canonical(java.nio.file.Files.readString(Path.of("src/test/resources/golden").resolve(file)));
    }

    private static CanonicalNotification notification(String type, Map<String, Object> data) {
        return new CanonicalNotification("test:" + type, "test", "evt_test", type, "cus_test", Instant.parse("2026-11-21T10:00:00Z"),
                Map.of(), data, "normal");
    }

    private static MessageParts parts() {
        SmsSettings sms = new SmsSettings("", "", "", "", 10, 16, null, null, false, null, null, null, null, "", 1600, 10);
        PushSettings push = new PushSettings("", "", 50, 16, null, null, false, null, null, null, null, 1000, "", 10);
        return new MessageParts(new TemplateRenderer("templates", "en"), sms, push);
    }
}
