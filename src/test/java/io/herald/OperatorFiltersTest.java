package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;

import io.herald.ledger.DeliveryLedger;
import io.herald.schedule.ScheduledSends;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The filters an operator types (found by an audit of an operator's first day): /console/scheduled takes from and to in the
 * same forms as GET /api/scheduled and the failures list (a date, a UTC time, a time with its offset) and names a parameter
 * it cannot read; a "to" date takes in the whole of that day; and an API read refuses a parameter its address does not take
 * instead of ignoring it (GET /api/scheduled?customerId=… answered every customer's waiting notifications).
 */
class OperatorFiltersTest extends HeraldIntegrationTest {

    private static final String CUSTOMER = "cus_RkT4aB7cD9eF1g";

    @Autowired
    ScheduledSends scheduledSends;

    @Test
    void theConsolePageTakesTheSameDatesAndTimesAsTheApi() throws Exception {
        // A date, as the README and the failures page take it.
        HttpResponse<String> date = apiAs(VIEWER, "GET", "/console/scheduled?from=2026-11-22", null);
        assertThat(date.statusCode()).as(date.body()).isEqualTo(200);

        // A time that cannot be read is refused naming the parameter, as /api/scheduled and the failures page do.
        HttpResponse<String> yesterday = apiAs(VIEWER, "GET", "/console/scheduled?from=yesterday", null);
        assertThat(yesterday.statusCode()).isEqualTo(400);
        assertThat(yesterday.body()).contains("from must be a date (2026-11-22) or a UTC time (2026-11-22T10:30); was 'yesterday'");
    }

    @Test
    void anOffsetIsNotDroppedOnTheConsolePage() throws Exception {
        long id = waitingFor(CUSTOMER, "in_offset");   // fires at 2099-01-01T00:30:00Z
        try {
            // 01:00+01:00 is 00:00 UTC: the notification fires after it.
            String from = "from=2099-01-01T01:00:00%2B01:00&customer=" + CUSTOMER + "&type=billing.invoice_paid";
            assertThat(api("GET", "/api/scheduled?" + from).body()).contains("\"notificationId\":" + id);
            assertThat(apiAs(VIEWER, "GET", "/console/scheduled?" + from, null).body()).contains("#" + id + " billing.invoice_paid");
        } finally {
            apiJson("POST", "/api/scheduled/" + id + "/cancel", "{\"comment\": \"test clean-up\"}");
        }
    }

    @Test
    void anUnknownFilterParameterIsRefusedNotIgnored() throws Exception {
        long id = waitingFor(CUSTOMER, "in_typo");
        try {
            // customerId is what /api/failures and /api/notifications call it; /api/scheduled calls it customer and ignores the
            // other, so a script asking for one customer's waiting notifications gets everyone's (and may cancel them).
            HttpResponse<String> typo = api("GET", "/api/scheduled?customerId=cus_nobody_has_this_id");
            assertThat(typo.body()).as("an unknown filter widened to every customer").doesNotContain("\"notificationId\":" + id);
            assertThat(typo.statusCode()).isEqualTo(400);
            assertThat(typo.body()).contains("unknown parameter 'customerId': this address takes customer, from, to, type");
        } finally {
            apiJson("POST", "/api/scheduled/" + id + "/cancel", "{\"comment\": \"test clean-up\"}");
        }
    }

    @Test
    void aToDateTakesInTheWholeOfThatDay() throws Exception {
        long id = waitingFor(CUSTOMER, "in_todate");   // fires at 2099-01-01T00:30:00Z
        try {
            String filter = "customer=" + CUSTOMER + "&type=billing.invoice_paid";
            assertThat(api("GET", "/api/scheduled?" + filter + "&from=2099-01-01&to=2099-01-01").body()).contains("\"notificationId\":" + id);
            assertThat(apiAs(VIEWER, "GET", "/console/scheduled?" + filter + "&from=2099-01-01&to=2099-01-01", null).body())
                    .contains("#" + id + " billing.invoice_paid");
            // A time is that moment: 00:30 is not before 00:30.
            assertThat(api("GET", "/api/scheduled?" + filter + "&to=2099-01-01T00:30:00Z").body()).doesNotContain("\"notificationId\":" + id);
            assertThat(api("GET", "/api/scheduled?" + filter + "&to=2098-12-31").body()).doesNotContain("\"notificationId\":" + id);
        } finally {
            apiJson("POST", "/api/scheduled/" + id + "/cancel", "{\"comment\": \"test clean-up\"}");
        }
    }

    @Test
    void theFailuresListRefusesAMisspeltFilterAndTakesItsOwn() throws Exception {
        HttpResponse<String> typo = api("GET", "/api/failures?customerID=cus_x");
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(typo.body()).contains("unknown parameter 'customerID'", "customerId", "limit");
        assertThat(api("GET", "/api/failures?customerId=cus_nobody_has_this_id&limit=5").statusCode()).isEqualTo(200);
        assertThat(api("GET", "/api/customers/" + CUSTOMER + "/inbox?unreadOnly=true&limit=5").statusCode()).isEqualTo(200);
        assertThat(api("GET", "/api/quarantine?limit=0").statusCode()).isEqualTo(400);
        HttpResponse<String> none = api("GET", "/api/deliveries/1?verbose=true");
        assertThat(none.statusCode()).isEqualTo(400);
        assertThat(none.body()).contains("unknown parameter 'verbose': this address takes no parameters");
    }

    /**
     * A page size below 1 is refused, naming the parameter, as the failures list and the quarantine refuse a limit below 1:
     * the inbox answered limit=0 (or -5) with one message, and a customer's notifications answered page=-1 with page 0 and
     * size=0 with a page of one, each as if that had been asked.
     */
    @Test
    void aPageOrLimitBelowItsLeastIsRefusedNamingIt() throws Exception {
        for (String limit : List.of("0", "-5")) {
            HttpResponse<String> inbox = api("GET", "/api/customers/" + CUSTOMER + "/inbox?limit=" + limit);
            assertThat(inbox.statusCode()).as(limit).isEqualTo(400);
            assertThat(inbox.body()).contains("\"error\"", "limit must be at least 1 (at most 500 messages are returned); was " + limit);
        }
        HttpResponse<String> page = api("GET", "/api/customers/" + CUSTOMER + "/notifications?page=-1");
        assertThat(page.statusCode()).isEqualTo(400);
        assertThat(page.body()).contains("page must be 0 or more (0: the newest); was -1");
        HttpResponse<String> size = api("GET", "/api/notifications?customerId=" + CUSTOMER + "&size=0");
        assertThat(size.statusCode()).isEqualTo(400);
        assertThat(size.body()).contains("size must be at least 1 (at most 200 are returned); was 0");
        assertThat(api("GET", "/api/customers/" + CUSTOMER + "/inbox?limit=1").statusCode()).isEqualTo(200);
        assertThat(api("GET", "/api/customers/" + CUSTOMER + "/notifications?page=0&size=1").statusCode()).isEqualTo(200);
    }

    /**
     * A provider's answer that echoes the customer's name (found by the operator audit): a viewer reads it masked, on the
     * failures list and on the notification's page, as the customer page masks the name; an operator reads it whole.
     */
    @Test
    void aViewerReadsTheCustomersNameMaskedInAFailuresReason() throws Exception {
        String run = newTicketId();
        String customer = "cus_named" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, first_name, email, locale, time_zone) VALUES (?, 'Rosalind Okafor',"
                + " 'Rosalind', ?, 'en-GB', 'Europe/London')", customer, customer + "@example.org");
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.invoice_paid', ?, 'ROUTED', '{}'::jsonb) RETURNING id""", Long.class,
                "billing:invoice.paid:in_named" + run, "evt_named" + run, customer);
        jdbc.update("INSERT INTO delivery (notification_id, channel, state, reason, attempts) VALUES (?, 'sms', 'FAILED', ?, 1)", id,
                "sms not sent: provider answered HTTP 400 Bad Request: {\"message\": \"Rosalind Okafor has blocked this sender\"}");
        String list = apiAs(VIEWER, "GET", "/console?customerId=" + customer, null).body();
        assertThat(list).contains("R••• has blocked this sender").doesNotContain("Rosalind").doesNotContain("Okafor");
        String page = apiAs(VIEWER, "GET", "/console/notifications/" + id, null).body();
        assertThat(page).contains("R••• has blocked this sender").doesNotContain("Rosalind").doesNotContain("Okafor");
        assertThat(apiAs(OPERATOR, "GET", "/console?customerId=" + customer, null).body()).contains("Rosalind Okafor has blocked this sender");
    }

    /** A notification scheduled for 2099-01-01T00:30:00Z: far ahead, so its timer never fires during the suite. */
    private long waitingFor(String customer, String invoice) {
        String run = newTicketId();
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                VALUES (?, 'billing', ?, 'billing.invoice_paid', ?, 'ROUTED', '{}'::jsonb) RETURNING id""", Long.class,
                "billing:invoice.paid:" + invoice + run, "evt_" + invoice + run, customer);
        scheduledSends.schedule(List.of(new ScheduledSends.Schedule(id, Instant.parse("2099-01-01T00:30:00Z"),
                "waits for a time", null, List.of(new DeliveryLedger.Queued(id, "email", customer)))));
        return id;
    }
}
