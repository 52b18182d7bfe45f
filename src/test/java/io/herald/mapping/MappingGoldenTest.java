package io.herald.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.herald.ingest.MappingLibraries;
import io.herald.testsupport.DataSonnetRun;

/**
 * Runs the real DataSonnet mappings (datasonnet/*.ds, read from disk exactly as the routes do with
 * {@code resource:file:...}) through camel-datasonnet, without Spring, and compares the output with
 * golden files under src/test/resources/golden.
 *
 * <p>To regenerate the golden files after an intended mapping change, run with
 * {@code -Dgolden.update=true}, then review the diff of src/test/resources/golden before committing.
 */
class MappingGoldenTest {

    private static final Path SAMPLES = Path.of("src/test/resources/samples");
    private static final Path GOLDEN = Path.of("src/test/resources/golden");
    private static final String BILLING = "billing-stripe.ds";
    private static final String CRM = "crm-outbox.ds";
    private static final String SUPPORT = "support-ticket.ds";
    private static final String CRM_CREATED_AT = "2026-11-21T09:58:13Z";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private static DefaultCamelContext camel;

    @BeforeAll
    static void startCamel() {
        camel = new DefaultCamelContext();
        camel.start();
        MappingLibraries.addTo(camel, Path.of("datasonnet"));   // herald.libsonnet, as Herald reads it
    }

    @AfterAll
    static void stopCamel() throws Exception {
        if (camel != null) {
            camel.close();
        }
    }

    // ---------------------------------------------------------------- golden cases

    /** One mapping run: which mapping, the input, and the golden file the output must equal. */
    record Case(String name, String mapping, String input, String golden) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> goldenCases() {
        return allCases().stream().map(c -> Arguments.of(c));
    }

