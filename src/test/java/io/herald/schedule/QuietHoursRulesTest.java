package io.herald.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.herald.config.SchedulingSettings;
import io.herald.identity.Customer;
import io.herald.notification.CancelledBy;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.Category;
import io.herald.notification.NotificationCatalog;
import io.herald.testsupport.MovableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quiet hours and cancelled-by as configured (issue 14 point 4), without the stack: the shipped catalog's rules, the
 * decision for a notification at a given instant in the customer's zone (crossing midnight, the nights the clocks change,
 * high priority, an unknown zone), and a broken categories section or cancelled-by stopping startup with file and key.
 * QuietHoursTest shows the same end to end.
 */
class QuietHoursRulesTest {

    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final LocalTime NINE_PM = LocalTime.of(21, 0);
    private static final LocalTime EIGHT_AM = LocalTime.of(8, 0);

    @TempDir
    Path dir;

    @Test
    void theShippedCatalogHoldsBillingOvernightHighPriorityIncludedAndAPaidInvoiceCancelsItsHeldPaymentFailedNotice() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        Category billing = catalog.category("billing").orElseThrow();
        assertThat(billing.quietHours()).isEqualTo("21:00-08:00");
        assertThat(billing.holdsHighPriority()).isTrue();
        assertThat(catalog.category("support")).isEmpty();
        CancelledBy rule = catalog.cancelledBy("billing.payment_failed").orElseThrow();
        assertThat(rule.types()).containsExactly("billing.invoice_paid", "billing.payment_action_required");
        assertThat(catalog.cancelledWhen("billing.invoice_paid")).containsOnlyKeys("billing.payment_failed", "billing.payment_action_required");
        assertThat(catalog.cancelledWhen("billing.payment_action_required")).containsOnlyKeys("billing.payment_failed");
        assertThat(rule.matchKey(notification("billing.invoice_paid", "normal", Map.of("invoiceId", "in_123")))).isEqualTo("invoice:in_123");
        assertThat(rule.matchKey(notification("billing.invoice_paid", "normal", Map.of()))).isNull();
        // A refund tells the charge's running total: a newer one of its own kind supersedes it.
        CancelledBy refunds = catalog.cancelledBy("billing.charge_refunded").orElseThrow();
        assertThat(refunds.types()).containsExactly("billing.charge_refunded");
        assertThat(refunds.byNewerOfItsKind("billing.charge_refunded")).isTrue();
        assertThat(catalog.cancelledWhen("billing.charge_refunded")).containsOnlyKeys("billing.charge_refunded");
    }

    @Test
    void aTicketsStatusIsCancelledByANewerOneOfItsKindAlongsideItsDigest() {
        NotificationCatalog catalog = new NotificationCatalog("config/catalog.yaml");
        String type = "support.ticket_status_changed";
        assertThat(catalog.digest(type)).isNotNull();
        CancelledBy statuses = catalog.cancelledBy(type).orElseThrow();
        assertThat(statuses.types()).containsExactly(type);
        assertThat(statuses.match()).isEqualTo("ticketId");
        assertThat(statuses.byNewerOfItsKind(type)).isTrue();
    }

    @Test
    void quietHoursCrossingMidnightEndAtTheirLocalTimeTheSameMorningOrTheNext() {
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-02T22:30"))).contains(at("2026-12-03T08:00"));
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-03T03:00"))).contains(at("2026-12-03T08:00"));
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-02T21:00"))).contains(at("2026-12-03T08:00"));
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-03T08:00"))).isEmpty();
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-02T20:59"))).isEmpty();
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, at("2026-12-02T12:00"))).isEmpty();
        // A range within one day (a lunch break) ends the same day.
        assertThat(QuietHours.end(LocalTime.of(12, 0), LocalTime.of(14, 0), at("2026-12-02T13:15"))).contains(at("2026-12-02T14:00"));
        assertThat(QuietHours.end(LocalTime.of(12, 0), LocalTime.of(14, 0), at("2026-12-02T14:00"))).isEmpty();
    }

    @Test
    void onTheNightsTheClocksChangeTheQuietHoursStillEndAtEightOnTheWall() {
        // Berlin springs forward on 28 March 2027 at 02:00 (01:00 UTC): 22:30 CET is 21:30 UTC, 08:00 CEST is 06:00 UTC.
        ZonedDateTime spring = QuietHours.end(NINE_PM, EIGHT_AM, ZonedDateTime.ofInstant(Instant.parse("2027-03-27T21:30:00Z"), BERLIN)).orElseThrow();
        assertThat(spring.toInstant()).isEqualTo(Instant.parse("2027-03-28T06:00:00Z"));
        assertThat(spring.toLocalTime()).isEqualTo(EIGHT_AM);
        assertThat(Duration.between(Instant.parse("2027-03-27T21:30:00Z"), spring.toInstant())).isEqualTo(Duration.ofMinutes(8 * 60 + 30));
        // It falls back on 31 October 2027 at 03:00 (01:00 UTC): 22:30 CEST is 20:30 UTC, 08:00 CET is 07:00 UTC.
        ZonedDateTime autumn = QuietHours.end(NINE_PM, EIGHT_AM, ZonedDateTime.ofInstant(Instant.parse("2027-10-30T20:30:00Z"), BERLIN)).orElseThrow();
        assertThat(autumn.toInstant()).isEqualTo(Instant.parse("2027-10-31T07:00:00Z"));
        assertThat(Duration.between(Instant.parse("2027-10-30T20:30:00Z"), autumn.toInstant())).isEqualTo(Duration.ofMinutes(10 * 60 + 30));
        // In the repeated hour (02:30 twice) it is inside the quiet hours both times, ending at 08:00 CET.
        ZonedDateTime repeated = ZonedDateTime.ofInstant(Instant.parse("2027-10-31T01:30:00Z"), BERLIN);
        assertThat(repeated.toLocalTime()).isEqualTo(LocalTime.of(2, 30));
        assertThat(QuietHours.end(NINE_PM, EIGHT_AM, repeated).orElseThrow().toInstant()).isEqualTo(Instant.parse("2027-10-31T07:00:00Z"));
        // Quiet hours ending at a time the change skips (02:30 on 28 March does not exist) end when the clocks resume, 03:30 CEST.
        ZonedDateTime skipped = QuietHours.end(LocalTime.of(23, 0), LocalTime.of(2, 30),
                ZonedDateTime.ofInstant(Instant.parse("2027-03-27T23:00:00Z"), BERLIN)).orElseThrow();
        assertThat(skipped.toInstant()).isEqualTo(Instant.parse("2027-03-28T01:30:00Z"));
    }

    @Test
    void quietHoursEndingInsideTheRepeatedHourEndAtItsSecondPassWhenNowIsInThatPass() {
        // Quiet hours 23:00-02:30 in Berlin; on 31 October 2027 the wall clock shows 02:30 twice (00:30 UTC, CEST, and 01:30 UTC,
        // CET). At 02:10 of the second pass (01:10 UTC) the wall clock is inside them again: they end at the second 02:30, not at
        // the first one, which lies in the past.
        LocalTime elevenPm = LocalTime.of(23, 0);
        LocalTime halfPastTwo = LocalTime.of(2, 30);
        ZonedDateTime secondPass = ZonedDateTime.ofInstant(Instant.parse("2027-10-31T01:10:00Z"), BERLIN);
        assertThat(secondPass.toLocalTime()).isEqualTo(LocalTime.of(2, 10));
        assertThat(QuietHours.end(elevenPm, halfPastTwo, secondPass).orElseThrow().toInstant()).isEqualTo(Instant.parse("2027-10-31T01:30:00Z"));
        // In the first pass (02:10 CEST, 00:10 UTC) they end at the first 02:30, as before.
        ZonedDateTime firstPass = ZonedDateTime.ofInstant(Instant.parse("2027-10-31T00:10:00Z"), BERLIN);
        assertThat(QuietHours.end(elevenPm, halfPastTwo, firstPass).orElseThrow().toInstant()).isEqualTo(Instant.parse("2027-10-31T00:30:00Z"));
        // Lord Howe Island sets its clocks back half an hour at 02:00 (to 01:30) on 4 April 2027: quiet hours 22:00-01:45 seen at
        // 01:35 of the second pass (15:05 UTC, +10:30) end at the second 01:45 (15:15 UTC), not at the first (14:45 UTC).
        ZonedDateTime lordHowe = ZonedDateTime.ofInstant(Instant.parse("2027-04-03T15:05:00Z"), ZoneId.of("Australia/Lord_Howe"));
        assertThat(lordHowe.toLocalTime()).isEqualTo(LocalTime.of(1, 35));
        assertThat(QuietHours.end(LocalTime.of(22, 0), LocalTime.of(1, 45), lordHowe).orElseThrow().toInstant())
                .isEqualTo(Instant.parse("2027-04-03T15:15:00Z"));
    }

    @Test
    void theDecisionWeighsPriorityTheCustomersZoneAndTheDefaultZone() throws IOException {
        NotificationCatalog catalog = new NotificationCatalog(catalog("""
                categories:
                  support:
                    quiet-hours: "21:00-08:00"
                  billing:
                    quiet-hours: "22:00-07:00"
                    high-priority: hold
                """).toString());
        MovableClock clock = new MovableClock(Instant.parse("2026-12-02T21:30:00Z"));   // 22:30 in Berlin, 16:30 in New York, 21:30 in London
        QuietHours quiet = new QuietHours(catalog, settings("Europe/London"), clock);
        NotificationCatalog.Entry support = catalog.entry("support.ticket_status_changed");

        Optional<QuietHours.Wait> berlin = quiet.waitFor(support, notification(support.type(), "normal", Map.of()), customer("Europe/Berlin"));
        assertThat(berlin).isPresent();
        assertThat(berlin.get().until()).isEqualTo(Instant.parse("2026-12-03T07:00:00Z"));
        assertThat(berlin.get().reason()).isEqualTo("quiet hours 21:00-08:00 in Europe/Berlin for support notifications: held until 08:00"
                + " local time on 2026-12-03 (2026-12-03 07:00 UTC)");
        assertThat(berlin.get().deadline()).isEqualTo(Instant.parse("2026-12-03T07:00:00Z").plus(support.window()));
        // Judged again right before a send that waited (a parked retry, a fired scheduled send): the same wait, said for that delivery.
        assertThat(quiet.waitBeforeSend(support, notification(support.type(), "normal", Map.of()), customer("Europe/Berlin"), "email",
                "its retry came due")).map(QuietHours.Wait::reason).contains("email waits for quiet hours 21:00-08:00 in Europe/Berlin for"
                + " support notifications: its retry came due at 22:30 local time, inside them; not sent until 08:00 local time on 2026-12-03"
                + " (2026-12-03 07:00 UTC)");
        assertThat(berlin.get().matchKey()).isNull();
        // High priority goes at once unless the category holds it too.
        assertThat(quiet.waitFor(support, notification(support.type(), "high", Map.of()), customer("Europe/Berlin"))).isEmpty();
        // The same instant is afternoon in New York; 21:30 in London (the default zone) is quiet.
        assertThat(quiet.waitFor(support, notification(support.type(), "normal", Map.of()), customer("America/New_York"))).isEmpty();
        Optional<QuietHours.Wait> unknown = quiet.waitFor(support, notification(support.type(), "normal", Map.of()), customer("Mars/Olympus_Mons"));
        assertThat(unknown.orElseThrow().until()).isEqualTo(Instant.parse("2026-12-03T08:00:00Z"));
        assertThat(unknown.get().reason()).startsWith("quiet hours 21:00-08:00 in Europe/London (the customer's time zone 'Mars/Olympus_Mons'"
                + " is not a time zone: herald.scheduling.default-time-zone) for support notifications: held until 08:00");
        assertThat(quiet.waitFor(support, notification(support.type(), "normal", Map.of()), null).orElseThrow().reason())
                .contains("in Europe/London (the customer is not in the directory: herald.scheduling.default-time-zone)");

        // billing (22:00-07:00, high-priority: hold): 22:30 Berlin is quiet for a high-priority notice too; it names its invoice.
        NotificationCatalog.Entry failed = catalog.entry("billing.payment_failed");
        QuietHours.Wait held = quiet.waitFor(failed, notification(failed.type(), "high", Map.of("invoiceId", "in_9")), customer("Europe/Berlin")).orElseThrow();
        assertThat(held.until()).isEqualTo(Instant.parse("2026-12-03T06:00:00Z"));
        assertThat(held.reason()).contains("high priority included (high-priority: hold)");
        assertThat(held.matchKey()).isEqualTo("invoice:in_9");
        // A category without quiet hours holds nothing.
        NotificationCatalog.Entry order = catalog.entry("crm.order_confirmed");
        assertThat(quiet.waitFor(order, notification(order.type(), "normal", Map.of()), customer("Europe/Berlin"))).isEmpty();
    }

    @Test
    void aBrokenCategoryOrCancelledByNamesTheFileAndTheKey() throws IOException {
        assertRefused("categories:\n  billing:\n    quiet-hours: \"9pm-8am\"\n",
                "key 'categories.billing.quiet-hours' must be a local time range HH:MM-HH:MM in the customer's time zone, e.g. \"21:00-08:00\"");
        assertRefused("categories:\n  billing:\n    quiet-hours: \"25:00-08:00\"\n", "key 'categories.billing.quiet-hours'");
        assertRefused("categories:\n  billing:\n    quiet-hours: \"08:00-08:00\"\n", "key 'categories.billing.quiet-hours' starts and ends at the same time");
        assertRefused("categories:\n  billing:\n    quiet-hours: \"21:00-08:00\"\n    high-priority: later\n",
                "key 'categories.billing.high-priority' must be send");
        assertRefused("categories:\n  billing:\n    quiet-hour: \"21:00-08:00\"\n", "key 'categories.billing.quiet-hour' is not a setting of a category");
        assertRefused("categories:\n  biling:\n    quiet-hours: \"21:00-08:00\"\n", "key 'categories.biling' is not the category of any notification type");
        assertRefused("categories:\n  billing:\n    high-priority: hold\n", "key 'categories.billing.high-priority' needs quiet-hours beside it");
        assertRefused(cancelledBy("{types: [billing.invoice_payed], match: invoiceId}"),
                "key 'notifications.billing.payment_failed.cancelled-by.types' names 'billing.invoice_payed', which is not a notification type");
        assertRefused(cancelledBy("{types: [billing.invoice_paid]}"), "key 'notifications.billing.payment_failed.cancelled-by.match' must name the ref or data field");
        assertRefused(cancelledBy("[billing.invoice_paid]"), "key 'notifications.billing.payment_failed.cancelled-by' must be {types:");
    }

    @Test
    void aDefaultTimeZoneThatIsNoZoneStopsStartupNamingTheKey() {
        assertThatThrownBy(() -> settings("Europe/Londres")).hasMessage("herald.scheduling.default-time-zone must be a time zone id such as"
                + " Europe/London or UTC, was 'Europe/Londres'");
        assertThat(settings(" Europe/London ").defaultZone()).isEqualTo(ZoneId.of("Europe/London"));
    }

    // --- helpers ---

    private static ZonedDateTime at(String local) {
        return java.time.LocalDateTime.parse(local).atZone(BERLIN);
    }

    private static SchedulingSettings settings(String defaultZone) {
        return new SchedulingSettings(Duration.ofSeconds(2), 2, Duration.ofSeconds(30), defaultZone);
    }

    private static Customer customer(String zone) {
        return new Customer("cus_1", "Test Customer", "t@example.com", null, List.of(), "en", zone, Map.of());
    }

    private static CanonicalNotification notification(String type, String priority, Map<String, Object> refs) {
        return new CanonicalNotification("key", "billing", "evt_1", type, "cus_1", Instant.parse("2026-12-02T21:29:00Z"), refs, Map.of(), priority);
    }

    /** The shipped notifications with this categories section instead of the shipped one. */
    private Path catalog(String categories) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".yaml");
        Files.writeString(file, categories + notificationsOnly());
        return file;
    }

    private String cancelledBy(String rule) throws IOException {
        String notifications = notificationsOnly();
        String line = "    cancelled-by: {types: [billing.invoice_paid, billing.payment_action_required], match: invoiceId}\n";
        assertThat(notifications).contains(line);
        return notifications.replace(line, "    cancelled-by: " + rule + "\n");
    }

    private static String notificationsOnly() throws IOException {
        String shipped = Files.readString(Path.of("config", "catalog.yaml"));
        return shipped.substring(shipped.indexOf("\nnotifications:") + 1);
    }

    private void assertRefused(String yaml, String expected) throws IOException {
        Path file = Files.createTempFile(dir, "catalog", ".yaml");
        Files.writeString(file, yaml.startsWith("categories:") ? yaml + notificationsOnly() : yaml);
        assertThatThrownBy(() -> new NotificationCatalog(file.toString()))
                .hasMessageContaining("Notification catalog " + file)
                .hasMessageContaining(expected);
    }
}
