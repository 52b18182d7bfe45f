package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SMS and push fitted to what their providers take: the data's long texts shortened, the template's own words kept. */
class MessagePartsTest {

    private static final Customer JENNY = new Customer("cus_jenny", "Jenny Rosen", "jenny@example.org", "+447700900123",
            List.of("tok"), "en-GB", "Europe/London", Map.of());
    private static final String SUBJECT = "Printer error E-42 " + "after the update the tray jams again ".repeat(80);

    @Test
    void anSmsOverTheProvidersLimitIsSentWithTheLongestTextOfTheDataShortened() {
        MessageParts parts = parts("templates", 1600, 1000);
        Map<String, String> sms = parts.render(reply(SUBJECT), "support.agent_replied", "sms", JENNY);
        assertThat(sms.get("text").length()).isLessThanOrEqualTo(1600).isGreaterThan(1500);
        assertThat(sms.get("text")).startsWith("Sam Agent replied to your request #35436 \"Printer error E-42 after the update")
                .endsWith("...\". Open the ticket to read it.");   // GSM-7 has no "…"
        // Cut after a word, not inside one.
        assertThat(sms.get("text")).containsPattern("(again|after|the|update|tray|jams)\\.\\.\\.\"");

        Map<String, String> push = parts.render(reply(SUBJECT), "support.agent_replied", "push", JENNY);
        assertThat(push.get("title").length() + push.get("body").length()).isLessThanOrEqualTo(1000);
        assertThat(push.get("title")).isEqualTo("New reply on request #35436");
        assertThat(push.get("body")).startsWith("Sam Agent replied to \"Printer error E-42").endsWith("…\"");

        // Email has no such limit: the whole subject.
        assertThat(parts.render(reply(SUBJECT), "support.agent_replied", "email", JENNY).get("text")).contains(SUBJECT.strip());
        // A message that fits is left as it is.
        assertThat(parts.render(reply("Printer error"), "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Sam Agent replied to your request #35436 \"Printer error\". Open the ticket to read it.");
    }

    /**
     * An SMS costs a segment per 153 GSM-7 characters, or per 67 once one character is outside GSM-7 (Chinese, emoji): it is
     * fitted to herald.sms.max-segments as well as to the provider's length, so a long Chinese subject is cut to what 10
     * segments hold instead of costing 24.
     */
    @Test
    void anSmsIsFittedToTheSegmentsItMayCostInItsAlphabet() {
        MessageParts parts = parts("templates", 1600, 1000, 10);
        String chinese = "打印机在更新后无法打印，纸盒又卡住了，请帮忙看看。".repeat(60);   // 1,500 characters outside GSM-7
        String text = parts.render(reply(chinese), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(SmsSegments.gsm7(text)).isFalse();
        assertThat(text.length()).isLessThanOrEqualTo(670).isGreaterThan(600);
        assertThat(SmsSegments.count(text)).isEqualTo(10);
        assertThat(text).startsWith("Sam Agent replied to your request #35436 \"打印机在更新后").endsWith("...\". Open the ticket to read it.");
        // The same subject in GSM-7 letters keeps 10 segments' worth of them: 1,530 characters.
        String latin = parts.render(reply(SUBJECT), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(SmsSegments.gsm7(latin)).isTrue();
        assertThat(latin.length()).isLessThanOrEqualTo(1530).isGreaterThan(1450);
        assertThat(SmsSegments.count(latin)).isEqualTo(10);
        // A template whose own words need more segments than allowed fails with the reason, naming the setting.
        assertThatThrownBy(() -> parts("templates", 1600, 1000, 1).render(reply(chinese), "support.agent_replied", "sms", JENNY))
                .isInstanceOf(MessageTooLong.class)
                .hasMessageContaining("and 70 fit in 1 segment, the most one SMS may cost (herald.sms.max-segments)");
        assertThat(SmsSegments.count("x".repeat(160))).isEqualTo(1);
        assertThat(SmsSegments.count("x".repeat(161))).isEqualTo(2);
        assertThat(SmsSegments.count("€".repeat(80))).isEqualTo(1);
        assertThat(SmsSegments.count("€".repeat(81))).isEqualTo(2);
        assertThat(SmsSegments.count("é".repeat(70) + "ł")).isEqualTo(2);
    }

    /** The reply's start is in the SMS and the push: with first-success they may be all the customer gets. */
    @Test
    void anAgentReplySmsAndPushCarryTheStartOfTheReply() {
        MessageParts parts = parts("templates", 1600, 1000);
        CanonicalNotification reply = replyWith(Map.of("agentName", "Sam Agent", "ticketSubject", "Printer error",
                "commentBody", "Please try the new driver 4.2.1.", "commentExcerpt", "Please try the new driver 4.2.1.", "commentExcerptShortened", false));
        assertThat(parts.render(reply, "support.agent_replied", "sms", JENNY).get("text")).isEqualTo(
                "Sam Agent replied to your request #35436 \"Printer error\": \"Please try the new driver 4.2.1.\"");
        CanonicalNotification longer = replyWith(Map.of("agentName", "Sam Agent", "ticketSubject", "Printer error",
                "commentBody", "Please try the new driver 4.2.1. Then …", "commentExcerpt", "Please try the new driver 4.2.1. Then…",
                "commentExcerptShortened", true));
        assertThat(parts.render(longer, "support.agent_replied", "sms", JENNY).get("text")).isEqualTo(
                "Sam Agent replied to your request #35436 \"Printer error\": \"Please try the new driver 4.2.1. Then...\" Read all of it in your request.");
        assertThat(parts.render(reply, "support.agent_replied", "push", JENNY).get("body"))
                .isEqualTo("Sam Agent replied to \"Printer error\": Please try the new driver 4.2.1.");
    }

    /**
     * A value ending with its own full stop and the template's full stop after it make one: "Jr.", not "Jr..", and a quoted
     * subject that ends a sentence is not followed by a second one. An ellipsis, and dots inside a value, stay as written.
     */
    @Test
    void aValueEndingWithAFullStopIsNotFollowedByTheTemplatesOwn() {
        MessageParts parts = parts("templates", 1600, 1000);
        CanonicalNotification booking = new CanonicalNotification("crm:appointment.scheduled:APT-1", "crm", "crm-outbox-1",
                "crm.appointment_scheduled", "cus_jenny", Instant.parse("2026-12-01T10:00:00Z"), Map.of(),
                Map.of("appointmentId", "APT-1", "startsAt", "2026-12-07T10:00:00Z", "ownerName", "Sam Okafor Jr."), "normal");
        assertThat(parts.render(booking, "crm.appointment_scheduled", "sms", JENNY).get("text"))
                .isEqualTo("Booked: your appointment on Monday, 7 December 2026, 10:00 GMT with Sam Okafor Jr.");
        assertThat(parts.render(booking, "crm.appointment_scheduled", "email", JENNY).get("html")).doesNotContain("Jr..").contains("Jr.");
        CanonicalNotification subjectEndsASentence = replyWith(Map.of("agentName", "Sam Agent", "ticketSubject", "Printer broken.",
                "commentBody", "Fixed."));
        assertThat(parts.render(subjectEndsASentence, "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Sam Agent replied to your request #35436 \"Printer broken.\" Open the ticket to read it.");
        // A "." that does not end a sentence stays: "Jr..com".
        assertThat(SentenceEnds.tidy(SentenceEnds.FORMATTER.format("Sam Jr.") + ".com and " + SentenceEnds.FORMATTER.format("Jr.") + ".)"))
                .isEqualTo("Sam Jr..com and Jr.)");
        CanonicalNotification dotsInside = replyWith(Map.of("agentName", "Sam Agent", "ticketSubject", "v1..2 fails... again",
                "commentBody", "Fixed."));
        assertThat(parts.render(dotsInside, "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Sam Agent replied to your request #35436 \"v1..2 fails... again\". Open the ticket to read it.");
        CanonicalNotification ellipsis = replyWith(Map.of("agentName", "Sam Agent", "ticketSubject", "The tray jams...",
                "commentBody", "Fixed."));
        assertThat(parts.render(ellipsis, "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Sam Agent replied to your request #35436 \"The tray jams...\". Open the ticket to read it.");
    }

    /**
     * A template edited while Herald runs, or one for a field config/rules.yaml does not declare (the startup check knows only
     * those), that prints a time or an amount as the data holds it stops the message with the reason, naming the file and the
     * written form to print; the customer never reads "2026-12-05T22:04:56Z". A date alone may be a customer's own words.
     */
    @Test
    void aTemplatePrintingARawTimeOrAmountStopsTheMessageNamingTheFileAndTheField(@TempDir Path root) throws IOException {
        Path folder = Files.createDirectories(root.resolve("billing.subscription_cancelled"));
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Your plan ({{planPrice}}) ended {{endedAt}}.");
        CanonicalNotification cancelled = new CanonicalNotification("billing:customer.subscription.deleted:sub_1", "billing", "evt_1",
                "billing.subscription_cancelled", "cus_jenny", Instant.parse("2026-12-05T22:05:00Z"), Map.of(),
                Map.of("planPrice", "12.99 GBP", "endedAt", "2026-12-05T22:04:56Z", "note", "2026-12-05 2 pen"), "normal");
        MessageParts parts = parts(root.toString(), 1600, 1000);
        assertThatThrownBy(() -> parts.render(cancelled, "billing.subscription_cancelled", "sms", JENNY)).isInstanceOf(TemplateMissing.class)
                .hasMessage("template billing.subscription_cancelled/sms.text.en.mustache prints {{planPrice}} (an amount) as the data holds it"
                        + " (12.99 GBP), not written for the customer: print {{planPriceLocal}} instead (templates/README.md); the next"
                        + " message uses the corrected file. If planPrice is someone's words that only read like an amount, declare it kind"
                        + " text for its notification type in config/rules.yaml instead, and restart");
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Your plan ({{planPriceLocal}}) ended {{endedAt}}.");
        assertThatThrownBy(() -> parts.render(cancelled, "billing.subscription_cancelled", "sms", JENNY))
                .hasMessageContaining("prints {{endedAt}} (a time) as the data holds it (2026-12-05T22:04:56Z)")
                .hasMessageContaining("print {{endedAtLocal}} instead");
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Your plan ({{planPriceLocal}})\nended {{{endedAt}}}.");
        assertThatThrownBy(() -> parts.render(cancelled, "billing.subscription_cancelled", "sms", JENNY))
                .hasMessageContaining("sms.text.en.mustache line 2 writes a variable unescaped ({{{...}}} or {{&...}})");
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Your plan ({{planPriceLocal}}) ended {{endedAtLocal}}. {{note}}");
        assertThat(parts.render(cancelled, "billing.subscription_cancelled", "sms", JENNY).get("text"))
                .isEqualTo("Your plan (£12.99) ended Saturday, 5 December 2026, 22:04 GMT. 2026-12-05 2 pen");
        assertThat(MessageContext.isAmount("2 pen")).isFalse();
        assertThat(MessageContext.isAmount("49.00 USD")).isTrue();
    }

    /** An empty text in the data reads as a missing one: the template's wording without it, never empty quotes. */
    @Test
    void anEmptySubjectOrAgentNameIsLeftOutLikeAMissingOne() {
        MessageParts parts = parts("templates", 1600, 1000);
        CanonicalNotification blank = replyWith(Map.of("agentName", "", "ticketSubject", "", "commentBody", "Please try the new driver."));
        assertThat(parts.render(blank, "support.agent_replied", "sms", JENNY).get("text"))
                .isEqualTo("Our support team replied to your request #35436. Open the ticket to read it.");
        assertThat(parts.render(blank, "support.agent_replied", "push", JENNY).get("body")).isEqualTo("Our support team replied to your request #35436");
        Map<String, String> email = parts.render(blank, "support.agent_replied", "email", JENNY);
        assertThat(email.get("subject")).isEqualTo("New reply on your request #35436");
        assertThat(email.get("text")).contains("Our support team replied to your support request #35436:").doesNotContain("\"\"");
    }

    @Test
    void aTemplateWhoseOwnWordsAreTooLongFailsWithTheReasonBeforeAnyProviderCall(@TempDir Path root) throws IOException {
        Path folder = Files.createDirectories(root.resolve("support.agent_replied"));
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Reply on #{{ticketId}}: {{ticketSubject}}. " + "Please read. ".repeat(10));
        MessageParts parts = parts(root.toString(), 200, 1000);
        assertThat(parts.render(reply(SUBJECT), "support.agent_replied", "sms", JENNY).get("text")).hasSizeLessThanOrEqualTo(200);
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Reply on #{{ticketId}}: {{ticketSubject}}. " + "Please read. ".repeat(40));
        assertThatThrownBy(() -> parts.render(reply(SUBJECT), "support.agent_replied", "sms", JENNY))
                .isInstanceOf(MessageTooLong.class)
                .hasMessageStartingWith("the SMS text is 5")
                .hasMessageContaining("characters with the data's texts shortened, and the provider takes at most 200 (herald.sms.max-length):"
                        + " shorten the sms templates of support.agent_replied in locale en (templates/support.agent_replied/sms.*.mustache),"
                        + " then retry this delivery");
    }

    /** A link, an id or a written time is never cut: a message that only fits by cutting one fails instead. */
    @Test
    void aLinkIsNeverCut(@TempDir Path root) throws IOException {
        Path folder = Files.createDirectories(root.resolve("support.agent_replied"));
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Reply on #{{ticketId}}: {{ticketSubject}}. Read it: {{ticketUrl}}");
        String link = "https://support.example.com/hc/requests/35436?token=" + "x".repeat(120);
        CanonicalNotification reply = new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied",
                "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"),
                Map.of("ticketSubject", SUBJECT.strip(), "ticketUrl", link), "normal");
        String text = parts(root.toString(), 250, 1000).render(reply, "support.agent_replied", "sms", JENNY).get("text");
        assertThat(text).hasSizeLessThanOrEqualTo(250).endsWith("Read it: " + link).contains("...");
        assertThatThrownBy(() -> parts(root.toString(), 120, 1000).render(reply, "support.agent_replied", "sms", JENNY))
                .isInstanceOf(MessageTooLong.class);
    }

    /**
     * A German SMS is written in GSM-7 (160 characters a segment), not UCS-2 (70): the no-break space Java's German currency
     * format puts before the symbol and the template's „…“ become their plain forms; the customer's own letters stay.
     */
    @Test
    void aGermanSmsKeepsToTheGsmAlphabet() {
        Customer lukas = new Customer("cus_lukas", "Lukas Müller", "lukas@example.org", "+4915112345678", List.of(), "de-DE",
                "Europe/Berlin", Map.of());
        MessageParts parts = parts("templates", 1600, 1000);
        CanonicalNotification failed = new CanonicalNotification("billing:invoice.payment_failed:in_1:attempt-1", "billing", "evt_1",
                "billing.payment_failed", "cus_lukas", Instant.parse("2026-11-21T10:00:00Z"), Map.of("invoiceId", "in_1"),
                Map.of("amountDue", "49.00 USD", "invoiceNumber", "A1B2-0007", "attemptCount", 1,
                        "hostedInvoiceUrl", "https://invoice.stripe.com/i/acct_1/test_YWNjdF8x"), "high");
        String payment = parts.render(failed, "billing.payment_failed", "sms", lukas).get("text");
        assertThat(payment).contains("49,00 $").matches(GSM_7);
        CanonicalNotification cancelled = new CanonicalNotification("crm:appointment.cancelled:apt_1:9", "crm", "9",
                "crm.appointment_cancelled", "cus_lukas", Instant.parse("2026-11-21T10:00:00Z"), Map.of(),
                Map.of("appointmentId", "apt_1", "service", "Beratung", "startsAt", "2026-12-10T10:00:00+01:00"), "normal");
        String notice = parts.render(cancelled, "crm.appointment_cancelled", "sms", lukas).get("text");
        assertThat(notice).contains("\"Beratung\"").matches(GSM_7);
        // An agent's reply in German: the template's „…“ plain, short enough for one segment with a short subject.
        String replied = parts.render(reply("Druckerfehler"), "support.agent_replied", "sms", lukas).get("text");
        assertThat(replied).isEqualTo("Sam Agent hat auf Ihre Anfrage #35436 \"Druckerfehler\" geantwortet. Sie finden die Antwort im Ticket.")
                .matches(GSM_7).hasSizeLessThanOrEqualTo(160);
        // A long text from the data with typographic characters is still found, written plain, and shortened to fit.
        String shortened = parts.render(reply("It\u2019s \u201Cbroken\u201D \u2013 " + SUBJECT), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(shortened).hasSizeLessThanOrEqualTo(1600).contains("\"It's \"broken\" - Printer error").endsWith("...\". Open the ticket to read it.");
        assertThat(SmsText.plain("Grüße – „Jörg“ … Привет")).isEqualTo("Grüße - \"Jörg\" ... Привет");
    }

    /**
     * Characters nobody sees in a ticket subject copied from a web page or a word processor: a soft hyphen (U+00AD), a tab, a
     * left-to-right mark (U+200E), a zero-width non-joiner (U+200C), an invisible operator (U+2061). Each one outside GSM-7 made
     * the whole SMS UCS-2: this one-segment English reply was sent as 70-character segments, and a long one cost 2.3 times as
     * many. They are left out (a tab is a space) where the rest of the text is GSM-7; right-to-left text keeps its marks.
     */
    @Test
    void invisibleCharactersInTheDataDoNotMakeAnSmsUcs2() {
        MessageParts parts = parts("templates", 1600, 1000);
        String sms = parts.render(reply("Print\u00ADer\terror\u200E on tray\u2061 2\u200C"), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(sms).isEqualTo("Sam Agent replied to your request #35436 \"Printer error on tray 2\". Open the ticket to read it.")
                .matches(GSM_7);
        assertThat(SmsSegments.count(sms)).isEqualTo(1);
        String hebrew = "\u05D4\u05DE\u05D3\u05E4\u05E1\u05EA \u200E2\u200E";
        assertThat(SmsText.plain(hebrew)).isEqualTo(hebrew);
        // An emoji sequence keeps its joiner.
        assertThat(SmsText.plain("\uD83D\uDC69\u200D\uD83D\uDCBB")).isEqualTo("\uD83D\uDC69\u200D\uD83D\uDCBB");
    }

    /**
     * A split SMS never cuts a character in two: an emoji (two UTF-16 units) or a GSM-7 extension character such as € (an escape
     * and its code) that would straddle two segments starts the next one, so a segment may carry one unit less. 67 emoji (134
     * units) are sent as 3 segments, not 2, and 153 € as 3; the fitting to herald.sms.max-segments counted 2 and let such an SMS
     * cost one segment more than allowed.
     */
    @Test
    void aSegmentNeverSplitsACharacterOfTwoUnits() {
        assertThat(SmsSegments.count("\uD83D\uDE00".repeat(67))).isEqualTo(3);
        assertThat(SmsSegments.count("\uD83D\uDE00".repeat(66))).isEqualTo(2);
        assertThat(SmsSegments.count("\u20AC".repeat(153))).isEqualTo(3);
        assertThat(SmsSegments.count("\u20AC".repeat(152))).isEqualTo(2);
        assertThat(SmsSegments.count("a" + "\uD83D\uDE00".repeat(66))).isEqualTo(2);
        String text = parts("templates", 1600, 1000, 2).render(reply("\uD83D\uDE00".repeat(200)), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(SmsSegments.count(text)).isEqualTo(2);
        String euros = parts("templates", 1600, 1000, 2).render(reply("\u20AC".repeat(400)), "support.agent_replied", "sms", JENNY).get("text");
        assertThat(SmsSegments.count(euros)).isLessThanOrEqualTo(2);
    }

    /** A currency sign outside GSM-7 is written as its code: a Korean won amount does not make an English SMS UCS-2. */
    @Test
    void aCurrencySignOutsideGsm7IsWrittenAsItsCode() {
        MessageParts parts = parts("templates", 1600, 1000);
        CanonicalNotification failed = new CanonicalNotification("billing:invoice.payment_failed:in_1:attempt-1", "billing", "evt_1",
                "billing.payment_failed", "cus_jenny", Instant.parse("2026-11-21T10:00:00Z"), Map.of("invoiceId", "in_1"),
                Map.of("amountDue", "55000 KRW", "invoiceNumber", "A1B2-0007", "attemptCount", 1,
                        "hostedInvoiceUrl", "https://invoice.stripe.com/i/acct_1/test_YWNjdF8x"), "high");
        Customer seoul = new Customer("cus_jenny", "Jenny Rosen", "jenny@example.org", "+447700900123", List.of(), "en-US", "Asia/Seoul", Map.of());
        String sms = parts.render(failed, "billing.payment_failed", "sms", seoul).get("text");
        assertThat(sms).contains("KRW 55,000").doesNotContain("\u20A9").matches(GSM_7);
        // The email keeps the sign.
        assertThat(parts.render(failed, "billing.payment_failed", "email", seoul).get("text")).contains("\u20A955,000");
        assertThat(SmsText.plain("55.000\u00A0\u20A9 / \u20B9500 / 12\u0E3F")).isEqualTo("55.000 KRW / INR 500 / 12 THB");
    }

    /**
     * FCM's limit is 4,096 bytes of payload, so herald.push.max-length counts UTF-8 bytes: a Chinese ticket subject of 600
     * characters (1,800 bytes) fits 1,000 characters but not 1,000 bytes, and is shortened until the title and body do.
     */
    @Test
    void aPushIsFittedToItsLimitInUtf8BytesNotCharacters() {
        MessageParts parts = parts("templates", 1600, 1000);
        String chinese = "打印机在更新后无法打印，纸盒又卡住了，请帮忙看看。".repeat(24);   // 600 characters, 3 bytes each
        Map<String, String> push = parts.render(reply(chinese), "support.agent_replied", "push", JENNY);
        int bytes = (push.get("title") + push.get("body")).getBytes(StandardCharsets.UTF_8).length;
        assertThat(bytes).isLessThanOrEqualTo(1000).isGreaterThan(900);
        assertThat(push.get("body")).startsWith("Sam Agent replied to \"打印机在更新后").endsWith("…\"");
        // A template whose own words are over the limit fails, the reason counting bytes.
        assertThatThrownBy(() -> parts("templates", 1600, 20).render(reply(chinese), "support.agent_replied", "push", JENNY))
                .isInstanceOf(MessageTooLong.class)
                .hasMessageStartingWith("the push title and body is ")
                .hasMessageContaining(" bytes (UTF-8) with the data's texts shortened, and the provider takes at most 20 bytes"
                        + " (herald.push.max-length): shorten the push templates of support.agent_replied");
    }

    /** GSM 03.38's basic alphabet and the extension table's characters (which count twice). */
    private static final String GSM_7 = "[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,\\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà"
            + "\\^{}\\\\\\[~\\]|€]*";

    @Test
    void aCutNeverSplitsACharacterOutsideTheBasicPlane() {
        String text = "ab " + "\uD83D\uDE00".repeat(30);
        String cut = MessageParts.shortened(text, 24);
        assertThat(cut).endsWith("…");
        assertThat(Character.isHighSurrogate(cut.charAt(cut.length() - 2))).isFalse();
    }

    private static MessageParts parts(String root, int smsLimit, int pushLimit) {
        return parts(root, smsLimit, pushLimit, 1000);   // segments not binding unless a test says so
    }

    private static MessageParts parts(String root, int smsLimit, int pushLimit, int smsSegments) {
        SmsSettings sms = new SmsSettings("", "", "", "", 10, 16, null, null, false, null, null, null, null, "", smsLimit, smsSegments);
        PushSettings push = new PushSettings("", "", 50, 16, null, null, false, null, null, null, null, pushLimit, "", 10);
        return new MessageParts(new TemplateRenderer(root, "en"), sms, push);
    }

    /** An agent's reply on ticket 35436 with this data. */
    private static CanonicalNotification replyWith(Map<String, Object> data) {
        return new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied", "cus_jenny",
                Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"), data, "normal");
    }

    private static CanonicalNotification reply(String subject) {
        return new CanonicalNotification("support:agent_replied:35436:1", "support", "1", "support.agent_replied", "cus_jenny",
                Instant.parse("2026-11-21T10:00:00Z"), Map.of("ticketId", "35436"),
                Map.of("agentName", "Sam Agent", "ticketSubject", subject.strip(), "commentBody", "Please try the new driver."), "normal");
    }
}