    static List<Case> allCases() {
        List<Case> cases = new ArrayList<>();
        // every billing sample
        for (String type : List.of("invoice.payment_failed", "invoice.payment_action_required", "invoice.paid",
                "customer.subscription.trial_will_end", "charge.refunded", "invoice.upcoming")) {
            cases.add(new Case("billing " + type, BILLING, sample("billing/" + type + ".json"),
                    "billing/" + type + ".canonical.json"));
        }
        // API versions from 2025-03-31 name the subscription of an upcoming invoice under parent.subscription_details.
        cases.add(new Case("billing invoice.upcoming of a newer API version maps the same", BILLING,
                edit(sample("billing/invoice.upcoming.json"), e -> {
                    ObjectNode invoice = data(e);
                    invoice.remove("subscription");
                    invoice.putObject("parent").put("type", "subscription_details")
                            .putObject("subscription_details").put("subscription", "sub_1Pr2TeamLkdIwHu7ix");
                }),
                "billing/invoice.upcoming.canonical.json"));
        cases.add(new Case("billing unknown type is ignored", BILLING,
                edit(sample("billing/invoice.paid.json"), e -> e.put("type", "customer.updated")),
                "billing/unknown-type.ignored.json"));
        cases.add(new Case("billing unknown type without a customer is ignored, not rejected", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    e.put("type", "payout.paid");
                    data(e).putNull("customer");
                }),
                "billing/unknown-type-no-customer.ignored.json"));
        cases.add(new Case("billing event with only an email leaves identity to the directory", BILLING,
                edit(sample("billing/invoice.payment_failed.json"), e -> data(e).putNull("customer")),
                "billing/email-only.canonical.json"));
        // Real Stripe: a guest charge has no customer; the buyer's email is in billing_details.email (or receipt_email).
        cases.add(new Case("billing refund of a guest charge leaves identity to the directory by its billing email", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).putNull("customer");
                    data(e).putNull("receipt_email");
                    data(e).putObject("billing_details").put("email", "Guest.Buyer@Example.org");
                }),
                "billing/guest-charge.canonical.json"));
        cases.add(new Case("billing refund of a guest charge with only a receipt email", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> data(e).putNull("customer")),
                "billing/guest-charge-receipt.canonical.json"));

        // every CRM sample, wrapped as the outbox route wraps a row
        cases.add(new Case("crm order.confirmed", CRM, outbox(17, "order.confirmed", sample("crm/order.confirmed.json")),
                "crm/order.confirmed.canonical.json"));
        cases.add(new Case("crm appointment.scheduled", CRM,
                outbox(18, "appointment.scheduled", sample("crm/appointment.scheduled.json")),
                "crm/appointment.scheduled.canonical.json"));
        cases.add(new Case("crm contact.updated is a directory change", CRM,
                outbox(19, "contact.updated", sample("crm/contact.updated.json")),
                "crm/contact.updated.contact-update.json"));
        // Only a last name: no first name to greet by ("Hello,", never "Hello Smith,").
        cases.add(new Case("crm contact.updated with only a last name has no first name", CRM,
                outbox(19, "contact.updated", sample("crm/contact.updated.json").replace("\"firstName\": \"Jenny\",", "")),
                "crm/contact.updated.last-name-only.contact-update.json"));
        cases.add(new Case("crm appointment.rescheduled", CRM,
                outbox(23, "appointment.rescheduled", sample("crm/appointment.rescheduled.json")),
                "crm/appointment.rescheduled.canonical.json"));
        cases.add(new Case("crm appointment.cancelled", CRM,
                outbox(24, "appointment.cancelled", sample("crm/appointment.cancelled.json")),
                "crm/appointment.cancelled.canonical.json"));
        cases.add(new Case("crm unknown event type is ignored", CRM,
                outbox(20, "appointment.no_show", sample("crm/appointment.scheduled.json")),
                "crm/unknown-type.ignored.json"));
        cases.add(new Case("crm payload still as JSON text maps the same", CRM,
                outboxWithTextPayload(17, "order.confirmed", sample("crm/order.confirmed.json")),
                "crm/order.confirmed.canonical.json"));

        // the existing support mapping
        for (String type : List.of("ticket.status_changed", "ticket.comment_added")) {
            cases.add(new Case("support " + type, SUPPORT, sample("support/" + type + ".json"),
                    "support/" + type + ".canonical.json"));
        }
        // Real Zendesk: the customer is named only by the requester's user id (here a number), the ticket's external_id is null.
        cases.add(new Case("support real Zendesk event resolves by its requester's link", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> {
                    ((ObjectNode) e.get("detail")).putNull("external_id");
                    ((ObjectNode) e.get("detail")).put("requester_id", 9000000123456L);
                }),
                "support/real-zendesk.canonical.json"));
        cases.add(new Case("crm order.confirmed of an account known only by its CRM id", CRM,
                outbox(17, "order.confirmed", edit(sample("crm/order.confirmed.json"), p -> ((ObjectNode) p.get("account")).remove("externalId"))),
                "crm/order.confirmed-crm-account.canonical.json"));
        cases.add(new Case("support internal note is ignored", SUPPORT,
                edit(sample("support/ticket.comment_added.json"),
                        e -> ((ObjectNode) e.at("/event/comment")).put("is_public", false)),
                "support/internal-note.ignored.json"));
        cases.add(new Case("support comment by the customer is ignored", SUPPORT,
                edit(sample("support/ticket.comment_added.json"),
                        e -> ((ObjectNode) e.at("/event/comment/author")).put("is_staff", false)),
                "support/customer-comment.ignored.json"));
        // A subscription set to end with its trial: the notice must not say the plan goes on.
        cases.add(new Case("billing trial ending of a subscription cancelled at period end", BILLING,
                edit(sample("billing/customer.subscription.trial_will_end.json"), e -> data(e).put("cancel_at_period_end", true)),
                "billing/customer.subscription.trial_will_end.ends-with-trial.canonical.json"));
        // A trial without a payment method that Stripe cancels at its end when none is there: "nothing to do" would be wrong.
        cases.add(new Case("billing trial without a payment method that ends without one asks for one", BILLING,
                edit(sample("billing/customer.subscription.trial_will_end.json"), e -> {
                    data(e).putObject("trial_settings").putObject("end_behavior").put("missing_payment_method", "cancel");
                    data(e).putNull("default_payment_method");
                }),
                "billing/customer.subscription.trial_will_end.no-payment-method.canonical.json"));
        // Stripe's first invoice of a free trial is paid at 0: no receipt for nothing.
        cases.add(new Case("billing invoice paid at 0 is ignored", BILLING,
                edit(sample("billing/invoice.paid.json"), e -> data(e).put("amount_due", 0).put("amount_paid", 0).put("total", 0)),
                "billing/invoice.paid-zero.ignored.json"));
        // Paid from the credit balance: amount_paid 0 of a total of 49.00; no "we received $0.00".
        cases.add(new Case("billing invoice paid from the credit balance is ignored", BILLING,
                edit(sample("billing/invoice.paid.json"), e -> data(e).put("amount_paid", 0).put("starting_balance", -4900)),
                "billing/invoice.paid-from-credit.ignored.json"));
        // A renewal with nothing due: the credit balance covers it only when there is one (not a 100% discount).
        cases.add(new Case("billing renewal covered by the credit balance", BILLING,
                edit(sample("billing/invoice.upcoming.json"), e -> data(e).put("amount_due", 0).put("starting_balance", -125000)),
                "billing/invoice.upcoming.credit-covers.canonical.json"));
        cases.add(new Case("billing renewal with nothing due and no credit balance (a 100% discount)", BILLING,
                edit(sample("billing/invoice.upcoming.json"), e -> data(e).put("amount_due", 0).put("total", 0)),
                "billing/invoice.upcoming.nothing-due.canonical.json"));
        // A charge captured for 80.00 of 100.00 authorised and refunded whole: the customer paid 80.00 and got it all back.
        // Stripe's amount_refunded (100.00) counts the 20.00 never captured too.
        cases.add(new Case("billing refund of a partially captured charge is a full refund of what was paid", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).put("amount", 10000).put("amount_captured", 8000).put("amount_refunded", 10000).put("refunded", true);
                }),
                "billing/charge.refunded.partially-captured.canonical.json"));
        // The same charge refunded 30.00 of the 80.00 paid: amount_refunded is 50.00, 20.00 of it the hold never captured.
        cases.add(new Case("billing partial refund of a partially captured charge tells only what was paid back", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).put("amount", 10000).put("amount_captured", 8000).put("amount_refunded", 5000).put("refunded", false);
                    data(e).remove("refunds");
                }),
                "billing/charge.refunded.partially-captured-partial.canonical.json"));
        // Captured 80.00 of 100.00: Stripe sends charge.refunded for the 20.00 it released. Nothing paid came back.
        cases.add(new Case("billing release of a hold's uncaptured part is not a refund", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).put("amount", 10000).put("amount_captured", 8000).put("amount_refunded", 2000).put("refunded", false);
                    data(e).remove("refunds");
                }),
                "billing/charge.refunded.uncaptured-part.ignored.json"));
        // From API version 2025-03-31.basil a partial capture no longer counts the released part in amount_refunded: 30.00
        // refunded of the 80.00 captured is 30.00.
        cases.add(new Case("billing partial refund of a partially captured charge under the basil API version", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    ((ObjectNode) e).put("api_version", "2025-03-31.basil");
                    data(e).put("amount", 10000).put("amount_captured", 8000).put("amount_refunded", 3000).put("refunded", false);
                    data(e).remove("refunds");
                }),
                "billing/charge.refunded.partially-captured-basil.canonical.json"));
        // An authorisation cancelled or expired before capture: Stripe marks the charge refunded; no money was ever taken.
        cases.add(new Case("billing hold released without capture is not a refund", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).put("captured", false).put("amount_captured", 0).put("amount_refunded", 12999).put("refunded", true);
                }),
                "billing/charge.refunded.never-captured.ignored.json"));
        // A link from the event that is not a plain https address (an unsigned topic can carry anything) is left out.
        cases.add(new Case("billing payment failed with an invoice link that is not https leaves the link out", BILLING,
                edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("hosted_invoice_url", "javascript:alert(document.cookie)")),
                "billing/invoice.payment_failed.unsafe-link.canonical.json"));
        // A second partial refund: amount_refunded is the running total (8000 of 12999), told as such.
        cases.add(new Case("billing second partial refund is told as the total refunded so far", BILLING,
                edit(sample("billing/charge.refunded.json"), e -> {
                    data(e).put("amount_refunded", 8000).put("refunded", false);
                    data(e).remove("refunds");
                }),
                "billing/charge.refunded.partial.canonical.json"));
        // A reply longer than a message carries (12,000 characters, ending in an emoji split at the cut) is sent shortened, saying so.
        cases.add(new Case("support very long agent reply is sent shortened", SUPPORT,
                edit(sample("support/ticket.comment_added.json"),
                        e -> ((ObjectNode) e.at("/event/comment")).put("body", "a".repeat(3999) + "\uD83D\uDE00" + "b".repeat(8000))),
                "support/ticket.comment_added.long-reply.canonical.json"));
        // Fields real sources may leave out: the message still goes out (TemplatesLocalisedTest renders each of these too).
        cases.add(new Case("crm order lines without a quantity, or a name, count one and show the SKU", CRM,
                outbox(17, "order.confirmed", edit(sample("crm/order.confirmed.json"), p -> {
                    ((ObjectNode) p.at("/lines/0")).remove("qty");
                    ((ObjectNode) p.at("/lines/1")).remove("name");
                })),
                "crm/order.confirmed.lines-without-qty-or-name.canonical.json"));
        cases.add(new Case("crm appointment without a service (or a blank one) and with a length of 0 leaves both out", CRM,
                outbox(26, "appointment.scheduled", edit(sample("crm/appointment.scheduled.json"), p -> {
                    p.put("service", "  ");
                    p.put("durationMinutes", 0);
                })),
                "crm/appointment.scheduled.without-service-or-length.canonical.json"));
        cases.add(new Case("support reply on a ticket without a subject, by an agent without a name", SUPPORT,
                edit(sample("support/ticket.comment_added.json"), e -> {
                    ((ObjectNode) e.get("detail")).putNull("subject");
                    ((ObjectNode) e.at("/event/comment/author")).remove("name");
                }),
                "support/ticket.comment_added.without-subject-or-agent.canonical.json"));
        cases.add(new Case("support status change to a custom status reads as words", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "awaiting_customer")),
                "support/ticket.status_changed.custom-status.canonical.json"));
        // The status's meaning for the customer comes as flags (waitingForCustomer, inProgress, ...): the email's closing depends on it.
        cases.add(new Case("support status change to pending waits for the customer", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "PENDING")),
                "support/ticket.status_changed.pending.canonical.json"));
        cases.add(new Case("support status change from new to open is in progress", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "OPEN").put("previous", "NEW")),
                "support/ticket.status_changed.new-to-open.canonical.json"));
        cases.add(new Case("support status change without a subject or a previous status", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> {
                    ((ObjectNode) e.get("detail")).remove("subject");
                    ((ObjectNode) e.get("event")).remove("previous");
                }),
                "support/ticket.status_changed.without-subject-or-previous.canonical.json"));
        // On-hold is internal to Zendesk: its requester sees the ticket as open.
        cases.add(new Case("support ticket put on hold is ignored", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "HOLD")),
                "support/on-hold.ignored.json"));
        cases.add(new Case("support ticket solved then put on hold is told as open again, as its requester sees it", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "HOLD").put("previous", "SOLVED")),
                "support/ticket.status_changed.solved-to-hold.canonical.json"));
        cases.add(new Case("support ticket back from hold to open is ignored", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "OPEN").put("previous", "HOLD")),
                "support/hold-to-open.ignored.json"));
        cases.add(new Case("support ticket solved after being on hold changed from open, as its requester saw it", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("previous", "HOLD")),
                "support/ticket.status_changed.from-hold.canonical.json"));
        // Zendesk closes every solved ticket on its own days later: the customer was told when it was solved.
        cases.add(new Case("support solved ticket closed by Zendesk later is ignored", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "CLOSED").put("previous", "SOLVED")),
                "support/solved-to-closed.ignored.json"));
        cases.add(new Case("support ticket closed without being solved is told", SUPPORT,
                edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("event")).put("current", "CLOSED").put("previous", "PENDING")),
                "support/ticket.status_changed.pending-to-closed.canonical.json"));
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void mappingOutputEqualsGolden(Case c) throws IOException {
        String output = map(c.mapping(), c.input());
        JsonNode actual = JSON.readTree(output);
        Path goldenFile = GOLDEN.resolve(c.golden());
        if (Boolean.getBoolean("golden.update")) {
            Files.createDirectories(goldenFile.getParent());
            Files.writeString(goldenFile, JSON.writeValueAsString(actual) + "\n", StandardCharsets.UTF_8);
        }
        if (!Files.exists(goldenFile)) {
            fail("no golden file " + goldenFile + " for case '" + c.name() + "'; the mapping produced:\n"
                    + JSON.writeValueAsString(actual) + "\n(run with -Dgolden.update=true to write it, then review it)");
        }
        JsonNode expected = JSON.readTree(goldenFile.toFile());
        assertJsonEquals(expected, actual, c.name() + " (" + c.mapping() + " vs " + goldenFile + ")");
    }

    @Test
    void everyGoldenFileIsUsedByACase() throws IOException {
        Set<String> used = allCases().stream().map(Case::golden).collect(Collectors.toSet());
        try (Stream<Path> files = Files.walk(GOLDEN)) {
            List<String> stale = files.filter(Files::isRegularFile)
                    .map(p -> GOLDEN.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> !used.contains(p))
                    .sorted()
                    .toList();
            assertEquals(List.of(), stale, "golden files that no test case compares against");
        }
    }

    // ---------------------------------------------------------------- idempotency keys

    @Test
    void redeliveredBillingEventKeepsItsKeyButANewAttemptGetsANewOne() throws IOException {
        String original = sample("billing/invoice.payment_failed.json");
        String redelivered = edit(original, e -> e.put("id", "evt_redelivered"));
        String nextAttempt = edit(original, e -> {
            e.put("id", "evt_attempt3");
            data(e).put("attempt_count", 3);
        });
        String key = key(map(BILLING, original));
        assertEquals("billing:invoice.payment_failed:in_1QxR1zLkdIwHu7ixQ9w8E7r6:attempt-2", key);
        assertEquals(key, key(map(BILLING, redelivered)));
        assertNotEquals(key, key(map(BILLING, nextAttempt)));
    }

    // ---------------------------------------------------------------- rejected inputs

    @Test
    void billingEventWithoutCustomerOrEmailIsRejected() throws IOException {
        String input = edit(sample("billing/invoice.payment_failed.json"), e -> {
            data(e).putNull("customer");
            data(e).putNull("customer_email");
        });
        assertRejected(BILLING, input,
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no customer: data.object.customer is null");
    }

    @Test
    void upcomingInvoicesOfOneRenewalShareTheirKeyWhateverTheEventId() throws IOException {
        String original = sample("billing/invoice.upcoming.json");
        String repeated = edit(original, e -> e.put("id", "evt_repeat"));
        String nextYear = edit(original, e -> data(e).put("period_end", 1795687200));
        String key = key(map(BILLING, original));
        assertEquals("billing:invoice.upcoming:sub_1Pr2TeamLkdIwHu7ix:1764151200", key);
        assertEquals(key, key(map(BILLING, repeated)));
        assertNotEquals(key, key(map(BILLING, nextYear)));
    }

    @Test
    void upcomingInvoiceWithoutSubscriptionIsRejectedNamingTheField() throws IOException {
        String input = edit(sample("billing/invoice.upcoming.json"), e -> data(e).putNull("subscription"));
        assertRejected(BILLING, input, "billing event evt_1QyA7bLkdIwHu7ixR3n2M1k0 has no subscription: data.object.subscription"
                + " (or, in newer API versions, data.object.parent.subscription_details.subscription) is empty");
    }

    @Test
    void billingEventWithoutCurrencyIsRejected() throws IOException {
        String input = edit(sample("billing/invoice.paid.json"), e -> data(e).remove("currency"));
        assertRejected(BILLING, input,
                "billing event evt_1QxS9kLkdIwHu7ixZ5y4X3w2 has no currency: data.object.currency is null");
    }

    @Test
    void crmOrderWithoutCustomerIsRejected() throws IOException {
        String payload = edit(sample("crm/order.confirmed.json"), p -> {
            ((ObjectNode) p.get("account")).remove("externalId");
            ((ObjectNode) p.get("account")).remove("crmId");
        });
        assertRejected(CRM, outbox(17, "order.confirmed", payload),
                "crm event crm-outbox-17 has no customer: payload.account.externalId is null");
    }

    @Test
    void crmRowWithUnreadablePayloadIsRejectedWithTheParseError() {
        String row = """
                {"outboxId": 21, "eventType": "order.confirmed", "payload": "{\\"orderNumber\\": \\"ORD-",
                 "payloadError": "the payload column is not valid JSON (Unexpected end-of-input)", "createdAt": "%s"}
                """.formatted(CRM_CREATED_AT);
        assertRejected(CRM, row,
                "crm event crm-outbox-21 has an unreadable payload: the payload column is not valid JSON (Unexpected end-of-input)");
    }

    @Test
    void aRefundAboveItsChargeIsRejectedAndNothingRefundedOrNothingDueIsIgnored() throws IOException {
        assertRejected(BILLING, edit(sample("billing/charge.refunded.json"), e -> data(e).put("amount", 1000).put("amount_refunded", 1500)),
                "billing event evt_3QxU2bLkdIwHu7ix1a2S3d4F refunds 15.00 GBP, more than the charge of 10.00 GBP");
        assertThat(map(BILLING, edit(sample("billing/charge.refunded.json"), e -> data(e).put("amount_refunded", 0).put("refunded", false))))
                .contains("\"ignored\"", "reports nothing refunded (amount_refunded 0)");
        assertThat(map(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_due", 0))))
                .contains("\"ignored\"", "failed with nothing due (amount_due 0)");
        assertThat(map(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_paid", 4900).put("amount_remaining", 0))))
                .contains("\"ignored\"", "failed with nothing due (amount_remaining 0)");
    }

    /**
     * A charge whose amount_refunded is below zero (a billing system's reversal written as a refund, or a broken export) was
     * ignored with a reason that was not true: "only the part of the hold that was never captured (0.00 GBP) was released;
     * nothing the customer paid was refunded". It is refused, naming the field and what to do, and nothing is told to the
     * customer; a refund is never negative.
     */
    @Test
    void aNegativeAmountRefundedIsRefusedNamingTheField() throws IOException {
        assertRejected(BILLING, edit(sample("billing/charge.refunded.json"), e -> data(e).put("amount_refunded", -500)),
                "billing event evt_3QxU2bLkdIwHu7ix1a2S3d4F has an unusable amount_refunded: data.object.amount_refunded is the number -500,"
                        + " below zero (a refund is counted up from 0): check the charge in the billing system, then re-drive the event");
    }

    /**
     * A CRM that writes its times with the offset without a colon ("2026-11-26T10:00:00-0500": PHP's DATE_ISO8601, Java's
     * "Z" pattern, PostgreSQL's to_char) had every booking, move and order refused: "the appointment start
     * '2026-11-26T10:00:00-0500' is not a date and time (ISO-8601, ...)", which it is, so the customer had no confirmation
     * and no reminders. Such a time is read with its offset. A time sent as a number (Unix seconds or milliseconds) is
     * refused saying what it is and what to send, not "has no start time ... expected text".
     */
    @Test
    void aCrmTimeWithItsOffsetWrittenWithoutAColonIsReadAndANumberIsRefusedInWords() throws IOException {
        String row = outbox(23, "appointment.rescheduled", sample("crm/appointment.rescheduled.json")
                .replace("2026-11-26T10:00:00-05:00", "2026-11-26T10:00:00-0500").replace("2026-11-24T14:30:00-05:00", "2026-11-24T14:30:00.250-0500"))
                .replace(CRM_CREATED_AT, "2026-11-21T09:58:13+0000");
        JsonNode moved = JSON.readTree(map(CRM, row));
        assertEquals("2026-11-26T10:00:00-05:00", moved.at("/data/startsAt").asText());
        assertEquals("2026-11-24T14:30:00.250-05:00", moved.at("/data/previousStartsAt").asText());
        assertEquals("2026-11-21T09:58:13+00:00", moved.at("/occurredAt").asText());
        JsonNode order = JSON.readTree(map(CRM, outbox(17, "order.confirmed", edit(sample("crm/order.confirmed.json"),
                p -> p.put("placedAt", "2026-11-21T09:58:00+0100")))));
        assertEquals("2026-11-21T09:58:00+01:00", order.at("/data/placedAt").asText());
        assertRejected(CRM, outbox(23, "appointment.rescheduled", edit(sample("crm/appointment.rescheduled.json"),
                        p -> p.put("startsAt", 1764169200000L))),
                "crm event crm-outbox-23 has an unusable start time: payload.startsAt is the number 1764169200000, not a date and time"
                        + " as text with its offset (ISO-8601, such as 2026-11-26T10:00:00-05:00): have the CRM send it so, then insert the row again");
    }

    /**
     * An amount sent as text ("129.90", a decimal some systems write in quotes to keep its precision) was refused naming the field
     * but not what to do: the reason now says to send it as a number, without quotes, and to re-drive the event.
     */
    @Test
    void anAmountSentAsTextIsRefusedSayingToSendItAsANumber() {
        assertRejected(CRM, outbox(22, "order.confirmed", edit(sample("crm/order.confirmed.json"), p -> p.put("totalAmount", "129.90"))),
                "payload.totalAmount is the text '129.90', expected a number, written without quotes (129.90, not \"129.90\"):"
                        + " correct the event at its source, then re-drive it");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_due", "4900")),
                "data.object.amount_due is the text '4900', expected a number, written without quotes (4900, not \"4900\"):"
                        + " correct the event at its source, then re-drive it");
    }

    /** An agent's reply starts on one line for an SMS or push, cut after a word: the message may be the only one the customer gets. */
    @Test
    void anAgentsReplyGivesAOneLineExcerptCutAfterAWord() throws IOException {
        String reply = "Hi Jenny,\r\n\r\nfirmware 4.2.1 fixes E-42.\tCould you install it from the printer's menu (Settings > Update) and"
                + " tell us whether the error is gone? Thanks, Sam";
        String mapped = map(SUPPORT, edit(sample("support/ticket.comment_added.json"),
                e -> ((ObjectNode) e.at("/event/comment")).put("body", reply)));
        assertThat(mapped).contains("\"commentExcerpt\":\"Hi Jenny, firmware 4.2.1 fixes E-42. Could you install it from the printer's menu"
                + " (Settings > Update) and tell us…\"");
    }

    /** A renewal after a plan change names the new plan, not the proration crediting the old one. */
    @Test
    void aRenewalIsNamedByItsPlanNotAProration() throws IOException {
        String upgraded = map(BILLING, edit(sample("billing/invoice.upcoming.json"), e -> {
            com.fasterxml.jackson.databind.node.ArrayNode lines = (com.fasterxml.jackson.databind.node.ArrayNode) data(e).at("/lines/data");
            ObjectNode credit = lines.get(0).deepCopy();
            credit.put("proration", true).put("amount", -2000);
            ((ObjectNode) credit.get("price")).put("nickname", "Basic plan");
            lines.insert(0, credit);
        }));
        assertThat(upgraded).contains("\"planName\":\"Team plan\"").doesNotContain("Basic plan");
    }

    /** A partly paid invoice whose payment failed: the customer is told what is still owed (amount_remaining), not the whole invoice. */
    @Test
    void aPartlyPaidInvoiceTellsWhatIsStillOwed() throws IOException {
        String partly = map(BILLING, edit(sample("billing/invoice.payment_failed.json"),
                e -> data(e).put("amount_due", 4900).put("amount_paid", 2000).put("amount_remaining", 2900)));
        assertThat(partly).contains("\"amountDue\":\"29.00 USD\"").doesNotContain("49.00");
        String unpaid = map(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_remaining", 1)));
        assertThat(unpaid).as("nothing paid: amount_due").contains("\"amountDue\":\"49.00 USD\"");
    }

    /** An amount no customer could be told (beyond what a number holds exactly) is quarantined saying so, not as "a field". */
    @Test
    void anAmountHeraldCannotWriteIsQuarantinedNamingIt() throws IOException {
        String input = outbox(34, "order.confirmed", sample("crm/order.confirmed.json").replace("\"totalAmount\": 129.90", "\"totalAmount\": 99999999999999"));
        RuntimeException e = assertThrows(RuntimeException.class, () -> map(CRM, input));
        assertThat(io.herald.ingest.MappingErrors.readable(e, "mapping", "crm", "crm-outbox-34", null))
                .startsWith("mapping failed: crm event crm-outbox-34 has an amount Herald cannot write for a customer (amount the number ")
                .endsWith(" is not an amount). Correct the event at its source, then re-drive it");
    }

    @Test
    void supportEventWithoutCustomerIsRejected() throws IOException {
        String input = edit(sample("support/ticket.status_changed.json"), e -> {
            ((ObjectNode) e.get("detail")).remove("external_id");
            ((ObjectNode) e.get("detail")).putNull("requester_id");
        });
        assertRejected(SUPPORT, input,
                "support event 01JD4S7K9Q2W3E4R5T6Y7U8I9O has no customer: detail.requester_id is null");
        assertRejected(SUPPORT, edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("detail")).putArray("requester_id")),
                "support event 01JD4S7K9Q2W3E4R5T6Y7U8I9O has an unusable requester: detail.requester_id is a list, expected an id (text or a whole number)");
    }

    @Test
    void aPathThroughSomethingThatIsNotAnObjectSaysWhereItBroke() throws IOException {
        assertRejected(SUPPORT, edit(sample("support/ticket.status_changed.json"), e -> e.putArray("detail").add(1).add(2)),
                "support event 01JD4S7K9Q2W3E4R5T6Y7U8I9O has no ticket: detail is a list, expected an object");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> e.put("data", "invoice")),
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no object: data is the text 'invoice', expected an object");
    }

    @Test
    void anAmountInMinorUnitsThatIsNotWholeIsRefusedNamingTheField() throws IOException {
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_due", 49.5)),
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no usable amount_due: data.object.amount_due is the number 49.5,"
                        + " not a whole number of the currency's smallest unit (cents: 4900 for 49.00)");
        assertRejected(BILLING, edit(sample("billing/charge.refunded.json"), e -> data(e).put("amount", 12999.5)),
                "billing event evt_3QxU2bLkdIwHu7ix1a2S3d4F has an unusable amount: data.object.amount is the number 12999.5,"
                        + " not a whole number of the currency's smallest unit (cents: 4900 for 49.00)");
    }

    @Test
    void aCrmPayloadThatIsTextButNotAnObjectSaysWhatItIs() {
        assertRejected(CRM, outboxWithTextPayload(23, "order.confirmed", "just text"),
                "crm event crm-outbox-23 has a payload that is the text 'just text', expected an object");
        assertRejected(CRM, outboxWithTextPayload(24, "order.confirmed", "[1, 2]"),
                "crm event crm-outbox-24 has a payload that is the text '[1, 2]', expected an object");
    }

    @Test
    void aWronglyTypedFieldIsNamedWithWhatWasExpected() {
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("customer", 12345)),
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no usable customer: data.object.customer is the number 12345, expected text");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_due", "49.00")),
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no usable amount_due: data.object.amount_due is the text '49.00', expected a number");
        assertRejected(BILLING, edit(sample("billing/charge.refunded.json"), e -> data(e).put("amount", "12999")),
                "billing event evt_3QxU2bLkdIwHu7ix1a2S3d4F has an unusable amount: data.object.amount is the text '12999', expected a number");
        assertRejected(BILLING, edit(sample("billing/invoice.paid.json"), e -> e.put("type", 7)),
                "billing event evt_1QxS9kLkdIwHu7ixZ5y4X3w2 has no type: type is the number 7, expected text");
        assertRejected(SUPPORT, edit(sample("support/ticket.status_changed.json"), e -> ((ObjectNode) e.get("detail")).put("external_id", 99)),
                "support event 01JD4S7K9Q2W3E4R5T6Y7U8I9O has an unusable external id: detail.external_id is the number 99, expected text");
    }

    /**
     * A field a message prints that is not text (a localised catalogue's {"en": "Printer"}, an owner object) is refused naming
     * it: taken as it was, the order mail read "1 x {en=Printer}" and the SMS "{first=Ann} replied". A number is written as text.
     */
    @Test
    void aPrintedFieldThatIsNotTextIsRefusedNamingItAndANumberIsWrittenAsText() throws IOException {
        String order = edit(sample("crm/order.confirmed.json"), p -> ((ObjectNode) p.get("lines").get(0)).putObject("name").put("en", "Printer"));
        assertRejected(CRM, outbox(17, "order.confirmed", order),
                "crm event crm-outbox-17 has an order line with an unusable name: line.name is an object, expected text");
        // What a notice only adds about an appointment is left out instead: a move or a cancellation must reach its reminders.
        String move = edit(sample("crm/appointment.rescheduled.json"), p -> ((ObjectNode) p.get("owner")).putObject("name").put("first", "Sam"));
        String moved = map(CRM, outbox(18, "appointment.rescheduled", move));
        assertTrue(moved.contains("APT-55812") && !moved.contains("Sam") && !moved.contains("first"), "owner name left out: " + moved);
        String reply = edit(sample("support/ticket.comment_added.json"),
                e -> ((ObjectNode) e.get("event").get("comment").get("author")).putObject("name").put("first", "Ann"));
        assertRejected(SUPPORT, reply, "has an unusable agent name: author.name is an object, expected text");
        String numbered = edit(sample("crm/order.confirmed.json"), p -> ((ObjectNode) p.get("lines").get(0)).put("name", 1984));
        assertTrue(map(CRM, outbox(19, "order.confirmed", numbered)).replace(" ", "").contains("\"name\":\"1984\""), "a number is written as text");
    }

    /**
     * An appointment's link becomes the "Join the call" button of the customer's email: only an https address is offered; a
     * javascript: or data: address, a plain http one, one with spaces or quotes, or one with a user part before its host (it
     * reads as one site and goes to another) is left out (the notice reads without it); an @ in its path is fine.
     */
    @Test
    void onlyAnHttpsLinkIsOfferedAsTheAppointmentsButton() throws IOException {
        for (String refused : List.of("javascript:alert(document.domain)", "data:text/html;base64,PHNjcmlwdD4=", "http://meet.example/abc",
                "https://meet.example/a b", "https://meet.example/\"onmouseover=x", "JAVASCRIPT:x", "https://",
                "https://meet.acme.com@evil.example/join", "https://user:pass@evil.example", "https:///path", "https://meet.example/a\tb",
                "https://meet.example/a\nb", "https://meet.example/a\u007fb", "https://meet.example/caf\u00e9", "https://meet.example/<b>",
                "https://meet.example/a>b", "https://meet.example\\@evil.example/", "https://meet.example/?x=" + "y".repeat(2_000))) {
            String booking = edit(sample("crm/appointment.scheduled.json"), p -> ((ObjectNode) p.get("location")).put("url", refused));
            JsonNode data = JSON.readTree(map(CRM, outbox(18, "appointment.scheduled", booking))).get("data");
            assertTrue(!data.has("locationUrl") || data.get("locationUrl").isNull(), refused + " was offered: " + data);
        }
        for (String offered : List.of("HTTPS://meet.example/abc-def?x=1", "https://meet.example/u/jo@example.com?invite=a@b",
                "https://meet.example?u=jo@example.com", "https://meet.example#at@b", "https://meet.example:8443/j/1?pwd=a%20b")) {
            String booking = edit(sample("crm/appointment.scheduled.json"), p -> ((ObjectNode) p.get("location")).put("url", offered));
            assertEquals(offered, JSON.readTree(map(CRM, outbox(18, "appointment.scheduled", booking))).get("data").get("locationUrl").asText());
        }
    }

    /** An order line below zero is a discount: told as the amount taken off ("10.00 EUR"), never as a negative price. */
    @Test
    void anOrderLineBelowZeroIsADiscountNotANegativePrice() throws IOException {
        String order = edit(sample("crm/order.confirmed.json"), p -> ((com.fasterxml.jackson.databind.node.ArrayNode) p.get("lines"))
                .addObject().put("name", "Loyalty discount").put("unitPrice", -10));
        JsonNode line = JSON.readTree(map(CRM, outbox(20, "order.confirmed", order))).findValue("lines").get(2);
        assertEquals("Loyalty discount", line.get("name").asText());
        assertEquals("10.00 EUR", line.get("discount").asText());
        assertTrue(line.get("price") == null && line.get("lineTotal") == null, "no negative price: " + line);
    }

    /** A negative quantity is no order line: refused naming it (it would print as a negative discount). */
    @Test
    void anOrderLineWithANegativeQuantityIsRefused() throws IOException {
        String order = edit(sample("crm/order.confirmed.json"), p -> ((ObjectNode) p.get("lines").get(0)).put("qty", -2));
        assertRejected(CRM, outbox(21, "order.confirmed", order), "crm event crm-outbox-21 has an order line with a negative quantity (-2)");
    }

    /** DataSonnet reads a whole number above 2^53 as the text "__LARGE_INT__<digits>": an id keeps its digits, text and amounts refuse it in words. */
    @Test
    void aWholeNumberBeyondTwoToThe53IsAnIdOrANumberNeverTheEnginesMarker() throws IOException {
        String order = map(CRM, outbox(25, "order.confirmed", edit(sample("crm/order.confirmed.json"),
                p -> p.put("orderNumber", new java.math.BigInteger("12345678901234567890")))));
        assertTrue(order.contains("\"12345678901234567890\""), order);
        assertTrue(!order.contains("__LARGE_INT__"), order);
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"),
                        e -> data(e).put("amount_due", new java.math.BigInteger("18446744073709551616"))),
                "has no usable amount_due: data.object.amount_due is the number 18446744073709551616, larger than any real amount");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"),
                        e -> data(e).put("customer", new java.math.BigInteger("9007199254740993"))),
                "has no usable customer: data.object.customer is the number 9007199254740993, expected text");
    }

    @Test
    void numbersAndTimesOutOfAnyRangeAreNamedNotLeftToTheEngine() {
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("amount_due", 1e300)),
                "has no usable amount_due: data.object.amount_due is the number");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> e.put("created", 1e300)),
                "billing event evt_1QxR2mLkdIwHu7ixA1b2C3d4 has no usable time: created is the number");
        assertRejected(BILLING, edit(sample("billing/invoice.payment_failed.json"), e -> data(e).put("next_payment_attempt", "tomorrow")),
                "has no usable next payment attempt: data.object.next_payment_attempt is the text 'tomorrow', expected a time in Unix seconds");
        assertRejected(CRM, outbox(22, "order.confirmed", edit(sample("crm/order.confirmed.json"), p -> p.put("totalAmount", "129.90"))),
                "crm event crm-outbox-22 has no usable total: payload.totalAmount is the text '129.90', expected a number");
        // A price sent, but as text: the reason says it is unusable, not that the line has none.
        assertRejected(CRM, outbox(23, "order.confirmed", edit(sample("crm/order.confirmed.json"),
                        p -> ((ObjectNode) p.get("lines").get(0)).put("unitPrice", "119.90"))),
                "has an order line without a usable price: line.unitPrice is the text '119.90', expected a number");
    }

    // ---------------------------------------------------------------- herald.libsonnet helpers

    @Test
    void moneyFormatsMinorUnitsWithTheCurrencyExponent() throws IOException {
        String script = """
                /** DataSonnet
                version=2.0
                output application/json
                input body application/json
                */
                local herald = import 'herald.libsonnet';
                [herald.money(c[0], c[1]) for c in body.minor] + [herald.moneyMajor(c[0], c[1]) for c in body.major]
                """;
        String input = """
                {"minor": [[4900, "usd"], [12999, "gbp"], [500, "jpy"], [-250, "eur"], [5, "usd"], [0, "usd"], [1234, "kwd"],
                           [50000, "isk"], [12345, "isk"], [5000000000, "idr"]],
                 "major": [[129.90, "EUR"], [119.9, "EUR"], [10, "EUR"], [1200, "jpy"], [12.345, "KWD"],
                           [50000000, "IDR"], [30000000, "idr"], [-12.5, "EUR"], [85000000000, "VND"], [1500, "ISK"],
                           [12.345, "LYD"], [1250.5, "iqd"]]}
                """;
        JsonNode actual = JSON.readTree(evaluate(script, input));
        JsonNode expected = JSON.readTree("""
                ["49.00 USD", "129.99 GBP", "500 JPY", "-2.50 EUR", "0.05 USD", "0.00 USD", "1.234 KWD",
                 "500 ISK", "123.45 ISK", "50000000.00 IDR",
                 "129.90 EUR", "119.90 EUR", "10.00 EUR", "1200 JPY", "12.345 KWD",
                 "50000000.00 IDR", "30000000.00 IDR", "-12.50 EUR", "85000000000 VND", "1500 ISK",
                 "12.345 LYD", "1250.500 IQD"]
                """);
        assertJsonEquals(expected, actual, "herald.money / herald.moneyMajor");
    }

    // ---------------------------------------------------------------- running DataSonnet

    /** Runs a mapping file from datasonnet/ the way the routes do: resource:file:, JSON in, JSON text out. */
    static String map(String mapping, String input) {
        return evaluate("resource:file:datasonnet/" + mapping, input);
    }

    static String evaluate(String expressionText, String input) {
        return DataSonnetRun.evaluate(camel, expressionText, input);
    }

    static void assertRejected(String mapping, String input, String expectedReason) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> {
            String output = map(mapping, input);
            fail(mapping + " should have rejected the input but produced: " + output);
        });
        String messages = messages(e);
        assertTrue(messages.contains(expectedReason),
                mapping + " rejected the input, but without the reason\n  expected to contain: " + expectedReason
                        + "\n  actual messages: " + messages);
    }

    static String messages(Throwable e) {
        Set<String> messages = new LinkedHashSet<>();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getMessage() != null) {
                messages.add(t.getMessage());
            }
        }
        return String.join(" | ", messages);
    }

    // ---------------------------------------------------------------- inputs

    static String sample(String path) {
        try {
            return Files.readString(SAMPLES.resolve(path), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sample with one change applied, so a test shows exactly what differs from the real shape. */
    static String edit(String json, Consumer<ObjectNode> change) {
        try {
            ObjectNode node = (ObjectNode) JSON.readTree(json);
            change.accept(node);
            return JSON.writeValueAsString(node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode data(ObjectNode event) {
        return (ObjectNode) event.at("/data/object");
    }

    /** A CRM outbox row as the route hands it to crm-outbox.ds. */
    static String outbox(long id, String eventType, String payloadJson) {
        try {
            ObjectNode row = JSON.createObjectNode();
            row.put("outboxId", id);
            row.put("eventType", eventType);
            row.set("payload", JSON.readTree(payloadJson));
            row.put("createdAt", CRM_CREATED_AT);
            return JSON.writeValueAsString(row);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same row with the TEXT column passed through unparsed. */
    static String outboxWithTextPayload(long id, String eventType, String payloadJson) {
        ObjectNode row = JSON.createObjectNode();
        row.put("outboxId", id);
        row.put("eventType", eventType);
        row.put("payload", payloadJson);
        row.put("createdAt", CRM_CREATED_AT);
        try {
            return JSON.writeValueAsString(row);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String key(String canonical) throws IOException {
        return JSON.readTree(canonical).get("idempotencyKey").asText();
    }

    // ---------------------------------------------------------------- comparing JSON

    /** Numbers compare by value (2 == 2.0); everything else must be identical, including nulls and key sets. */
    private static final Comparator<JsonNode> NUMBERS_BY_VALUE = (a, b) -> {
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    static void assertJsonEquals(JsonNode expected, JsonNode actual, String what) throws IOException {
        if (expected.equals(NUMBERS_BY_VALUE, actual)) {
            return;
        }
        List<String> differences = new ArrayList<>();
        diff("", expected, actual, differences);
        fail(what + " differs from golden:\n  " + String.join("\n  ", differences)
                + "\n--- expected\n" + JSON.writeValueAsString(expected)
                + "\n--- actual\n" + JSON.writeValueAsString(actual));
    }

    static void diff(String path, JsonNode expected, JsonNode actual, List<String> out) {
        String at = path.isEmpty() ? "$" : path;
        if (expected == null || expected.isMissingNode()) {
            out.add(at + ": unexpected " + actual);
        } else if (actual == null || actual.isMissingNode()) {
            out.add(at + ": missing, expected " + expected);
        } else if (expected.isObject() && actual.isObject()) {
            Set<String> names = new LinkedHashSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            actual.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                diff(path + "." + name, expected.get(name), actual.get(name), out);
            }
        } else if (expected.isArray() && actual.isArray()) {
            ArrayNode e = (ArrayNode) expected;
            ArrayNode a = (ArrayNode) actual;
            for (int i = 0; i < Math.max(e.size(), a.size()); i++) {
                diff(path + "[" + i + "]", i < e.size() ? e.get(i) : null, i < a.size() ? a.get(i) : null, out);
            }
        } else if (NUMBERS_BY_VALUE.compare(expected, actual) != 0) {
            out.add(at + ": expected " + expected + " but was " + actual);
        }
    }
}
