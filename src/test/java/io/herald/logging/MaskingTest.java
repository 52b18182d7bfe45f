package io.herald.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class MaskingTest {

    @Test
    void masksEmailsAndPhoneNumbersInFreeText() {
        assertThat(Masking.mask("sent to jenny.rosen@example.org and +44 7700 900123"))
                .isEqualTo("sent to j***@example.org and +447…0123");
        assertThat(Masking.mask("SMS to +15555550100 failed")).isEqualTo("SMS to +155…0100 failed");
        assertThat(Masking.mask("call (555) 555-0100")).isEqualTo("call 55…0100");
    }

    /** A provider echoing a form body (To=%2B44…&Email=jenny.rosen%40example.org): the URL-encoded address too. */
    /**
     * A phone number is not an amount because of what is written next to it: a dial string's pause before an extension
     * (0207 946 0958,123), the next number of a list, or a word in capitals that happens to be a currency code (ALL, TOP).
     */
    @Test
    void aPhoneNumberNextToACommaOrACurrencyCodeIsStillMasked() {
        assertThat(Masking.mask("dial 020 7946 0958,123 or 0049 30 1234567,00 for the desk"))
                .isEqualTo("dial 020…0958,123 or 004…4567,00 for the desk");
        assertThat(Masking.mask("numbers: 020 7946 0958,020 7946 0959"))
                .isEqualTo("numbers: 020…0958,020…0959");
        assertThat(Masking.mask("reachable on 07700 900123 ALL day, CUP 07700 900124, 0044 20 7946 0958, EUR"))
                .isEqualTo("reachable on 077…0123 ALL day, CUP 077…0124, 004…0958, EUR");
        // A Spanish mobile is written in groups of three, like an amount: the next number of a list after its comma is no decimal part.
        assertThat(Masking.mask("móviles 612 345 678,612 345 679 o 612.345.678,699.111.222"))
                .isEqualTo("móviles 6…5678,6…5679 o 6…5678,6…1222");
        // Amounts as MessageContext writes them stay readable.
        assertThat(Masking.mask("due 250.000.000,00\u00a0IDR, ₫ 250.000.000 or 1.250.000.000 VND"))
                .isEqualTo("due 250.000.000,00\u00a0IDR, ₫ 250.000.000 or 1.250.000.000 VND");
    }

    @Test
    void masksAUrlEncodedEmailLikeAPlainOne() {
        assertThat(Masking.mask("provider answered HTTP 400: To=%2B447700900123 a=jenny.rosen%40example.org"))
                .isEqualTo("provider answered HTTP 400: To=+447…0123 a=j***@example.org");
    }

    @Test
    void masksPhoneNumbersHoweverTheyAreWritten() {
        // A CRM mobilePhone sent as a JSON number, in the quarantine reason that is logged, posted and shown.
        assertThat(Masking.mask("payload.mobilePhone is the number 447700900123, expected text"))
                .isEqualTo("payload.mobilePhone is the number 447…0123, expected text");
        assertThat(Masking.mask("to 0044 7700 900123")).isEqualTo("to 004…0123");
        assertThat(Masking.mask("to 07700 900123.")).isEqualTo("to 077…0123.");
        assertThat(Masking.mask("to +44 7700 900123")).isEqualTo("to +447…0123");
        assertThat(Masking.mask("Body=Hi&To=%2B447700900123&From=x")).isEqualTo("Body=Hi&To=+447…0123&From=x");
        assertThat(Masking.mask("{\"text\":\"call me\\n+447700900123\"}")).isEqualTo("{\"text\":\"call me\\n+447…0123\"}");
        assertThat(Masking.mask("office 0201234567")).isEqualTo("office 02…4567");
        assertThat(Masking.mask("+44 (0)20 7946 0958 or 555.555.0100 or 15555550100"))
                .isEqualTo("+440…0958 or 55…0100 or 155…0100");
        assertThat(Masking.mask("sms 612345678")).isEqualTo("sms 6…5678");
        // Four digits or more are always hidden, however short the number.
        assertThat(Masking.phone("447700900")).isEqualTo("4…0900");
    }

    @Test
    void masksWholeAddressesWhateverTheirCharacters() {
        assertThat(Masking.mask("to jenny@bücher.de, mary.o'connor@example.ie, first/last@example.com and jöhn@example.com"))
                .isEqualTo("to j***@bücher.de, m***@example.ie, f***@example.com and j***@example.com");
        assertThat(Masking.mask("to jenny@xn--bcher-kva.de")).isEqualTo("to j***@xn--bcher-kva.de");
        assertThat(Masking.mask("email=jenny@example.org mailto:jenny@example.org 'jenny@example.org'"))
                .isEqualTo("email=j***@example.org mailto:j***@example.org '***@example.org'");
        assertThat(Masking.email("mary.o'connor@example.ie")).isEqualTo("m***@example.ie");
    }

    @Test
    void leavesIdsDatesAndFileNamesAlone() {
        String text = "ticket 35436 at 2026-11-21T10:12:44Z offset 1763719200 file /tmp/kafka-12241655760221037745/x";
        assertThat(Masking.mask(text)).isEqualTo(text);
    }

    @Test
    void leavesWhatOperatorsReadAlone() {
        String text = "event evt_1QxR2mLkdIwHu7ixA1b2C3d4 at 2026-11-24T14:30:00Z (2026-11-24 14:30, 24.11.2026 14:30), id"
                + " 123e4567-e89b-12d3-a456-426614174000, ticket 12345678, amount 12999 (129.99), created 1764000000,"
                + " key digest-12-1764000000000, created_ms 1764000000000, from 203.0.113.195, sub_1Pr2TeamLkdIwHu7ix:1764151200,"
                + " Kafka's coordinator (id: 2147483647 rack: null)"
                + " and sessionId=987655611, bounce 5.1.1 550 5.1.1 The email account does not exist, deferred 421 4.7.0 try again,"
                + " Camel 4.17.0 / 3.5.16";
        assertThat(Masking.mask(text)).isEqualTo(text);
    }

    /**
     * Zendesk user ids (13 digits) and ticket ids are how operators find the user and the ticket: labelled as ids, by a key
     * ending in id or the word before them, they stay readable; phone numbers in the same line are still masked.
     */
    @Test
    void zendeskUserAndTicketIdsStayReadableNextToMaskedPhoneNumbers() {
        assertThat(Masking.mask("Zendesk user 9000000123456 is not linked to any customer (ticket 21823417); requester calls"
                + " +44 7700 900123 or 07700900123"))
                .isEqualTo("Zendesk user 9000000123456 is not linked to any customer (ticket 21823417); requester calls"
                        + " +447…0123 or 077…0123");
        assertThat(Masking.mask("{\"requester_id\":9000000123456,\"assignee_id\": \"9000000000001\",\"id\":\"902183417\","
                + "\"phone\":\"+15555550100\",\"note\":\"call 447700900123\"}"))
                .isEqualTo("{\"requester_id\":9000000123456,\"assignee_id\": \"9000000000001\",\"id\":\"902183417\","
                        + "\"phone\":\"+155…0100\",\"note\":\"call 447…0123\"}");
        // Pretty-printed (the console's payload view), escaped inside a logged JSON string, and key=value.
        assertThat(Masking.mask("\"requesterId\" : 9000000123456, {\\\"requester_id\\\":\\\"9000000123456\\\"}, user_id=9000000123456,"
                + " request #902183417, ticket id: 902183417"))
                .isEqualTo("\"requesterId\" : 9000000123456, {\\\"requester_id\\\":\\\"9000000123456\\\"}, user_id=9000000123456,"
                        + " request #902183417, ticket id: 902183417");
        // A label does not unmask a number written as a phone number: with +, or in groups.
        assertThat(Masking.mask("user +447700900123, requester_id: +447700900123, ticket 07700 900123"))
                .isEqualTo("user +447…0123, requester_id: +447…0123, ticket 077…0123");
        // An amount is read by its currency or decimal comma (MessageContext writes "250.000.000,00 IDR" for en-DE); a list of
        // numbers separated by commas, or one after a word in capitals, is still masked.
        assertThat(Masking.mask("due 250.000.000,00\u00a0IDR or ₫ 250.000.000, call 07700900123,07700900124 or SMS 07700 900123"))
                .isEqualTo("due 250.000.000,00\u00a0IDR or ₫ 250.000.000, call 077…0123,077…0124 or SMS 077…0123");
        // Only a whole word labels: "paid" is not "id", "users" is not "user".
        assertThat(Masking.mask("paid 447700900123, users 447700900123")).isEqualTo("paid 447…0123, users 447…0123");
    }

    /** An erased customer's address leaves a reason, whether Herald kept it masked or a provider wrote it out. */
    @Test
    void removesAddressesMaskedOrWrittenOut() {
        assertThat(Masking.withoutAddresses("the email bounced (bounce 550 5.1.1 <o***@example.com>: no such user); update the"
                + " customer's email address", "(erased)")).isEqualTo("the email bounced (bounce 550 5.1.1 <(erased)>: no such user);"
                + " update the customer's email address");
        assertThat(Masking.withoutAddresses("SMS to +447…0777 undelivered, also 55…0100, short …77, and jenny.rosen@example.org or"
                + " +44 7700 900123", "(erased)")).isEqualTo("SMS to (erased) undelivered, also (erased), short (erased), and (erased)"
                + " or (erased)");
        String words = "bounce 5.1.1 550 5.1.1 at 2026-11-24 14:30, ticket 12345678, order in_test…, evt_1Qx…1234, 30 seconds…";
        assertThat(Masking.withoutAddresses(words, "(erased)")).isEqualTo(words);
        assertThat(Masking.withoutAddresses(null, "(erased)")).isNull();
    }

    /**
     * Each run of characters is scanned once: a 100,000-character link or list of numbers is masked at once (about 1 s for
     * all six on a busy 2-core machine). A pattern that backtracked over them would take minutes; the bound is generous so
     * that a loaded machine never fails it.
     */
    @Test
    void longHostileTextIsMaskedInLinearTime() {
        List<String> hostile = List.of("https://x.example/" + "a/b'".repeat(25_000), "1 ".repeat(50_000) + "x",
                "12".repeat(50_000) + "x", "(1".repeat(50_000), "a-token.".repeat(12_500) + "x", "%2B1".repeat(25_000) + "x", "a%40b".repeat(20_000) + "x");
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> hostile.forEach(text -> LogSecrets.none().mask(text)));
    }
}
