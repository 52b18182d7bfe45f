package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Year;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.List;
import java.util.Map;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

/**
 * Stripe's invoice.upcoming, days before a subscription renews, through the signed billing webhook: one renewal notice
 * per subscription and period however often Stripe sends it, with the amount and the date written for the customer
 * (Lukas: de-DE, Europe/Berlin), every part of the mail in German.
 */
class RenewalNoticeTest extends HeraldIntegrationTest {

    /**
     * The third Friday of January the year after next (2028-01-21 when run in 2026), at 23:30 UTC: a Friday in UTC, already
     * Saturday in Berlin (winter time, UTC+1). Taken from today's year, not written down: the notice is valid until the
     * renewal (config/catalog.yaml valid-until: renewsAt), so once the wall clock passed a written renewal (it was
     * 2027-01-15, then 2032-01-16) the notice would be dropped as late and this test would fail. Not much further: Herald
     * refuses dates more than 3650 days ahead as implausible (config/rules.yaml). The third Friday, so that the Saturday's
     * day of the month has two digits each year.
     */
    private static final LocalDate FRIDAY = LocalDate.of(Year.now(ZoneOffset.UTC).getValue() + 2, 1, 1)
            .with(TemporalAdjusters.dayOfWeekInMonth(3, DayOfWeek.FRIDAY));
    private static final long RENEWS_AT = FRIDAY.atTime(23, 30).toEpochSecond(ZoneOffset.UTC);
    /** The renewal's date as Lukas reads it: the Saturday, in German. */
    private static final String SATURDAY = "Samstag, " + FRIDAY.plusDays(1).getDayOfMonth() + ". Januar " + FRIDAY.getYear();

    @Test
    void theSameUpcomingInvoiceSentThreeTimesGivesOneGermanNoticeWithTheAmountAndDateWrittenForTheCustomer() throws Exception {
        String unique = newTicketId();
        String key = "billing:invoice.upcoming:sub_test" + unique + ":" + RENEWS_AT;
        for (String eventId : List.of("evt_up1_" + unique, "evt_up2_" + unique, "evt_up3_" + unique)) {
            assertThat(postSignedBilling(upcoming(eventId, "\"sub_test" + unique + "\"")).statusCode()).isEqualTo(202);
        }

        MimeMessage mail = awaitMailFor(key);
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("lukas.mueller@example.de");
        assertThat(mail.getSubject()).isEqualTo("Ihr Abonnement „Team plan“ verlängert sich am " + SATURDAY);
        Multipart parts = (Multipart) mail.getContent();
        String text = parts.getBodyPart(0).getContent().toString();
        String html = parts.getBodyPart(1).getContent().toString();
        assertThat(text).contains("Hallo Lukas,",
                "verlängert sich am " + SATURDAY + ".",
                "Wir buchen dann 1.250,00\u00a0€ über Ihre hinterlegte Zahlungsmethode ab.")
                .doesNotContain("1250.00 EUR", FRIDAY.toString(), FRIDAY.plusDays(1).toString());
        assertThat(html).contains("lang=\"de\"", "<strong>" + SATURDAY + "</strong>", "<strong>1.250,00\u00a0€</strong>")
                .doesNotContain("renews on", "1250.00 EUR");

        // The ledger: one notification, the two repeats counted as duplicates, one email sent.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc.queryForList(
                "SELECT type, duplicates_suppressed FROM notification WHERE idempotency_key = ?", key))
                .containsExactly(Map.of("type", "billing.renewal_upcoming", "duplicates_suppressed", 2)));
        await().atMost(Duration.ofSeconds(10)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Integer.class,
                "billing:invoice.upcoming:sub_test" + unique + ":%")).isEqualTo(1);
        assertThat(mailsFor(key)).hasSize(1);
    }

    @Test
    void anUpcomingInvoiceWithoutSubscriptionIsQuarantinedNamingTheField() throws Exception {
        String eventId = "evt_nosub_" + newTicketId();
        assertThat(postSignedBilling(upcoming(eventId, "null")).statusCode()).isEqualTo(202);

        Map<String, Object> unrouted = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, step, reason FROM unrouted_event WHERE source = 'billing' AND raw_payload LIKE ?", "%" + eventId + "%"),
                rows -> rows.size() == 1).get(0);
        assertThat(unrouted).containsEntry("outcome", "QUARANTINED").containsEntry("step", "mapping");
        assertThat(unrouted.get("reason").toString()).contains("billing event " + eventId + " has no subscription:"
                + " data.object.subscription (or, in newer API versions, data.object.parent.subscription_details.subscription) is empty");
    }

    /** The shipped invoice.upcoming sample as Stripe sends it now, renewing at {@link #RENEWS_AT}, for a subscription (JSON). */
    private static String upcoming(String eventId, String subscription) {
        long now = Instant.now().getEpochSecond();
        return Samples.text("billing/invoice.upcoming.json")
                .replace("evt_1QyA7bLkdIwHu7ixR3n2M1k0", eventId)
                .replace("\"created\": 1763546400", "\"created\": " + now)
                .replace("\"period_end\": 1764151200", "\"period_end\": " + RENEWS_AT)
                .replace("\"next_payment_attempt\": 1764154800", "\"next_payment_attempt\": " + (RENEWS_AT + 3600))
                .replace("\"subscription\": \"sub_1Pr2TeamLkdIwHu7ix\"", "\"subscription\": " + subscription);
    }
}
