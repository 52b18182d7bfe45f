package io.herald.notification;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.StoredText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped rules (config/rules.yaml) refuse what must not reach a customer; a broken rules file names file and key. */
class NotificationRulesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private final NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
    private final NotificationRules rules = new NotificationRules("config/rules.yaml", catalog);

    @TempDir
    Path dir;

    @Test
    void aGoodPaymentNoticePasses() throws IOException {
        assertThat(rules.problems("billing.payment_failed", paymentFailed("49.00 USD", "A1B2-0007", "2026-11-30T10:00:00Z"), NOW)).isEmpty();
    }

    @Test
    void negativeMoneyNonMoneyCurrenciesAndUnknownCodesAreRefusedInWords() throws IOException {
        assertThat(rules.problems("billing.payment_failed", paymentFailed("-0.01 USD", "A1", "2026-11-30T10:00:00Z"), NOW))
                .containsExactly("the amount due is negative (-0.01 USD); it must be zero or more");
        assertThat(rules.problems("billing.payment_failed", paymentFailed("49.00 XXX", "A1", "2026-11-30T10:00:00Z"), NOW))
                .singleElement().asString().startsWith("the currency XXX of the amount due is not money");
        assertThat(rules.problems("billing.payment_failed", paymentFailed("49.00 XTS", "A1", "2026-11-30T10:00:00Z"), NOW))
                .singleElement().asString().startsWith("the currency XTS of the amount due is not money");
        assertThat(rules.problems("billing.payment_failed", paymentFailed("49.00 ABC", "A1", "2026-11-30T10:00:00Z"), NOW))
                .containsExactly("the currency ABC of the amount due is not an ISO 4217 currency code");
        assertThat(rules.problems("billing.payment_failed", paymentFailed("Infinity", "A1", "2026-11-30T10:00:00Z"), NOW))
                .containsExactly("the amount due 'Infinity' is not an amount with a currency");
    }

    /** An amount a message could not write (more than 3 decimals, more than 15 digits) is refused here, not failed at the send. */
    @Test
    void amountsNoMessageCouldWriteAreRefusedAndALowerCaseCurrencyPasses() throws IOException {
        for (String amount : List.of("49.0001 USD", "1234567890123456 USD")) {
            assertThat(rules.problems("billing.payment_failed", paymentFailed(amount, "A1", "2026-11-30T10:00:00Z"), NOW))
                    .containsExactly("the amount due '" + amount + "' is not an amount with a currency");
        }
        assertThat(rules.problems("billing.payment_failed", paymentFailed("49.00 usd", "A1", "2026-11-30T10:00:00Z"), NOW)).isEmpty();
    }

    /** A booking's or a move's time is what its reminders are timed by: an instant, so with its offset; said once. */
    @Test
    void anAppointmentTimeWithoutAnOffsetIsRefusedOnceForTheTypesThatTimeReminders() throws IOException {
        String noOffset = "the appointment's time (data.startsAt) '%s' is not a date and time with an offset (e.g."
                + " 2026-11-24T14:30:00-05:00); its reminders are timed by it, and without the offset the hour it means is unknown";
        // The move has no rule of its own for the field: this check says it.
        assertThat(rules.problems("crm.appointment_rescheduled", appointment("2026-12-09T10:00"), NOW))
                .containsExactly(noOffset.formatted("2026-12-09T10:00"));
        // Nor a date outside the plausible ones: a move to the CRM's 0001-01-01 cancelled the real appointment's reminders.
        assertThat(rules.problems("crm.appointment_rescheduled", appointment("0001-01-01T10:00:00Z"), NOW)).containsExactly(
                "the appointment's time (data.startsAt) 0001-01-01T10:00:00Z is not plausible: Herald accepts dates from 3650 days before"
                        + " to 3650 days after now (config/rules.yaml, dates); its reminders are timed by it: correct the time at its source");
        // The booking's date rule says a local time is no date and time; a plain date passes it, and this check says why not.
        assertThat(rules.problems("crm.appointment_scheduled", appointment("2026-12-09T10:00"), NOW))
                .singleElement().asString().startsWith("the appointment start '2026-12-09T10:00' is not a date and time");
        assertThat(rules.problems("crm.appointment_scheduled", appointment("2026-12-09"), NOW))
                .containsExactly(noOffset.formatted("2026-12-09"));
        for (String type : List.of("crm.appointment_scheduled", "crm.appointment_rescheduled")) {
            assertThat(rules.problems(type, appointment("2026-12-09T10:00Z"), NOW)).as(type).isEmpty();
            // Java reads offsets up to 18 hours; PostgreSQL refuses beyond 15:59, and that one notification stopped the
            // late-message sweep of every type. No zone is outside -12:00 to +14:00.
            assertThat(rules.problems(type, appointment("2026-12-09T10:00+16:00"), NOW)).as(type).containsExactly("the appointment's"
                    + " time (data.startsAt) '2026-12-09T10:00+16:00' has an offset no time zone has (offsets run from -12:00 to +14:00);"
                    + " its reminders are timed by it: correct the time at its source");
            assertThat(rules.problems(type, appointment("2026-12-09T10:00+14:00"), NOW)).as(type).isEmpty();
            assertThat(rules.problems(type, appointment("2026-12-09T10:00-12:00"), NOW)).as(type).isEmpty();
        }
        assertThat(rules.problems("crm.appointment_cancelled", JSON.readTree("""
                {"occurredAt": "2026-11-30T10:00:00Z", "data": {"appointmentId": "APT-1"}}"""), NOW)).isEmpty();
    }

    private static JsonNode appointment(String startsAt) throws IOException {
        return JSON.readTree("""
                {"occurredAt": "2026-11-30T10:00:00Z", "data": {"appointmentId": "APT-1", "startsAt": "%s"}}""".formatted(startsAt));
    }

    @Test
    void implausibleDatesAreRefusedEventTimeIncluded() throws IOException {
        assertThat(rules.problems("billing.payment_failed", paymentFailed("1.00 EUR", "A1", "0001-01-01T00:00:00Z"), NOW))
                .singleElement().asString().startsWith("the event time 0001-01-01T00:00:00Z is not plausible");
        assertThat(rules.problems("billing.payment_failed", paymentFailed("1.00 EUR", "A1", "9999-12-31T23:59:59Z"), NOW))
                .singleElement().asString().startsWith("the event time 9999-12-31T23:59:59Z is not plausible");
        JsonNode trial = JSON.readTree("""
                {"occurredAt": "2026-11-30T10:00:00Z", "data": {"trialEnd": "0001-01-01T00:00:00Z"}}""");
        assertThat(rules.problems("billing.trial_will_end", trial, NOW))
                .singleElement().asString().startsWith("the trial end 0001-01-01T00:00:00Z is not plausible");
    }

    @Test
    void aDraftInvoiceIsNotAPaymentNotice() throws IOException {
        JsonNode draft = paymentFailed("49.00 USD", null, "2026-11-30T10:00:00Z");
        assertThat(rules.problems("billing.payment_failed", draft, NOW)).containsExactly(
                "invoice in_1Draft has no invoice number yet (it is a draft); Stripe sends payment notices for finalised invoices");
    }

    /**
     * The request to confirm a payment (billing.payment_action_required) prints the amount due and the invoice number as the
     * failure notice does: a negative amount or a draft's missing number is refused the same way, not mailed as "Please
     * confirm your payment of -$0.01" or "for invoice , for example with a code".
     */
    @Test
    void aRequestToConfirmAPaymentIsCheckedLikeThePaymentFailure() throws IOException {
        assertThat(rules.problems("billing.payment_action_required", paymentFailed("49.00 USD", "A1B2-0007", "2026-11-30T10:00:00Z"), NOW))
                .isEmpty();
        assertThat(rules.problems("billing.payment_action_required", paymentFailed("-0.01 USD", "A1", "2026-11-30T10:00:00Z"), NOW))
                .containsExactly("the amount due is negative (-0.01 USD); it must be zero or more");
        assertThat(rules.problems("billing.payment_action_required", paymentFailed("49.00 USD", null, "2026-11-30T10:00:00Z"), NOW))
                .containsExactly("invoice in_1Draft has no invoice number yet (it is a draft); Stripe sends payment notices for finalised invoices");
        JsonNode noAmount = JSON.readTree("""
                {"occurredAt": "2026-11-30T10:00:00Z", "data": {"invoiceId": "in_1", "invoiceNumber": "A1", "amountDue": null}}""");
        assertThat(rules.problems("billing.payment_action_required", noAmount, NOW)).singleElement().asString().contains("amount due");
    }

    @Test
    void aTextLongerThanAnyMessageNeedsIsRefusedNotCut() throws IOException {
        JsonNode reply = JSON.readTree("""
                {"occurredAt": "2026-11-30T10:00:00Z", "data": {"commentBody": "%s", "ticketSubject": "ok"}}"""
                .formatted("a".repeat(10_001)));
        assertThat(rules.problems("support.agent_replied", reply, NOW)).containsExactly(
                "the agent's reply is 10001 characters long; Herald sends texts of at most 10000 characters (config/rules.yaml, texts.max-length)");
    }

    /** HERALD_RULES naming no file says there is none and which setting names it (it said the path again, and no setting). */
    @Test
    void aRulesFileThatIsNotThereNamesTheSetting() {
        assertThatThrownBy(() -> new NotificationRules("config/rulse.yaml", new NotificationCatalog("config/catalog.yaml")))
                .hasMessage("Notification rules config/rulse.yaml cannot be read: there is no such file (herald.rules, environment"
                        + " variable HERALD_RULES, names it)");
    }

    @Test
    void aBrokenRulesFileNamesTheFileAndTheKey() throws IOException {
        assertRefused("""
                rules:
                  billing.payment_failed:
                    data.amountDue: {label: amount due, kind: cash}
                """, "key 'rules.billing.payment_failed.data.amountDue.kind' must be one of");
        assertRefused("""
                rules:
                  billing.no_such_type:
                    data.amountDue: {label: amount due, kind: money}
                """, "key 'rules.billing.no_such_type' names a type that is not in the notification catalog");
        for (String spec : List.of("{label: start, kind: date, implausible: drop}", "{label: start, kind: text, implausible: leave-out}",
                "{label: start, kind: date, required: true, implausible: leave-out}")) {
            assertRefused("""
                    rules:
                      crm.appointment_cancelled:
                        data.startsAt: %s
                    """.formatted(spec), "key 'rules.crm.appointment_cancelled.data.startsAt.implausible' must be leave-out, and only for an"
                    + " optional field of kind date");
        }
        assertRefused("""
                dates: {past: ten years}
                """, "key 'dates.past' must be an ISO-8601 duration");
        assertRefused("""
                rules:
                  billing.payment_failed:
                    data.amountDue: {kind: money}
                """, "key 'rules.billing.payment_failed.data.amountDue.label' is required");
        // A misspelt key would have switched every rule (or a limit) off without a word; a key written twice kept the later one.
        assertRefused("""
                rule:
                  billing.payment_failed:
                    data.amountDue: {label: amount due, kind: money, required: true}
                """, "key 'rule' is not a rules setting; known: [dates, rules, texts]");
        assertRefused("""
                texts: {max-lenght: 500}
                """, "key 'texts.max-lenght' is not a rules setting; known: [max-length]");
        assertRefused("""
                rules:
                  billing.payment_failed:
                    data.amountDue: {label: amount due, kind: money}
                  billing.payment_failed:
                    data.invoiceNumber: {label: invoice number, kind: text}
                """, "found duplicate key billing.payment_failed");
    }

    @Test
    void storedTextMakesAnyTextStorable() {
        assertThat(StoredText.kept("{\"id\": \"a\u0000b\"}")).isEqualTo("{\"id\": \"a\\u0000b\"}");
        assertThat(StoredText.kept("x\uD800y")).isEqualTo("x\uFFFDy");
        assertThat(StoredText.kept("ok \uD83D\uDE00")).isEqualTo("ok \uD83D\uDE00");
        assertThat(StoredText.label("evt_\u0000\u0001", 200)).isEqualTo("evt_\\u0000\\u0001");
        assertThat(StoredText.label("x".repeat(300), 200)).hasSize(200).endsWith("…");
        assertThat(StoredText.content("Hi\u0000 there\n\uDC00!")).isEqualTo("Hi there\n\uFFFD!");
        assertThat(StoredText.unsafe("cus_1\u0000")).isTrue();
        assertThat(StoredText.unsafe("cus_1")).isFalse();
    }

    /** Rules saved in Windows-1252 or Latin-1 stop startup naming the line and the remedy, not Java's MalformedInputException. */
    @Test
    void rulesNotSavedAsUtf8StopStartupNamingTheLineAndTheRemedy() throws IOException {
        Path file = dir.resolve("rules.yaml");
        Files.write(file, (Files.readString(Path.of("config/rules.yaml")) + "\n# Grüße\n")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        long line = Files.readString(Path.of("config/rules.yaml")).chars().filter(c -> c == '\n').count() + 2;
        assertThatThrownBy(() -> new NotificationRules(file.toString(), catalog))
                .hasMessage("Notification rules " + file + " is not UTF-8 text (line " + line + " has a character saved in another"
                        + " encoding, such as Windows-1252 or Latin-1): save the file as UTF-8");
    }

    private void assertRefused(String yaml, String expected) throws IOException {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, yaml);
        assertThatThrownBy(() -> new NotificationRules(file.toString(), catalog))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Notification rules " + file)
                .hasMessageContaining(expected);
    }

    private static JsonNode paymentFailed(String amountDue, String number, String occurredAt) throws IOException {
        return JSON.readTree("""
                {"occurredAt": "%s", "refs": {"invoiceId": "in_1Draft"},
                 "data": {"invoiceId": "in_1Draft", "invoiceNumber": %s, "amountDue": "%s", "nextPaymentAttempt": null}}"""
                .formatted(occurredAt, number == null ? "null" : "\"" + number + "\"", amountDue));
    }
}
