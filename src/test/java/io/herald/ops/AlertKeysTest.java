package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The Idempotency-Key of a failure-alert post (found by the alerts audit): the same post repeated after a failed commit keeps
 * its key, and a later reminder of the same group, with more failures since another time, gets a key of its own, so a relay
 * that honours the header does not drop it as a repeat.
 */
class AlertKeysTest {

    @Test
    void aLaterReminderOfTheSameGroupIsAnotherPostAndARepeatIsTheSame() {
        Instant since = Instant.parse("2026-11-22T09:20:00Z");
        List<String> group = List.of("FAILED|sms|400|x");
        String first = FailureAlerts.fingerprint(List.of(), group, List.of(new AlertMessage.Reminder("SMS not sent", "deliveries", 3, since, "l")));
        String repeated = FailureAlerts.fingerprint(List.of(), group, List.of(new AlertMessage.Reminder("SMS not sent", "deliveries", 3, since, "l")));
        String later = FailureAlerts.fingerprint(List.of(), group,
                List.of(new AlertMessage.Reminder("SMS not sent", "deliveries", 5, since.plusSeconds(1920), "l")));
        assertThat(repeated).isEqualTo(first);
        assertThat(later).isNotEqualTo(first);
    }

    /** One delivery alerted for missing its send window, then for failing: two posts, two keys; each repeated keeps its key. */
    @Test
    void aDeliveryAlertedForItsWindowThenForFailingIsTwoPosts() {
        Instant missed = Instant.parse("2026-11-22T09:20:00Z");
        FailureRow window = new FailureRow("delivery", 7, "WINDOW", "sms", "billing.payment_failed", 3L, "sms still PARKED", missed, null, false);
        FailureRow failed = new FailureRow("delivery", 7, "FAILED", "sms", "billing.payment_failed", 3L, "sms not sent", missed.plusSeconds(600),
                null, false);
        String windowKey = FailureAlerts.fingerprint(List.of(window), List.of(), List.of());
        assertThat(FailureAlerts.fingerprint(List.of(window), List.of(), List.of())).isEqualTo(windowKey);
        assertThat(FailureAlerts.fingerprint(List.of(failed), List.of(), List.of())).isNotEqualTo(windowKey);
    }
}
