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

    @Test
    void herald_s_own_known_reasons_are_headlined_by_their_cause_not_as_an_unexpected_error() {
        assertThat(FailureGroups.explain("push not sent: push token dGhpc2lz… is no longer registered with the push provider (FCM UNREGISTERED):"
                + " removed from the customer's directory entry on 2026-11-22")).isEqualTo(
                "the device's push token is no longer valid; it was removed from the customer's directory entry");
        assertThat(FailureGroups.explain("sms not sent: the SMS provider refused the message: the number +447…0123 has opted out at the"
                + " provider (it replied STOP to the sending number; Twilio error 21610); it is suppressed for SMS in Herald too, so later"
                + " SMS to it are skipped until the customer replies START")).isEqualTo(
                "the customer's number opted out (replied STOP); it is suppressed for SMS until they reply START");
        assertThat(FailureGroups.explain("sms not sent: the SMS provider refused the message: the number +441…0123 is not a mobile number"
                + " (a landline, or not a valid mobile number; Twilio error 21614); it is suppressed for SMS, so later SMS to it are skipped:"
                + " correct the customer's phone number in the CRM, or lift the suppression in the console if the number does take SMS"))
                .isEqualTo("the customer's phone number cannot take SMS (a landline, or no mobile number); it is suppressed for SMS:"
                        + " correct it in the CRM");
        assertThat(FailureGroups.explain("email not sent: customer cus_1's email address in the directory cannot be sent to: it contains"
                + " a space; correct the contact in the CRM (its contact change updates Herald's directory), then retry this delivery"))
                .isEqualTo("the customer's address in the directory cannot be sent to; correct it in the CRM");
        assertThat(FailureGroups.explain("sms not sent: customer cus_1 has no phone number in the directory"))
                .isEqualTo("the customer has no address for this channel in the directory");
        assertThat(FailureGroups.explain("email not sent: the mail server answered 550 5.1.1 <j***@example.org>: Recipient address rejected"))
                .isEqualTo("the mail server refused the message (SMTP 550)");
        // The refusals the email channel names in its own words: a recipient refused at RCPT, Herald's login refused.
        assertThat(FailureGroups.explain("email not sent: the mail server refused the recipient j***@example.org (550 5.1.1 <j***@example.org>:"
                + " Recipient address rejected: User unknown), so nothing was sent. Check the address with the customer (the server's"
                + " words say why: no such mailbox, or a full or disabled one) and correct it in the CRM if it is wrong (its contact"
                + " change updates Herald's directory), then retry this delivery"))
                .isEqualTo("the mail server refused the customer's address (SMTP 550); check it with the customer and correct it in the CRM");
        assertThat(FailureGroups.explain("email provider unavailable: the mail server refused Herald's login (535 5.7.8 Authentication"
                + " credentials invalid): check herald.mail.username and herald.mail.password (HERALD_MAIL_USERNAME, HERALD_MAIL_PASSWORD);"
                + " nothing was sent; parked, next attempt at 2026-11-22 10:05:00"))
                .isEqualTo("the mail server refused Herald's login (SMTP 535); check herald.mail.username and herald.mail.password");
        // Refusals of Herald's own setup (MailSetupRefused), each headlined with the setting to fix.
        String parked = "; nothing was sent; parked, next attempt at 2026-11-22 10:05:00";
        assertThat(FailureGroups.explain("email provider unavailable: the mail server refused Herald's sender address (553 5.7.1"
                + " <n***@herald.local>: Sender address rejected: not owned by user herald): check herald.mail.from (HERALD_MAIL_FROM)" + parked))
                .isEqualTo("the mail server refused Herald's sender address (SMTP 553); check herald.mail.from");
        assertThat(FailureGroups.explain("email provider unavailable: the mail server refused Herald's mail without a login (530 5.7.0"
                + " Authentication required): set herald.mail.username and herald.mail.password" + parked))
                .isEqualTo("the mail server requires a login (SMTP 530); set herald.mail.username and herald.mail.password");
        assertThat(FailureGroups.explain("email provider unavailable: the mail server refused to relay Herald's mail (554 5.7.1"
                + " <s***@example.net>: Relay access denied): the relay must let Herald send" + parked))
                .isEqualTo("the mail server refused to relay Herald's mail (SMTP 554); allow Herald in the relay's permitted networks or"
                        + " set herald.mail.username and herald.mail.password");
        assertThat(FailureGroups.explain("email not sent: the mail server refused Herald's greeting name (504 5.5.2 <localhost>: Helo"
                + " command rejected: need fully-qualified hostname): set herald.mail.helo-name" + parked))
                .isEqualTo("the mail server refused Herald's greeting name (SMTP 504); set herald.mail.helo-name to a fully qualified name");
        assertThat(FailureGroups.explain("email provider unavailable: the mail server refused Herald's mail without encryption (530 5.7.0"
                + " Must issue a STARTTLS command first): set herald.mail.tls to starttls (port 587) or ssl (port 465)" + parked))
                .isEqualTo("the mail server requires encryption (SMTP 530); set herald.mail.tls to starttls or ssl");
        assertThat(FailureGroups.explain("sms not sent: provider did not answer within the response timeout (herald.sms.response-timeout-ms);"
                + " the call may have reached it, so it is tried again with the same idempotency key"))
                .isEqualTo("the provider did not answer in time");
        // The genuinely unknown stays unknown.
        assertThat(FailureGroups.explain("sms not sent: an unexpected error inside Herald, not an answer from the provider; Herald's log"
                + " has its details on the line with this delivery's id; retry the delivery once the cause is fixed"))
                .isEqualTo("an unexpected error");
    }

    @Test
    void an_uncertain_outcome_names_a_response_timeout_apart_from_herald_stopping_mid_call() {
        Map<String, FailureGroup> found = groups.group(List.of(
                new FailureRow("delivery", 1, "UNCERTAIN", "sms", "billing.payment_failed", 101L, "sms outcome unknown: Herald stopped while"
                        + " calling the provider at 2026-11-22 09:59:01; check whether the customer received it, and resend if not", now, null, false),
                new FailureRow("delivery", 2, "UNCERTAIN", "sms", "billing.payment_failed", 102L, "sms outcome unknown: provider did not"
                        + " answer within the response timeout (herald.sms.response-timeout-ms) after it was sent the request; the provider"
                        + " does not honour the idempotency key, so it is not sent again by itself; check whether the customer received it,"
                        + " and resend if not", now, null, false)));
        assertThat(found.values()).extracting(FailureGroup::summary).containsExactly(
                "SMS outcome unknown - Herald stopped while sending; check whether the customer got it, and resend if not",
                "SMS outcome unknown - the provider did not answer in time after it was sent the request; check whether the customer got"
                        + " it, and resend if not");
    }

    /** Dead push tokens of many customers are one kind of failure, whatever their shown prefix (one without a digit split off). */
    @Test
    void deadPushTokensOfManyCustomersAreOneGroup() {
        List<FailureRow> rows = new java.util.ArrayList<>();
        for (String token : List.of("dGhpcyBp", "eXLkQwPz", "cKq_TnRv")) {
            rows.add(failed(rows.size() + 1, "push", "push not sent: push token " + token + "… is no longer registered with the push"
                    + " provider (FCM UNREGISTERED): removed from the customer's directory entry on 2026-11-22"));
        }
        rows.add(failed(10, "sms", "sms not sent: customer cus_abcdef has no phone number in the directory"));
        rows.add(failed(11, "sms", "sms not sent: customer cus_ghijkl has no phone number in the directory"));
        assertThat(groups.group(rows)).hasSize(2);
    }

    /** An expired approval's team post (ops_webhook) is not told as the customer's message. */
    @Test
    void anExpiredTeamPostSaysTheTeamWasNotTold() {
        FailureGroup group = groups.group(List.of(new FailureRow("delivery", 9, "EXPIRED", "ops_webhook", "billing.charge_refunded", 109L,
                "not approved or rejected within 24 hours", now, null, false))).values().iterator().next();
        assertThat(group.summary()).isEqualTo("billing.charge_refunded by Ops webhook not sent - nobody approved or rejected it in time"
                + " (herald.approvals.expire-after); the team was not told, and sending the event again sends nothing (it is the same"
                + " notification)");
    }

    private FailureRow failed(long id, String channel, String reason) {
        return new FailureRow("delivery", id, "FAILED", channel, "billing.payment_failed", 100 + id, reason, now, null, false);
    }
}
