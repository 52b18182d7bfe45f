package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Which failures an operator would handle as one, and how they read. */
class FailureGroupsTest {

    private final FailureGroups groups = new FailureGroups(new ConsoleLinks("https://herald.example.com/"));
    private final Instant now = Instant.parse("2026-11-22T10:00:00Z");

    @Test
    void anOutageIsOneGroupWhateverTheIdsTimesAndRecipientsInItsReasons() {
        Map<String, FailureGroup> found = groups.group(List.of(
                failed(1, "sms", "sms not sent: provider answered HTTP 503 Service Unavailable: {\"request\": \"RQ8f2a91\"}"),
                failed(2, "sms", "sms not sent: provider answered HTTP 503 Service Unavailable: {\"request\": \"RQ0c77d3\"}"),
                failed(3, "sms", "sms not sent: provider answered HTTP 503 Service Unavailable: {\"request\": \"RQ5e1b02\"}"
                        + " (still failing after 8 parked re-tries)")));
        assertThat(found).hasSize(2);   // the re-tried ones say so, and are told apart
        FailureGroup outage = found.values().iterator().next();
        assertThat(outage.count()).isEqualTo(2);
        assertThat(outage.summary()).isEqualTo("SMS not sent - the provider kept failing (HTTP 503)");
        assertThat(outage.link()).isEqualTo("https://herald.example.com/console/failures?state=FAILED&channel=sms");
    }

    @Test
    void differentCausesOnOneChannelAreDifferentGroupsAndASingleFailureLinksToItsNotification() {
        Map<String, FailureGroup> found = groups.group(List.of(
                failed(1, "sms", "sms not sent: provider answered HTTP 400 Bad Request: {\"code\": 21211, \"message\": \"The 'To' number +447…0123 is not a valid phone number.\"}"),
                failed(2, "sms", "sms not sent: provider answered HTTP 400 Bad Request: {\"code\": 21211, \"message\": \"The 'To' number +155…0100 is not a valid phone number.\"}"),
                failed(3, "sms", "sms not sent: provider answered HTTP 400 Bad Request: {\"code\": 21610, \"message\": \"Attempt to send to unsubscribed recipient\"}"),
                failed(4, "email", "email not sent: provider unreachable (connection refused): Connection refused")));
        assertThat(found.values()).extracting(FailureGroup::count).containsExactly(2, 1, 1);
        assertThat(found.values()).extracting(FailureGroup::summary).containsExactly(
                "SMS not sent - the provider rejected the message as invalid (not retried) (HTTP 400)",
                "SMS not sent - the provider rejected the message as invalid (not retried) (HTTP 400)",
                "Email not sent - the provider could not be reached");
        assertThat(found.values()).extracting(FailureGroup::link).containsExactly(
                "https://herald.example.com/console/failures?state=FAILED&channel=sms",
                "https://herald.example.com/console/notifications/103",
                "https://herald.example.com/console/notifications/104");
    }

    @Test
    void examplesNeverCarryACustomersAddress() {
        FailureGroup group = groups.group(List.of(failed(1, "email",
                "email not sent: 550 mailbox jenny.rosen@example.org unknown, call +44 7700 900123"))).values().iterator().next();
        assertThat(group.example()).doesNotContain("jenny.rosen", "7700 900123").contains("j***@example.org");
    }

    @Test
    void quarantinedEventsAndWindowMissesReadAsSentences() {
        FailureGroup quarantined = groups.group(List.of(new FailureRow("unrouted_event", 42, "QUARANTINED", "billing", "identity", null,
                "billing event evt_1 names customer cus_9, who is not in Herald's customer directory", now, null, false)))
                .values().iterator().next();
        assertThat(quarantined.summary()).startsWith("Billing events quarantined at step identity");
        assertThat(quarantined.link()).isEqualTo("https://herald.example.com/console/quarantine/42");

        FailureGroup late = groups.group(List.of(new FailureRow("delivery", 7, "WINDOW", "sms", "crm.order_confirmed", 70L,
                "sms sent at …", now, Duration.ofMinutes(15), true))).values().iterator().next();
        assertThat(late.summary()).isEqualTo("crm.order_confirmed by SMS sent after its send window (15 minutes from the event)");
        assertThat(FailureGroups.human(Duration.parse("P1DT1H30M"))).isEqualTo("1 day 1 hour 30 minutes");
    }

    @Test
    void oneMessageSaysHowManyWhatWhenAndWhereAndRemindersSayHowManyMore() {
        List<FailureGroup> announced = List.copyOf(groups.group(List.of(
                failed(1, "push", "push not sent: provider answered HTTP 401 Unauthorized"),
                failed(2, "push", "push not sent: provider answered HTTP 401 Unauthorized"))).values());
        String text = AlertMessage.text(announced, List.of(new AlertMessage.Reminder("SMS not sent - the provider kept failing (HTTP 503)",
                "delivery", 1250, Instant.parse("2026-11-22T09:20:00Z"), "https://herald.example.com/console/failures?state=FAILED&channel=sms")),
                Duration.ofMinutes(30), now, "https://herald.example.com/console/failures");
        assertThat(text).isEqualTo("""
                Herald: 2 new failures need attention (2026-11-22 10:00 UTC)

                • Push not sent - the provider refused Herald's credentials; check the account settings (HTTP 401): 2 deliveries (at 10:00:00 UTC)
                   Example: push not sent: provider answered HTTP 401 Unauthorized
                   Console: https://herald.example.com/console/failures?state=FAILED&channel=push

                Still failing (each kind is repeated at most every 30 minutes):

                • SMS not sent - the provider kept failing (HTTP 503): 1250 more deliveries since 2026-11-22 09:20 UTC
                   Console: https://herald.example.com/console/failures?state=FAILED&channel=sms""");
    }

    private FailureRow failed(long id, String channel, String reason) {
        return new FailureRow("delivery", id, "FAILED", channel, "billing.payment_failed", 100 + id, reason, now, null, false);
    }
}
