package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.notification.NotificationRules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every template a customer can receive prints times and amounts written for the customer, never the raw values:
 * each type of the shipped catalog, on each of its channels, each part, in each locale that has templates, is
 * rendered exactly as a sender renders it (TemplateRenderer's locale choice, MessageContext, HtmlFromText) for an
 * en-GB customer in Europe/London and a de-DE customer in Europe/Berlin (plus one per other locale found), with
 * representative data: the mappings' golden outputs (src/test/resources/golden), and for types no mapping produces,
 * the data their producer builds ({@link #PRODUCED_IN_JAVA}). A new type without representative data fails here.
 */
class TemplatesLocalisedTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path GOLDEN = Path.of("src/test/resources/golden");

    /** "2025-11-24T10:00:00Z", "2025-11-24T10:00", "2026-11-25": a raw ISO time or date. */
    private static final Pattern RAW_TIME = Pattern.compile("\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2})?");
    /** "1250.00 GBP", "500 JPY": the mappings' money form, not written for a reader. */
    private static final Pattern RAW_MONEY = Pattern.compile("(?<![\\d:.,])-?\\d+(\\.\\d+)? ([A-Z]{3})\\b");

    private static final java.util.Set<String> CURRENCIES = java.util.Currency.getAvailableCurrencies().stream()
            .map(java.util.Currency::getCurrencyCode).collect(java.util.stream.Collectors.toSet());

    /** Types built in Java rather than by a mapping (incidents: io.herald.incidents.IncidentNotices; refunds: approvals). */
    private static final Map<String, Map<String, Object>> PRODUCED_IN_JAVA = Map.of(
            "incident.notice", Map.of("summary", "Card payments fail for some customers", "startedAt", "2026-11-24T10:00:00Z"),
            "incident.resolved", Map.of("summary", "Card payments fail for some customers", "startedAt", "2026-11-24T10:00:00Z",
                    "resolvedAt", "2026-11-24T13:45:00Z"),
            "billing.refund_issued", Map.of("orderId", "ORD-100311", "amountRefunded", "1250.00 GBP"));

    private static final Customer JENNY = customer("en-GB", "Europe/London", "Jenny Rosen");
    private static final Customer LUKAS = customer("de-DE", "Europe/Berlin", "Lukas Müller");

    private final NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
    private final TemplateRenderer templates = new TemplateRenderer("templates", "en");

    @Test
    void everyTemplateOfEveryTypeChannelPartAndLocalePrintsOnlyWrittenTimesAndAmounts() throws IOException {
        Map<String, List<Map<String, Object>>> examples = representativeData();
        List<String> problems = new ArrayList<>();
        int rendered = 0;
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            List<Map<String, Object>> examplesOfType = examples.get(entry.type());
            if (examplesOfType == null) {
                problems.add(entry.type() + ": no representative data; add a golden mapping output under " + GOLDEN
                        + " or, for a type built in Java, an entry in TemplatesLocalisedTest.PRODUCED_IN_JAVA");
                continue;
            }
            for (Map<String, Object> data : examplesOfType) {
                CanonicalNotification notification = notification(entry.type(), data);
                for (String channel : entry.channels()) {
                    for (Customer customer : customersFor(entry.templates(), channel)) {
                        String locale = templates.localeFor(entry.templates(), channel, customer.locale());
                        Map<String, Object> context = MessageContext.of(notification, customer,
                                templates.writingLocale(entry.templates(), channel, customer.locale()));
                        Map<String, String> parts = new LinkedHashMap<>();
                        for (String part : ChannelDelivery.PARTS_BY_CHANNEL.get(channel)) {
                            parts.put(part, templates.render(entry.templates(), channel, part, customer.locale(), context));
                        }
                        if ("email".equals(channel)) {
                            parts.put("html", templates.renderOptional(entry.templates(), channel, "html", customer.locale(), context)
                                    .orElseGet(() -> HtmlFromText.of(parts.get("text"), locale)));
                        }
                        rendered += parts.size();
                        parts.forEach((part, text) -> problems.addAll(rawValues(text,
                                entry.templates() + "/" + channel + "." + part + "." + locale + " for a " + customer.locale() + " customer")));
                    }
                }
            }
        }
        assertThat(problems).as("templates printing raw values (see templates/README.md, 'Times and amounts')").isEmpty();
        assertThat(rendered).as("parts rendered").isGreaterThan(60);
    }

    /** A subscription cancelled at the trial's end: the notice says it ends and nothing is charged, never that it goes on. */
    @Test
    void aTrialThatEndsTheSubscriptionIsNotToldThePlanGoesOn() throws IOException {
        CanonicalNotification ending = golden("billing.trial_will_end", "billing/customer.subscription.trial_will_end.ends-with-trial.canonical.json");
        String english = emailText(ending, JENNY, "en-GB");
        assertThat(english).contains("Your trial ends on Monday, 24 November 2025. Your subscription is set to end with it, so nothing"
                + " will be charged.").doesNotContain("continues automatically");
        String german = emailText(ending, LUKAS, "de-DE");
        assertThat(german).contains("Ihr Abonnement endet damit, es wird nichts berechnet.").doesNotContain("automatisch weiter");
    }

    /**
     * The greeting uses the CRM's first name whole ("Ana María", not "Ana"), none for a name with only a last name ("Hello,",
     * not "Hello Smith,"), and a directory entry whose first name is not known keeps the display name's first word.
     */
    @Test
    void theGreetingUsesTheFirstNameTheCrmGaveAndNeverTheLastName() throws IOException {
        CanonicalNotification trial = golden("billing.trial_will_end", "billing/customer.subscription.trial_will_end.canonical.json");
        java.util.function.BiFunction<String, String, String> greeting = (display, first) -> {
            Customer customer = new Customer("cus_g", display, "g@example.org", null, List.of(), "en-GB", "Europe/London", Map.of(), first);
            return emailText(trial, customer, "en-GB").lines().findFirst().orElse("");
        };
        assertThat(greeting.apply("Ana María López", "Ana María")).isEqualTo("Hello Ana María,");
        assertThat(greeting.apply("Smith", "")).isEqualTo("Hello,");
        assertThat(greeting.apply("Jenny Rosen", null)).isEqualTo("Hello Jenny,");
    }

    /** A trial Stripe ends without a payment method asks for one, in both languages, never "nothing to do". */
    @Test
    void aTrialWithoutAPaymentMethodIsAskedForOne() throws IOException {
        CanonicalNotification trial = golden("billing.trial_will_end", "billing/customer.subscription.trial_will_end.no-payment-method.canonical.json");
        assertThat(emailText(trial, JENNY, "en-GB"))
                .contains("If your account has no payment method yet, add one before then").doesNotContain("nothing to do");
        assertThat(emailText(trial, LUKAS, "de-DE"))
                .contains("fügen Sie vorher eine hinzu").doesNotContain("müssen Sie nichts tun");
    }

    /** The notification of a golden file's canonical form (src/test/resources/golden/...), of this type. */
    private static CanonicalNotification golden(String type, String file) throws IOException {
        JsonNode canonical = JSON.readTree(GOLDEN.resolve(file).toFile());
        return notification(type, JSON.convertValue(canonical.get("data"), new TypeReference<>() { }));
    }

    /** The email text of the notification for the customer, in the locale the templates write for {@code locale}. */
    private String emailText(CanonicalNotification notification, Customer customer, String locale) {
        String type = notification.type();
        return templates.render(type, "email", "text", locale, MessageContext.of(notification, customer, templates.writingLocale(type, "email", locale)));
    }

    /** Stripe's amount_refunded is the charge's running total: a partial refund is told as the total so far, of the payment. */
    @Test
    void aPartialRefundIsToldAsTheTotalRefundedSoFarOfThePayment() throws IOException {
        CanonicalNotification partial = golden("billing.charge_refunded", "billing/charge.refunded.partial.canonical.json");
        Map<String, Object> context = MessageContext.of(partial, JENNY, templates.writingLocale("billing.charge_refunded", "email", "en-GB"));
        assertThat(templates.render("billing.charge_refunded", "email", "subject", "en-GB", context))
                .isEqualTo("We have refunded £80.00 of your £129.99 payment for order ORD-100311");
        assertThat(templates.render("billing.charge_refunded", "email", "text", "en-GB", context))
                .contains("We have now refunded £80.00 in total of your £129.99 payment for order ORD-100311 to your original payment method.");
    }

    /**
     * A refund says what it was for when the charge names its order ("for order ORD-100311"); without one, the words are as before.
     * A whole refund says the payment is refunded in full rather than "we refunded £129.99": it may complete earlier partial
     * refunds the customer was told of, and then only the rest is on its way.
     */
    @Test
    void aRefundWithAnOrderIdNamesTheOrder() throws IOException {
        String type = "billing.charge_refunded";
        CanonicalNotification full = golden(type, "billing/charge.refunded.canonical.json");
        assertThat(full.data()).containsEntry("orderId", "ORD-100311");
        Map<String, Object> english = MessageContext.of(full, JENNY, templates.writingLocale(type, "email", "en-GB"));
        assertThat(templates.render(type, "email", "subject", "en-GB", english)).isEqualTo("Your £129.99 payment for order ORD-100311 is refunded in full");
        assertThat(emailText(full, JENNY, "en-GB")).contains("\n\nYour £129.99 payment for order ORD-100311 is now refunded in full to your original payment method."
                + " It can take 5 to 10 business days to appear.\n\n-- Billing");
        Map<String, Object> german = MessageContext.of(full, LUKAS, templates.writingLocale(type, "email", "de-DE"));
        assertThat(templates.render(type, "email", "subject", "de-DE", german))
                .isEqualTo("Ihre Zahlung von 129,99\u00a0£ für die Bestellung ORD-100311 ist vollständig erstattet");
        assertThat(emailText(full, LUKAS, "de-DE")).contains("\n\nwir haben Ihnen Ihre Zahlung über 129,99\u00a0£ für die Bestellung ORD-100311 vollständig auf Ihre"
                + " ursprüngliche Zahlungsmethode erstattet. Es kann 5 bis 10 Werktage dauern, bis der Betrag dort erscheint.");
        CanonicalNotification partial = golden(type, "billing/charge.refunded.partial.canonical.json");
        assertThat(emailText(partial, LUKAS, "de-DE")).contains("wir haben Ihnen von Ihrer Zahlung über 129,99\u00a0£ für die Bestellung"
                + " ORD-100311 bisher insgesamt 80,00\u00a0£ auf Ihre ursprüngliche Zahlungsmethode erstattet.");

        // A charge without an order (Stripe's metadata names none): the refund as before, no "for order".
        Map<String, Object> data = new LinkedHashMap<>(full.data());
        data.remove("orderId");
        CanonicalNotification withoutOrder = notification(type, data);
        assertThat(templates.render(type, "email", "subject", "en-GB",
                MessageContext.of(withoutOrder, JENNY, templates.writingLocale(type, "email", "en-GB")))).isEqualTo("Your £129.99 payment is refunded in full");
        assertThat(emailText(withoutOrder, JENNY, "en-GB")).contains("\n\nYour £129.99 payment is now refunded in full to your original payment method. It can take")
                .doesNotContain("order");
        assertThat(templates.render(type, "email", "subject", "de-DE",
                MessageContext.of(withoutOrder, LUKAS, templates.writingLocale(type, "email", "de-DE")))).isEqualTo("Ihre Zahlung von 129,99\u00a0£ ist vollständig erstattet");
        assertThat(emailText(withoutOrder, LUKAS, "de-DE")).contains("wir haben Ihnen Ihre Zahlung über 129,99\u00a0£ vollständig auf Ihre ursprüngliche Zahlungsmethode erstattet.")
                .doesNotContain("Bestellung");
    }

    /** A payment failure whose invoice link was left out (not https) points to the account, with no empty button or link. */
    @Test
    void aPaymentFailureWithoutItsInvoiceLinkPointsToTheAccount() throws IOException {
        CanonicalNotification failed = golden("billing.payment_failed", "billing/invoice.payment_failed.unsafe-link.canonical.json");
        Map<String, Object> english = MessageContext.of(failed, JENNY, templates.writingLocale("billing.payment_failed", "email", "en-GB"));
        assertThat(templates.render("billing.payment_failed", "email", "html", "en-GB", english))
                .contains("You can update your payment method in your account.").doesNotContain("href").doesNotContain("javascript");
        assertThat(templates.render("billing.payment_failed", "email", "text", "en-GB", english))
                .contains("You can update your payment method in your account.").doesNotContain("here:");
        assertThat(templates.render("billing.payment_failed", "sms", "text", "en-GB", english)).doesNotContain("Update your payment method");
        // The receipt without its link: no empty line left where it was; with it, the link on its own paragraph.
        Map<String, Object> paid = new java.util.HashMap<>(english);
        paid.put("amountPaidLocal", "$49.00");
        assertThat(templates.render("billing.invoice_paid", "email", "text", "en-GB", paid)).doesNotContain("\n\n\n", "Your invoice")
                .contains(".\n\n-- Billing");
        Map<String, Object> linked = new java.util.HashMap<>(paid);
        linked.put("hostedInvoiceUrl", "https://invoice.stripe.com/i/acct_1/test");
        assertThat(templates.render("billing.invoice_paid", "email", "text", "en-GB", linked))
                .contains(".\n\nYour invoice: https://invoice.stripe.com/i/acct_1/test\n\n-- Billing");
        linked.put("invoicePdfUrl", "https://pay.stripe.com/invoice/acct_1/test/pdf");   // Stripe's PDF link, under the invoice's
        assertThat(templates.render("billing.invoice_paid", "email", "text", "en-GB", linked))
                .contains(".\n\nYour invoice: https://invoice.stripe.com/i/acct_1/test\nAs a PDF: https://pay.stripe.com/invoice/acct_1/test/pdf\n\n-- Billing");
        Map<String, Object> german = MessageContext.of(failed, LUKAS, templates.writingLocale("billing.payment_failed", "email", "de-DE"));
        assertThat(templates.render("billing.payment_failed", "email", "html", "de-DE", german))
                .contains("Sie können Ihre Zahlungsmethode in Ihrem Kundenkonto ändern.").doesNotContain("href");
    }

    /** An appointment the CRM names no service or length for is "your appointment", with no "(0 minutes)", in every notice about it. */
    @Test
    void anAppointmentWithoutAServiceIsYourAppointmentInEveryNotice() throws IOException {
        JsonNode canonical = JSON.readTree(GOLDEN.resolve("crm/appointment.scheduled.without-service-or-length.canonical.json").toFile());
        Map<String, Object> data = JSON.convertValue(canonical.get("data"), new TypeReference<>() { });
        data.put("previousStartsAt", "2026-11-23T14:30:00-05:00");
        data.put("remindBefore", "PT24H");
        for (String type : List.of("crm.appointment_scheduled", "crm.appointment_rescheduled", "crm.appointment_reminder", "crm.appointment_cancelled")) {
            for (String channel : List.of("email", "sms")) {
                String english = templates.render(type, channel, channel.equals("sms") ? "text" : "subject", "en-GB",
                        MessageContext.of(notification(type, data), JENNY, templates.writingLocale(type, channel, "en-GB")));
                String german = templates.render(type, channel, channel.equals("sms") ? "text" : "subject", "de-DE",
                        MessageContext.of(notification(type, data), LUKAS, templates.writingLocale(type, channel, "de-DE")));
                assertThat(english).as(type + " " + channel).containsIgnoringCase("appointment").doesNotContain("„");
                assertThat(german).as(type + " " + channel).contains("Termin").doesNotContain("„");
            }
            String text = templates.render(type, "email", "text", "en-GB",
                    MessageContext.of(notification(type, data), JENNY, templates.writingLocale(type, "email", "en-GB")));
            assertThat(text).as(type).doesNotContain("minutes").doesNotContain("  ");
        }
        assertThat(templates.render("crm.appointment_scheduled", "email", "subject", "en-GB",
                MessageContext.of(notification("crm.appointment_scheduled", data), JENNY, templates.writingLocale("crm.appointment_scheduled", "email", "en-GB"))))
                .startsWith("Your appointment is booked for ");
    }

    /**
     * A "move" to the time the appointment already had (the CRM changed its owner, place or link) says the details
     * changed and the time stays, in every part and both languages, also when the CRM wrote the same instant at another
     * offset; a real move still says "moved". It used to read "moved to 10:00" for an appointment at 10:00.
     */
    @Test
    void aMoveToTheSameTimeSaysTheDetailsChangedAndARealMoveSaysMoved() throws IOException {
        Map<String, Object> data = new java.util.HashMap<>(Map.of("appointmentId", "APT-1", "service", "Onboarding call",
                "startsAt", "2026-12-07T10:00:00Z", "ownerName", "Sam Okafor"));
        String type = "crm.appointment_rescheduled";
        for (String previous : List.of("2026-12-07T10:00:00Z", "2026-12-07T11:00:00+01:00")) {
            data.put("previousStartsAt", previous);
            for (String channel : List.of("email", "sms")) {
                for (String part : channel.equals("sms") ? List.of("text") : List.of("subject", "text", "html")) {
                    String english = templates.render(type, channel, part, "en-GB",
                            MessageContext.of(notification(type, data), JENNY, templates.writingLocale(type, channel, "en-GB")));
                    String german = templates.render(type, channel, part, "de-DE",
                            MessageContext.of(notification(type, data), LUKAS, templates.writingLocale(type, channel, "de-DE")));
                    assertThat(english).as(previous + " " + channel + " " + part).containsIgnoringCase("same time")
                            .doesNotContainIgnoringCase("moved").contains("Monday, 7 December 2026");
                    assertThat(german).as(previous + " " + channel + " " + part).containsIgnoringCase("gleich")
                            .doesNotContain("verschoben").contains("Montag, 7. Dezember 2026");
                }
            }
        }
        assertThat(templates.render(type, "email", "text", "en-GB",
                MessageContext.of(notification(type, data), JENNY, templates.writingLocale(type, "email", "en-GB"))))
                .contains("The details of your Onboarding call on Monday, 7 December 2026, 10:00 GMT with Sam Okafor have changed;"
                        + " it stays at the same time. Your reminders will have the new details.");
        data.put("previousStartsAt", "2026-12-06T10:00:00Z");
        assertThat(templates.render(type, "sms", "text", "en-GB",
                MessageContext.of(notification(type, data), JENNY, templates.writingLocale(type, "sms", "en-GB"))))
                .startsWith("Moved: your Onboarding call is now on Monday, 7 December 2026, 10:00 GMT with Sam Okafor.")
                .doesNotContain("same time");
    }

    /**
     * What config/rules.yaml lets through is written for the customer: a time without seconds (how Java's OffsetDateTime writes
     * a whole minute) or with a lower-case t and z, and an amount with a lower-case currency or a trailing space. Each used to
     * leave its *Local value out, so the message failed as if its template named a field the mapping does not give. A name
     * that is blank once its control characters are dropped is no name (it ended every message in an unexpected error).
     */
    @Test
    void timesWithoutSecondsLowerCaseCurrenciesAndBlankNamesAreWrittenAsTheRulesAcceptThem() throws IOException {
        Map<String, Object> data = new java.util.HashMap<>(Map.of("appointmentId", "APT-1", "service", "Onboarding call",
                "startsAt", "2026-12-07T10:00Z", "remindBefore", "PT24H"));
        for (String startsAt : List.of("2026-12-07T10:00Z", "2026-12-07t10:00:00z")) {
            data.put("startsAt", startsAt);
            Map<String, Object> context = MessageContext.of(notification("crm.appointment_reminder", data), JENNY,
                    templates.writingLocale("crm.appointment_reminder", "email", "en-GB"));
            assertThat(context).as(startsAt).containsEntry("startsAtLocal", "Monday, 7 December 2026, 10:00 GMT");
        }
        Map<String, Object> order = MessageContext.of(notification("crm.order_confirmed", Map.of("total", "49.90 eur ")), JENNY,
                templates.writingLocale("crm.order_confirmed", "email", "en-GB"));
        assertThat(order).containsEntry("totalLocal", "€49.90");
        Customer blank = customer("en-GB", "Europe/London", " ");
        Map<String, Object> unnamed = MessageContext.of(notification("crm.appointment_reminder", data), blank,
                templates.writingLocale("crm.appointment_reminder", "email", "en-GB"));
        assertThat(templates.render("crm.appointment_reminder", "email", "text", "en-GB", unnamed)).startsWith("Hello,");
    }

    /**
     * A customer whose language has no templates reads the English ones with their own clock's 12- or 24-hour choice, in
     * English order: a zh-Hant-TW customer read "pm8:06 JST", a my-MM one "in the evening 20:06 JST".
     */
    @Test
    void aCustomerReadingTheEnglishFallbackKeepsTheirClockInEnglishOrder() throws IOException {
        Map<String, Object> data = Map.of("appointmentId", "APT-1", "startsAt", "2026-12-06T20:06:00+09:00", "remindBefore", "PT24H");
        for (Map.Entry<String, String> expected : Map.of("zh-Hant-TW", "Sunday, 6 December 2026, 8:06 pm JST",
                "my-MM", "Sunday, 6 December 2026, 20:06 JST", "fr-CA", "Sunday, 6 December 2026, 20:06 JST",
                "en-US", "Sunday, December 6, 2026, 8:06 PM JST").entrySet()) {
            Customer customer = customer(expected.getKey(), "Asia/Tokyo", "Mei Lin");
            Map<String, Object> context = MessageContext.of(notification("crm.appointment_reminder", data), customer,
                    templates.writingLocale("crm.appointment_reminder", "email", expected.getKey()));
            assertThat((String) context.get("startsAtLocal")).as(expected.getKey()).isEqualTo(expected.getValue());
        }
    }

    /** A discount line of an order is told as the amount taken off, never as a negative price. */
    @Test
    void aDiscountLineOfAnOrderIsToldAsTheAmountTakenOff() throws IOException {
        Map<String, Object> data = Map.of("orderNumber", "ORD-1", "total", "109.90 EUR", "lines", List.of(
                Map.of("name", "Laser printer", "qty", 1, "price", "119.90 EUR", "lineTotal", "119.90 EUR"),
                Map.of("name", "Loyalty discount", "qty", 1, "discount", "10.00 EUR")));
        String text = templates.render("crm.order_confirmed", "email", "text", "en-GB", MessageContext.of(
                notification("crm.order_confirmed", data), JENNY, templates.writingLocale("crm.order_confirmed", "email", "en-GB")));
        assertThat(text).contains("- 1 x Laser printer at €119.90: €119.90", "- Loyalty discount: €10.00 off").doesNotContain("-€");
    }

    /** Nothing due at renewal: the credit balance is named only when there is one (not for a 100% discount). */
    @Test
    void aRenewalWithNothingDueNamesTheCreditBalanceOnlyWhenThereIsOne() throws IOException {
        String type = "billing.renewal_upcoming";
        for (String golden : List.of("credit-covers", "nothing-due")) {
            JsonNode canonical = JSON.readTree(GOLDEN.resolve("billing/invoice.upcoming." + golden + ".canonical.json").toFile());
            CanonicalNotification renewal = notification(type, JSON.convertValue(canonical.get("data"), new TypeReference<>() { }));
            String english = templates.render(type, "email", "text", "en-GB", MessageContext.of(renewal, JENNY, templates.writingLocale(type, "email", "en-GB")));
            String german = templates.render(type, "email", "text", "de-DE", MessageContext.of(renewal, LUKAS, templates.writingLocale(type, "email", "de-DE")));
            if (golden.equals("credit-covers")) {
                assertThat(english).contains("Your credit balance covers it: nothing will be charged.");
                assertThat(german).contains("Ihr Guthaben deckt den Betrag: Es wird nichts abgebucht.");
            } else {
                assertThat(english).contains("Nothing will be charged.").doesNotContain("credit balance");
                assertThat(german).contains("Es wird nichts abgebucht.").doesNotContain("Guthaben");
            }
        }
    }

    /** A customer reading an English fallback (no template in their language) reads international English dates, not US ones. */
    @Test
    void anEnglishFallbackIsWrittenInInternationalEnglish(@TempDir Path root) throws IOException {
        String type = "support.agent_replied";
        TemplateRenderer englishOnly = englishOnly(root, type);
        assertThat(englishOnly.localeFor(type, "email", "de-DE")).isEqualTo("en");
        Locale writing = englishOnly.writingLocale(type, "email", "de-DE");
        assertThat(writing.toLanguageTag()).isEqualTo("en-001");
        Map<String, Object> context = MessageContext.of(notification(type, Map.of("promisedBy", "2026-11-25",
                "renewsAt", "2025-11-26T23:30:00Z", "amountDue", "1250.00 EUR")), LUKAS, writing);
        assertThat(context).containsEntry("promisedByLocal", "Wednesday, 25 November 2026")
                .containsEntry("renewsAtLocal", "Thursday, 27 November 2025, 00:30 CET")
                .containsEntry("amountDueLocal", "€1,250.00");
        // In the customer's own language nothing changes.
        assertThat(templates.writingLocale("billing.payment_failed", "email", "de-DE").toLanguageTag()).isEqualTo("de-DE");
        assertThat(englishOnly.writingLocale(type, "email", "en-US").toLanguageTag()).isEqualTo("en-US");
    }

    /** A templates folder whose type has English email templates only (every shipped type a customer receives has German ones). */
    private static TemplateRenderer englishOnly(Path root, String type) throws IOException {
        Path folder = Files.createDirectories(root.resolve(type));
        Files.writeString(folder.resolve("email.subject.en.mustache"), "New reply on your request #{{ticketId}}");
        Files.writeString(folder.resolve("email.text.en.mustache"), "{{commentBody}}");
        return new TemplateRenderer(root.toString(), "en");
    }

    /** A time is read on the customer's own clock: 12-hour in the US, 24-hour for a German reading an English fallback. */
    @Test
    void aTimeIsWrittenOnTheClockTheCustomerKeeps(@TempDir Path root) throws IOException {
        CanonicalNotification booked = notification("crm.appointment_scheduled", Map.of("startsAt", "2026-11-24T14:30:00-05:00",
                "renewsAt", "2025-11-26T23:30:00Z"));
        Customer american = customer("en-US", "America/New_York", "Ann Lee");
        assertThat(MessageContext.of(booked, american, templates.writingLocale("crm.appointment_scheduled", "email", "en-US")))
                .containsEntry("startsAtLocal", "Tuesday, November 24, 2026, 2:30 PM EST")
                .containsEntry("renewsAtLocal", "Wednesday, November 26, 2025, 6:30 PM EST");
        assertThat(MessageContext.of(booked, JENNY, Locale.UK)).containsEntry("renewsAtLocal", "Wednesday, 26 November 2025, 23:30 GMT");
        Locale fallback = englishOnly(root, "support.agent_replied").writingLocale("support.agent_replied", "email", "de-DE");
        assertThat(MessageContext.of(booked, LUKAS, fallback)).containsEntry("renewsAtLocal", "Thursday, 27 November 2025, 00:30 CET");
        // A locale the directory holds that names no language: the message's own clock.
        assertThat(MessageContext.of(booked, customer("??", "Europe/London", "X"), Locale.UK))
                .containsEntry("renewsAtLocal", "Wednesday, 26 November 2025, 23:30 GMT");
    }

    /** Minutes are counted in words: "1 minute", never "1 minutes"; German "Minuten"; a length that is no number is left out. */
    @Test
    void minutesAreCountedInWords() {
        String type = "crm.appointment_scheduled";
        Map<String, Object> data = new java.util.HashMap<>(Map.of("startsAt", "2026-11-24T14:30:00Z", "service", "Onboarding call",
                "durationMinutes", 1));
        assertThat(templates.render(type, "email", "text", "en-GB", MessageContext.of(notification(type, data), JENNY, Locale.UK)))
                .contains("(1 minute)").doesNotContain("minutes");
        data.put("durationMinutes", 45);
        assertThat(templates.render(type, "email", "text", "en-GB", MessageContext.of(notification(type, data), JENNY, Locale.UK)))
                .contains("(45 minutes)");
        assertThat(templates.render(type, "email", "text", "de-DE", MessageContext.of(notification(type, data), LUKAS, Locale.GERMANY)))
                .contains("(45 Minuten)");
        data.put("durationMinutes", 22.5);
        assertThat(templates.render(type, "email", "text", "de-DE", MessageContext.of(notification(type, data), LUKAS, Locale.GERMANY)))
                .contains("(22,5 Minuten)");
        data.put("durationMinutes", "about an hour");
        assertThat(templates.render(type, "email", "text", "en-GB", MessageContext.of(notification(type, data), JENNY, Locale.UK)))
                .doesNotContain("minute").doesNotContain("()").doesNotContain("about an hour");
        assertThat(MessageContext.of(notification(type, Map.of("durationMinutes", 90)), JENNY, Locale.FRANCE))
                .containsEntry("durationMinutesLocal", "90 min");
    }

    /** A German customer reads Zendesk's statuses in German ("Gelöst"), not as Zendesk's English codes. */
    @Test
    void aTicketsStatusIsWrittenInTheCustomersLanguage() throws IOException {
        CanonicalNotification changed = golden("support.ticket_status_changed", "support/ticket.status_changed.canonical.json");
        String type = "support.ticket_status_changed";
        assertThat(templates.render(type, "email", "text", "de-DE", MessageContext.of(changed, LUKAS, templates.writingLocale(type, "email", "de-DE"))))
                .contains("hat sich von „Offen“ in „Gelöst“ geändert.");
        assertThat(templates.render(type, "email", "text", "en-GB", MessageContext.of(changed, JENNY, templates.writingLocale(type, "email", "en-GB"))))
                .contains("changed from Open to Solved.");
    }

    /**
     * A ticket's email closes with what its new status asks of the customer: a pending ticket waits for their answer (given by
     * replying to our last message about it, never to this email, which has no Reply-To to the helpdesk), an open one is
     * worked on, a solved one can be picked up again; a custom status says neither. A digest closes by its newest status.
     */
    @Test
    void aTicketsEmailClosesWithWhatItsStatusAsksOfTheCustomer() throws IOException {
        String type = "support.ticket_status_changed";
        Map<String, String[]> closings = new LinkedHashMap<>();
        closings.put("support/ticket.status_changed.pending.canonical.json", new String[] {
                "changed from Open to Pending.\n\nWe are waiting for your answer: please reply to our last message about this request,"
                        + " and we will continue as soon as we hear from you.\n\n-- The Support Team",
                "hat sich von „Offen“ in „Wartend“ geändert.\n\nWir warten auf Ihre Antwort: Bitte antworten Sie auf unsere letzte Nachricht"
                        + " zu dieser Anfrage, damit wir weitermachen können.\n\n-- Ihr Support-Team"});
        closings.put("support/ticket.status_changed.new-to-open.canonical.json", new String[] {
                "changed from New to Open.\n\nOur team is working on it and will get back to you.\n\n-- The Support Team",
                "hat sich von „Neu“ in „Offen“ geändert.\n\nUnser Team arbeitet daran und meldet sich bei Ihnen.\n\n-- Ihr Support-Team"});
        closings.put("support/ticket.status_changed.canonical.json", new String[] {
                "changed from Open to Solved.\n\nIf something is still not right, reply to our last message about this request and we will"
                        + " pick it up again.\n\n-- The Support Team",
                "hat sich von „Offen“ in „Gelöst“ geändert.\n\nWenn noch etwas nicht stimmt, antworten Sie auf unsere letzte Nachricht zu"
                        + " dieser Anfrage, und wir kümmern uns erneut darum.\n\n-- Ihr Support-Team"});
        closings.put("support/ticket.status_changed.custom-status.canonical.json", new String[] {
                "changed from Open to Awaiting customer.\n\nIf you have a question about it, reply to our last message about this"
                        + " request.\n\n-- The Support Team",
                "hat sich von „Offen“ in „Awaiting customer“ geändert.\n\nWenn Sie Fragen dazu haben, antworten Sie auf unsere letzte"
                        + " Nachricht zu dieser Anfrage.\n\n-- Ihr Support-Team"});
        for (Map.Entry<String, String[]> expected : closings.entrySet()) {
            CanonicalNotification changed = golden(type, expected.getKey());
            assertThat(emailText(changed, JENNY, "en-GB")).as(expected.getKey()).endsWith(expected.getValue()[0])
                    .doesNotContainIgnoringCase("reply to this").doesNotContain("reply to the ticket");
            assertThat(emailText(changed, LUKAS, "de-DE")).as(expected.getKey()).endsWith(expected.getValue()[1])
                    .doesNotContain("auf diese E-Mail").doesNotContain("auf das Ticket");
        }

        // A digest whose newest status is pending (it was solved before): waiting for the customer, not "pick it up again".
        CanonicalNotification solved = golden(type, "support/ticket.status_changed.canonical.json");
        CanonicalNotification pending = golden(type, "support/ticket.status_changed.pending.canonical.json");
        Map<String, Object> first = new LinkedHashMap<>(solved.data());
        first.put("number", 1);
        first.put("occurredAt", "2026-11-21T10:12:44Z");
        Map<String, Object> last = new LinkedHashMap<>(pending.data());
        last.put("number", 2);
        last.put("occurredAt", "2026-11-21T10:13:30Z");
        Map<String, Object> data = new LinkedHashMap<>(solved.data());
        data.put("digest", Map.of("count", 2, "items", List.of(first, last), "first", first, "last", last));
        CanonicalNotification digest = notification(type, data);
        assertThat(emailText(digest, JENNY, "en-GB")).contains("It is now Pending.\n\nWe are waiting for your answer: please reply to our last"
                + " message about this request, and we will continue as soon as we hear from you.\n\n-- The Support Team")
                .doesNotContain("pick it up again");
        assertThat(emailText(digest, LUKAS, "de-DE")).contains("Der Status ist jetzt „Wartend“.\n\nWir warten auf Ihre Antwort: Bitte antworten"
                + " Sie auf unsere letzte Nachricht zu dieser Anfrage, damit wir weitermachen können.\n\n-- Ihr Support-Team")
                .doesNotContain("kümmern uns erneut");
    }

    /**
     * A German customer reads an order confirmation, an agent's reply and an incident's notice and follow-up in German, on
     * every channel of the type (they used to have English templates only).
     */
    @Test
    void aGermanCustomerReadsOrdersRepliesAndIncidentsInGerman() throws IOException {
        for (String type : List.of("crm.order_confirmed", "support.agent_replied", "incident.notice", "incident.resolved")) {
            for (String channel : catalog.entry(type).channels()) {
                assertThat(templates.localeFor(type, channel, "de-DE")).as(type + " " + channel).isEqualTo("de");
                assertThat(templates.localeFor(type, channel, "en-GB")).as(type + " " + channel).isEqualTo("en");
            }
        }
        CanonicalNotification order = golden("crm.order_confirmed", "crm/order.confirmed.canonical.json");
        assertThat(emailText(order, LUKAS, "de-DE")).isEqualTo("""
                Hallo Lukas,

                vielen Dank für Ihre Bestellung ORD-100234. Sie haben Folgendes bestellt:
                - 1 x Laser printer 4410 zu je 119,90\u00a0€: 119,90\u00a0€
                - 1 x Standard shipping zu je 10,00\u00a0€: 10,00\u00a0€

                Gesamtbetrag: 129,90\u00a0€
                Sie erhalten Ihre Bestellung bis Mittwoch, 25. November 2026 (Versand: standard).

                -- Bestellungen""");
        Map<String, Object> orderContext = MessageContext.of(order, LUKAS, templates.writingLocale("crm.order_confirmed", "push", "de-DE"));
        assertThat(templates.render("crm.order_confirmed", "email", "subject", "de-DE", orderContext)).isEqualTo("Bestellung ORD-100234 bestätigt: 129,90\u00a0€");
        assertThat(templates.render("crm.order_confirmed", "push", "title", "de-DE", orderContext)).isEqualTo("Bestellung ORD-100234 bestätigt");
        assertThat(templates.render("crm.order_confirmed", "push", "body", "de-DE", orderContext))
                .isEqualTo("129,90\u00a0€, Lieferung bis Mittwoch, 25. November 2026");
        Map<String, Object> discounted = Map.of("orderNumber", "ORD-1", "total", "109.90 EUR", "lines", List.of(
                Map.of("name", "Laserdrucker", "qty", 1, "price", "119.90 EUR", "lineTotal", "119.90 EUR"),
                Map.of("name", "Treuerabatt", "qty", 1, "discount", "10.00 EUR")));
        assertThat(emailText(notification("crm.order_confirmed", discounted), LUKAS, "de-DE"))
                .contains("- 1 x Laserdrucker zu je 119,90\u00a0€: 119,90\u00a0€\n- Treuerabatt: 10,00\u00a0€ Nachlass\n").doesNotContain("-10");

        CanonicalNotification reply = golden("support.agent_replied", "support/ticket.comment_added.canonical.json");
        assertThat(emailText(reply, LUKAS, "de-DE")).startsWith("Hallo Lukas,\n\nSupport Team hat auf Ihre Supportanfrage #35436"
                + " „Printer error E-42 after update“ geantwortet:\n\nHi Jenny, firmware 4.2.1").endsWith("\n\n-- Ihr Support-Team");
        Map<String, Object> replyContext = MessageContext.of(reply, LUKAS, templates.writingLocale("support.agent_replied", "email", "de-DE"));
        assertThat(templates.render("support.agent_replied", "email", "subject", "de-DE", replyContext))
                .isEqualTo("Neue Antwort auf Ihre Anfrage #35436: Printer error E-42 after update");
        assertThat(templates.render("support.agent_replied", "push", "title", "de-DE", replyContext)).isEqualTo("Neue Antwort auf Anfrage #35436");
        assertThat(templates.render("support.agent_replied", "push", "body", "de-DE", replyContext))
                .isEqualTo("Support Team hat auf „Printer error E-42 after update“ geantwortet: Hi Jenny, firmware 4.2.1 fixes E-42."
                        + " Could you install it and tell us if the error is gone?");
        assertThat(templates.render("support.agent_replied", "sms", "text", "de-DE", replyContext))
                .isEqualTo("Support Team hat auf Ihre Anfrage #35436 „Printer error E-42 after update“ geantwortet: „Hi Jenny, firmware 4.2.1"
                        + " fixes E-42. Could you install it and tell us if the error is gone?“");
        CanonicalNotification unnamed = golden("support.agent_replied", "support/ticket.comment_added.without-subject-or-agent.canonical.json");
        assertThat(emailText(unnamed, LUKAS, "de-DE")).startsWith("Hallo Lukas,\n\nunser Support-Team hat auf Ihre Supportanfrage #35436 geantwortet:");
        CanonicalNotification shortened = golden("support.agent_replied", "support/ticket.comment_added.long-reply.canonical.json");
        assertThat(emailText(shortened, LUKAS, "de-DE")).contains(" […]\n\nDie Antwort ist zu lang für eine E-Mail von uns: Sie können sie"
                + " vollständig in Ihrer Anfrage #35436 lesen.\n\n-- Ihr Support-Team");

        CanonicalNotification notice = notification("incident.notice", PRODUCED_IN_JAVA.get("incident.notice"));
        assertThat(emailText(notice, LUKAS, "de-DE")).isEqualTo("""
                Hallo Lukas,

                wir kümmern uns gerade um ein Problem, das Ihren Dienst betrifft:

                Card payments fail for some customers

                Es begann am Dienstag, 24. November 2026, 11:00 MEZ. Unser Team arbeitet daran, und wir schreiben Ihnen wieder, sobald es behoben ist.

                Bitte entschuldigen Sie die Unannehmlichkeiten.

                -- Ihr Betriebsteam""");
        Map<String, Object> noticeContext = MessageContext.of(notice, LUKAS, templates.writingLocale("incident.notice", "in_app", "de-DE"));
        assertThat(templates.render("incident.notice", "email", "subject", "de-DE", noticeContext)).isEqualTo("Störung: Card payments fail for some customers");
        assertThat(templates.render("incident.notice", "in_app", "title", "de-DE", noticeContext)).isEqualTo("Störung");
        assertThat(templates.render("incident.notice", "in_app", "body", "de-DE", noticeContext)).isEqualTo("Am Dienstag, 24. November 2026, 11:00 MEZ"
                + " ist ein Problem mit Ihrem Dienst aufgetreten. Wir arbeiten daran und informieren Sie, sobald es behoben ist. Das Problem:"
                + " Card payments fail for some customers");
        CanonicalNotification resolved = notification("incident.resolved", PRODUCED_IN_JAVA.get("incident.resolved"));
        assertThat(emailText(resolved, LUKAS, "de-DE")).isEqualTo("""
                Hallo Lukas,

                das Problem, über das wir Ihnen geschrieben haben, ist behoben:

                Card payments fail for some customers

                Es begann am Dienstag, 24. November 2026, 11:00 MEZ und wurde am Dienstag, 24. November 2026, 14:45 MEZ behoben. Alles sollte wieder normal funktionieren; falls etwas noch nicht geht, wenden Sie sich bitte an uns.

                Vielen Dank für Ihre Geduld.

                -- Ihr Betriebsteam""");
        Map<String, Object> resolvedContext = MessageContext.of(resolved, LUKAS, templates.writingLocale("incident.resolved", "in_app", "de-DE"));
        assertThat(templates.render("incident.resolved", "email", "subject", "de-DE", resolvedContext)).isEqualTo("Behoben: Card payments fail for some customers");
        assertThat(templates.render("incident.resolved", "in_app", "title", "de-DE", resolvedContext)).isEqualTo("Störung behoben");
        assertThat(templates.render("incident.resolved", "in_app", "body", "de-DE", resolvedContext)).isEqualTo("Das Problem, das am Dienstag,"
                + " 24. November 2026, 11:00 MEZ begann, wurde am Dienstag, 24. November 2026, 14:45 MEZ behoben: Card payments fail for some customers");
    }

    /**
     * An incident's summary is the customer's reading of an alert, with or without its own full stop: the messages never add
     * another ("customers.."), the follow-up says when the problem began and when it was resolved, and no sentence is broken
     * across lines (a line break is a break in the HTML part too).
     */
    @Test
    void anIncidentSummaryEndingInAFullStopIsFollowedByNoOther() throws IOException {
        for (String summary : List.of("Card payments fail for some customers.", "Card payments fail for some customers")) {
            Map<String, Object> firing = Map.of("summary", summary, "startedAt", "2026-11-24T10:00:00Z");
            Map<String, Object> over = Map.of("summary", summary, "startedAt", "2026-11-24T10:00:00Z", "resolvedAt", "2026-11-24T13:45:00Z");
            for (Map.Entry<String, Map<String, Object>> incident : Map.of("incident.notice", firing, "incident.resolved", over).entrySet()) {
                CanonicalNotification notification = notification(incident.getKey(), incident.getValue());
                for (Customer customer : List.of(JENNY, LUKAS)) {
                    String locale = customer.locale();
                    for (String channel : List.of("email", "in_app")) {
                        Map<String, Object> context = MessageContext.of(notification, customer, templates.writingLocale(incident.getKey(), channel, locale));
                        for (String part : ChannelDelivery.PARTS_BY_CHANNEL.get(channel)) {
                            String text = templates.render(incident.getKey(), channel, part, locale, context);
                            assertThat(text).as(incident.getKey() + " " + channel + "." + part + " " + locale + " for '" + summary + "'")
                                    .doesNotContain("..").doesNotContain(".“.").doesNotContain(".\".").doesNotContain("since");
                            if (!part.equals("title")) {
                                assertThat(text).contains(summary);
                            }
                        }
                        if (channel.equals("email")) {
                            String html = HtmlFromText.of(templates.render(incident.getKey(), "email", "text", locale, context),
                                    templates.localeFor(incident.getKey(), "email", locale));
                            assertThat(html).doesNotContain("..").contains("<p>" + summary + "</p>").doesNotContain("<br");
                        }
                    }
                }
            }
            CanonicalNotification notice = notification("incident.notice", firing);
            assertThat(emailText(notice, JENNY, "en-GB")).contains("We are dealing with a problem that affects your service:\n\n" + summary
                    + "\n\nIt started on Tuesday, 24 November 2026, 10:00 GMT. Our team is working on it, and we will write to you again as soon"
                    + " as it is resolved.\n\n");
            Map<String, Object> noticeContext = MessageContext.of(notice, JENNY, templates.writingLocale("incident.notice", "in_app", "en-GB"));
            assertThat(templates.render("incident.notice", "in_app", "body", "en-GB", noticeContext)).isEqualTo("A problem with your service began"
                    + " on Tuesday, 24 November 2026, 10:00 GMT. We are working on it and will let you know when it is resolved. The problem: " + summary);
            CanonicalNotification resolved = notification("incident.resolved", over);
            assertThat(emailText(resolved, JENNY, "en-GB")).contains("The problem we wrote to you about is resolved:\n\n" + summary
                    + "\n\nIt started on Tuesday, 24 November 2026, 10:00 GMT and was resolved on Tuesday, 24 November 2026, 13:45 GMT. Everything"
                    + " should work normally again; if something still does not, please get in touch with us.\n\n")
                    .doesNotContain("reply to this");
            Map<String, Object> resolvedContext = MessageContext.of(resolved, JENNY, templates.writingLocale("incident.resolved", "in_app", "en-GB"));
            assertThat(templates.render("incident.resolved", "in_app", "body", "en-GB", resolvedContext)).isEqualTo("The problem that began on"
                    + " Tuesday, 24 November 2026, 10:00 GMT was resolved on Tuesday, 24 November 2026, 13:45 GMT: " + summary);
        }
    }

    /** A reply too long for a message is sent shortened, and the customer is told where to read the rest. */
    @Test
    void aShortenedReplySaysWhereToReadTheRest() throws IOException {
        JsonNode canonical = JSON.readTree(GOLDEN.resolve("support/ticket.comment_added.long-reply.canonical.json").toFile());
        Map<String, Object> data = JSON.convertValue(canonical.get("data"), new TypeReference<>() { });
        String type = "support.agent_replied";
        String text = templates.render(type, "email", "text", "en-GB", MessageContext.of(notification(type, data), JENNY,
                templates.writingLocale(type, "email", "en-GB")));
        assertThat(text).contains("a".repeat(3999) + " […]\n\nThe reply is longer than an email from us carries: read all of it in your"
                + " request #35436.").doesNotContain("bbb");
    }

    /**
     * A customer with no zone of their own (the directory's UTC) or one Java does not know reads a time at the offset it
     * came with, labelled; never "Z", never an hour the source did not mean.
     */
    @Test
    void aCustomerWithoutAKnownZoneReadsTimesAtTheOffsetTheyCameWith() {
        CanonicalNotification booked = notification("crm.appointment_scheduled", Map.of(
                "startsAt", "2026-11-24T14:30:00-05:00", "renewsAt", "2025-11-26T23:30:00Z"));
        for (String zone : List.of("UTC", "Europe/Londres", "PST", " ")) {
            assertThat(MessageContext.of(booked, customer("en-GB", zone, "Jenny Rosen"), Locale.UK)).as(zone)
                    .containsEntry("startsAtLocal", "Tuesday, 24 November 2026, 14:30 UTC-05:00")
                    .containsEntry("renewsAtLocal", "Wednesday, 26 November 2025, 23:30 UTC");
        }
        assertThat(MessageContext.of(booked, customer("en-GB", "America/New_York", "Jenny Rosen"), Locale.UK))
                .containsEntry("startsAtLocal", "Tuesday, 24 November 2026, 14:30 GMT-05:00")
                .containsEntry("renewsAtLocal", "Wednesday, 26 November 2025, 18:30 GMT-05:00");
    }

    @Test
    void timesAndAmountsAreWrittenInTheCustomersZoneAndLanguage() {
        CanonicalNotification renewal = notification("billing.renewal_upcoming", Map.of(
                "amountDue", "1250.00 EUR", "renewsAt", "2025-11-26T23:30:00Z", "promisedBy", "2026-11-25",
                "lines", List.of(Map.of("price", "129.99 GBP"))));

        Map<String, Object> german = MessageContext.of(renewal, LUKAS, Locale.GERMANY);
        assertThat(german).containsEntry("amountDueLocal", "1.250,00\u00a0€")
                // 23:30 UTC is already the next day in Berlin
                .containsEntry("renewsAtLocalDate", "Donnerstag, 27. November 2025")
                .containsEntry("renewsAtLocal", "Donnerstag, 27. November 2025, 00:30 MEZ")
                .containsEntry("promisedByLocal", "Mittwoch, 25. November 2026")
                .containsEntry("amountDue", "1250.00 EUR");
        assertThat(german.get("lines")).asList().first().asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("priceLocal", "129,99\u00a0£");

        Map<String, Object> british = MessageContext.of(renewal, JENNY, Locale.UK);
        assertThat(british).containsEntry("amountDueLocal", "€1,250.00")
                .containsEntry("renewsAtLocalDate", "Wednesday, 26 November 2025")
                .containsEntry("renewsAtLocal", "Wednesday, 26 November 2025, 23:30 GMT");
        assertThat(MessageContext.of(notification("billing.charge_refunded", Map.of("amountRefunded", "500 JPY", "credit", "-2.50 EUR")),
                JENNY, Locale.UK)).containsEntry("amountRefundedLocal", "JP¥500").containsEntry("creditLocal", "-€2.50");
    }

    @Test
    void aMessageIsWrittenInOneLocaleAndItsHtmlIsNeverTakenFromAnother(@TempDir Path root) throws IOException {
        Path folder = Files.createDirectories(root.resolve("billing.payment_failed"));
        Files.writeString(folder.resolve("email.subject.en.mustache"), "Payment of {{amountDueLocal}} failed");
        Files.writeString(folder.resolve("email.text.en.mustache"), "We could not collect {{amountDueLocal}}.");
        Files.writeString(folder.resolve("email.html.en.mustache"), "<p lang=\"en\">We could not collect {{amountDueLocal}}.</p>");
        Files.writeString(folder.resolve("email.subject.de.mustache"), "Zahlung von {{amountDueLocal}} fehlgeschlagen");
        Files.writeString(folder.resolve("email.text.de.mustache"), "Wir konnten {{amountDueLocal}} nicht einziehen.");
        Files.writeString(folder.resolve("sms.text.en.mustache"), "Payment of {{amountDueLocal}} failed");
        // The folder unchanged for a minute, as in a running Herald: the locale chosen in it is kept until a file comes or goes.
        Files.setLastModifiedTime(folder, FileTime.from(Instant.now().minusSeconds(60)));
        TemplateRenderer renderer = new TemplateRenderer(root.toString(), "en");
        CanonicalNotification failed = notification("billing.payment_failed", Map.of("amountDue", "49.00 USD"));
        Map<String, Object> german = MessageContext.of(failed, LUKAS, renderer.writingLocale("billing.payment_failed", "email", "de-DE"));

        assertThat(renderer.localeFor("billing.payment_failed", "email", "de-DE")).isEqualTo("de");
        assertThat(renderer.render("billing.payment_failed", "email", "subject", "de-DE", german)).isEqualTo("Zahlung von 49,00\u00a0$ fehlgeschlagen");
        // No German HTML part: none is taken from English; the sender writes it from the German text.
        assertThat(renderer.renderOptional("billing.payment_failed", "email", "html", "de-DE", german)).isEmpty();
        assertThat(HtmlFromText.of(renderer.render("billing.payment_failed", "email", "text", "de-DE", german),
                renderer.localeFor("billing.payment_failed", "email", "de-DE")))
                .contains("<html lang=\"de\">", "<p>Wir konnten 49,00&nbsp;$ nicht einziehen.</p>").doesNotContain("We could not");
        // No German SMS: the English one, with English amounts (not "49,00 $" inside an English sentence), in international
        // English: the dollar named as the United States' (a German reader's "$" is not obviously US).
        assertThat(renderer.localeFor("billing.payment_failed", "sms", "de-DE")).isEqualTo("en");
        assertThat(renderer.render("billing.payment_failed", "sms", "text", "de-DE",
                MessageContext.of(failed, LUKAS, renderer.writingLocale("billing.payment_failed", "sms", "de-DE"))))
                .isEqualTo("Payment of US$49.00 failed");
        // A German SMS added while Herald runs: the next German customer's SMS is German.
        Files.writeString(folder.resolve("sms.text.de.mustache"), "Zahlung von {{amountDueLocal}} fehlgeschlagen");
        assertThat(renderer.localeFor("billing.payment_failed", "sms", "de-DE")).isEqualTo("de");
        assertThat(renderer.render("billing.payment_failed", "sms", "text", "de-DE", german)).isEqualTo("Zahlung von 49,00\u00a0$ fehlgeschlagen");

        // A German subject without its text: German customers get the whole email in English, and startup says why.
        Files.delete(folder.resolve("email.text.de.mustache"));
        assertThat(renderer.localeFor("billing.payment_failed", "email", "de-DE")).isEqualTo("en");
        assertThat(renderer.render("billing.payment_failed", "email", "subject", "de-DE", german)).startsWith("Payment of");
        Path catalogFile = Files.writeString(root.resolve("catalog.yaml"), """
                notifications:
                  billing.payment_failed:
                    category: billing
                    priority: high
                    channels: [email, sms]
                    window: PT1H
                """);
        assertThatThrownBy(() -> new CatalogTemplatesCheck(new NotificationCatalog(catalogFile.toString()), renderer, "en").afterPropertiesSet())
                .hasMessageContaining(folder.resolve("email.text.de.mustache") + " does not exist, though other email parts in locale de do");

        // A template that does not compile (an unclosed section in the German SMS, a stray closing tag in the HTML) stops
        // startup naming the file and line: it passed, and every message of its type then FAILED.
        Files.writeString(folder.resolve("email.text.de.mustache"), "Wir konnten {{amountDueLocal}} nicht einziehen.");
        Files.writeString(folder.resolve("sms.text.de.mustache"), "Zahlung {{#nextPaymentAttempt}}am {{nextPaymentAttemptLocal}}\nfehlgeschlagen");
        Files.writeString(folder.resolve("email.html.en.mustache"), "<p>{{amountDueLocal}}</p>{{/lines}}");
        assertThatThrownBy(() -> new CatalogTemplatesCheck(new NotificationCatalog(catalogFile.toString()), renderer, "en").afterPropertiesSet())
                .hasMessageContaining(folder.resolve("sms.text.de.mustache") + " is not a template Herald can read: ")
                .hasMessageContaining("nextPaymentAttempt")
                .hasMessageContaining(folder.resolve("email.html.en.mustache") + " is not a template Herald can read: ")
                .hasMessageContaining("(line ");
    }

    @Test
    void startupRefusesATemplatePrintingAnAmountOrTimeOfTheRulesAsTheDataHoldsIt(@TempDir Path root) throws IOException {
        new RawValuesInTemplatesCheck(catalog, new NotificationRules("config/rules.yaml", catalog), templates).afterPropertiesSet();

        Path folder = Files.createDirectories(root.resolve("billing.payment_failed"));
        Files.writeString(folder.resolve("email.subject.en.mustache"), "Payment of {{amountDueLocal}} failed");
        Files.writeString(folder.resolve("email.text.en.mustache"),
                "We could not collect {{ amountDue }}.{{#nextPaymentAttempt}} Next try: {{nextPaymentAttemptLocal}}{{/nextPaymentAttempt}}");
        Path catalogFile = Files.writeString(root.resolve("catalog.yaml"), """
                notifications:
                  billing.payment_failed:
                    category: billing
                    priority: high
                    channels: [email]
                    window: PT1H
                """);
        Path rulesFile = Files.writeString(root.resolve("rules.yaml"), """
                rules:
                  billing.payment_failed:
                    data.amountDue: {label: amount due, kind: money, required: true}
                    data.nextPaymentAttempt: {label: next payment attempt, kind: date}
                """);
        NotificationCatalog small = new NotificationCatalog(catalogFile.toString());
        assertThatThrownBy(() -> new RawValuesInTemplatesCheck(small, new NotificationRules(rulesFile.toString(), small),
                new TemplateRenderer(root.toString(), "en")).afterPropertiesSet())
                .hasMessage("Templates print raw times or amounts (see templates/README.md): " + folder.resolve("email.text.en.mustache")
                        + " prints {{amountDue}} (the amount due) as the data holds it; print {{amountDueLocal}} instead, written for the customer");
    }

    /** Each raw ISO time or date and each unformatted amount in a rendered part, as a problem naming the file. */
    private static List<String> rawValues(String text, String where) {
        List<String> found = new ArrayList<>();
        for (Pattern raw : List.of(RAW_TIME, RAW_MONEY)) {
            Matcher m = raw.matcher(text);
            while (m.find()) {
                if (raw == RAW_MONEY && !CURRENCIES.contains(m.group(2))) {
                    continue;   // "10:00 GMT" is a written time, not an amount
                }
                found.add(where + " prints '" + m.group() + "'");
            }
        }
        return found;
    }

    /** Jenny (en-GB), Lukas (de-DE), and a customer for every other locale with templates on this channel. */
    private List<Customer> customersFor(String folder, String channel) {
        // The directory may have no name for a customer (a CRM contact without one): every template renders without it too.
        List<Customer> customers = new ArrayList<>(List.of(JENNY, LUKAS, customer("en-GB", "Europe/London", null),
                customer("de-DE", "Europe/Berlin", null)));
        for (String locale : templates.localesOf(folder, channel)) {
            String language = Locale.forLanguageTag(locale).getLanguage();
            if (!language.equals("en") && !language.equals("de")) {
                customers.add(customer(locale, "America/New_York", "Ana Silva"));
                customers.add(customer(locale, "America/New_York", null));
            }
        }
        return customers;
    }

    /**
     * Type -> data: every golden canonical notification (the mappings' outputs for the samples and their variants, such as a
     * ticket without a subject or an order line without a quantity) and the Java-built types.
     */
    private static Map<String, List<Map<String, Object>>> representativeData() throws IOException {
        Map<String, List<Map<String, Object>>> data = new LinkedHashMap<>();
        PRODUCED_IN_JAVA.forEach((type, fields) -> data.put(type, new ArrayList<>(List.of(fields))));
        try (Stream<Path> files = Files.walk(GOLDEN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".canonical.json")).sorted().toList()) {
                JsonNode canonical = JSON.readTree(file.toFile());
                Map<String, Object> fields = JSON.convertValue(canonical.get("data"), new TypeReference<>() { });
                Map<String, Object> refs = JSON.convertValue(canonical.get("refs"), new TypeReference<>() { });
                Map<String, Object> both = new LinkedHashMap<>(refs);
                both.putAll(fields);
                data.computeIfAbsent(canonical.get("type").asText(), type -> new ArrayList<>()).add(both);
            }
        }
        // A reminder is built by io.herald.schedule.AppointmentReminders from its booking: the booking's data plus remindBefore.
        Map<String, Object> reminder = new LinkedHashMap<>(data.get("crm.appointment_scheduled").get(0));
        reminder.put("remindBefore", "PT24H");
        data.putIfAbsent("crm.appointment_reminder", new ArrayList<>(List.of(reminder)));
        return data;
    }

    private static CanonicalNotification notification(String type, Map<String, Object> data) {
        return new CanonicalNotification("test:" + type, "test", "evt_test", type, "cus_test", Instant.parse("2026-11-21T10:00:00Z"),
                Map.of(), data, "normal");
    }

    private static Customer customer(String locale, String zone, String name) {
        return new Customer("cus_" + locale, name, "someone@example.org", "+447700900123", List.of(), locale, zone, Map.of());
    }
}
