package io.herald.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.console.ActionRefused;
import io.herald.console.FailureSearch;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.testsupport.HeraldIntegrationTest;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The scheduling core on the shared test Herald, in real time (sends scheduled a second or two ahead): the durable timer
 * (db-scheduler on PostgreSQL) fires a scheduled notification once and its email goes out; firing again, a cancellation,
 * a move and an operator's send-now each decide once, say so in the ledger and, for operators, in the audit trail. The
 * features built on it (quiet hours, reminders, digests, held late messages) have their own tests; the kill -9 with two
 * instances is in TwoInstancesIT.
 */
class ScheduledSendsTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    @Autowired
    ScheduledSends scheduled;
    @Autowired
    NotificationLedger notifications;
    @Autowired
    FailureSearch failures;

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void aScheduledSendGoesOutOnceWhenItsTimeComesAndFiringAgainSendsNothing() throws Exception {
        long id = admit("due");
        scheduled.schedule(List.of(schedule(id, Instant.now().plusSeconds(1), "a test's scheduled time")));
        assertThat(deliveryState(id)).isEqualTo("SCHEDULED");
        assertThat(scheduled.waiting(null, customer(), null, null, 10)).extracting(ScheduledSends.Waiting::notificationId).contains(id);

        await().atMost(Duration.ofSeconds(30)).until(() -> mails("due") == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> "SENT".equals(deliveryState(id)));
        assertThat(sendState(id)).isEqualTo("FIRED");
        assertThat(outcomes(id)).containsSubsequence("SCHEDULED", "FIRED", "SENT");
        // The timer fires again (a crash after firing, another instance): nothing more is queued or sent.
        assertThat(scheduled.fire(id)).isFalse();
        assertThat(scheduled.waiting(null, customer(), null, null, 10)).extracting(ScheduledSends.Waiting::notificationId).doesNotContain(id);
        assertThat(outcomes(id)).filteredOn("FIRED"::equals).hasSize(1);
        assertThat(outcomes(id)).filteredOn("SENT"::equals).hasSize(1);
        assertThat(deliveryState(id)).isEqualTo("SENT");
    }

    /**
     * A send moved to a later time while its timer was firing (the timer could not be moved then, nor a new one set): the
     * firing sees the new time and the timer is set again for it, so it is sent then. (It used to stay SCHEDULED with no
     * timer, never sent.)
     */
    @Test
    void aSendMovedWhileItsTimerFiresIsSentAtItsNewTime() throws Exception {
        long id = admit("moved-while-firing");
        scheduled.schedule(List.of(schedule(id, Instant.now().plusSeconds(1), "a test's scheduled time")));
        // The move as it lands while the timer is being picked: the row has the new time, the timer still the old one.
        Instant later = Instant.now().plusSeconds(4);
        jdbc.update("UPDATE scheduled_send SET fire_at = ? WHERE notification_id = ?", java.sql.Timestamp.from(later), id);

        await().atMost(Duration.ofSeconds(30)).until(() -> mails("moved-while-firing") == 1);
        assertThat(sendState(id)).isEqualTo("FIRED");
        assertThat(jdbc.queryForObject("SELECT decided_at FROM scheduled_send WHERE notification_id = ?", java.sql.Timestamp.class, id)
                .toInstant()).isAfterOrEqualTo(later.minusSeconds(1));
    }

    @Test
    void aCancelledSendIsNeverSentAndTheOperatorsWordsAreKept() throws Exception {
        long id = admit("cancelled");
        scheduled.schedule(List.of(schedule(id, Instant.now().plusSeconds(2), "a test's scheduled time")));
        assertThatThrownBy(() -> scheduled.cancel(id, "operator", " ")).isInstanceOf(ActionRefused.class).hasMessageContaining("needs a comment");
        assertThat(scheduled.cancel(id, "operator", "customer asked us not to")).isEqualTo("CANCELLED");

        assertThat(deliveryState(id)).isEqualTo("CANCELLED");
        assertThat(jdbc.queryForObject("SELECT reason FROM delivery WHERE notification_id = ?", String.class, id))
                .isEqualTo("cancelled by operator: customer asked us not to; not sent");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM operator_action WHERE notification_id = ? AND action = 'CANCEL'"
                + " AND actor = 'operator' AND comment = 'customer asked us not to'", Integer.class, id)).isEqualTo(1);
        assertThatThrownBy(() -> scheduled.sendNow(id, "operator", "changed my mind")).isInstanceOf(ActionRefused.class)
                .hasMessageContaining("is already CANCELLED");
        // Its timer still fires (the cancellation does not race it): nothing happens.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM scheduled_tasks WHERE task_instance = ?",
                Integer.class, Long.toString(id)) == 0);
        assertThat(mails("cancelled")).isZero();
        assertThat(deliveryState(id)).isEqualTo("CANCELLED");
    }

    @Test
    void aMovedSendGoesOutAtItsNewTimeAndSendNowGoesAtOnce() throws Exception {
        long moved = admit("moved");
        long now = admit("now");
        scheduled.schedule(List.of(schedule(moved, Instant.now().plus(Duration.ofHours(1)), "an hour ahead"),
                schedule(now, Instant.now().plus(Duration.ofHours(1)), "an hour ahead")));

        assertThat(scheduled.move(moved, Instant.now().plusSeconds(1), "the appointment moved")).isTrue();
        List<String> channels = scheduled.sendNow(now, "operator", "the customer is waiting for it");
        assertThat(channels).containsExactly("email");

        await().atMost(Duration.ofSeconds(30)).until(() -> mails("moved") == 1 && mails("now") == 1);
        assertThat(outcomes(moved)).containsSubsequence("SCHEDULED", "MOVED", "FIRED");
        assertThat(sendState(moved)).isEqualTo("FIRED");
        assertThat(sendState(now)).isEqualTo("SENT_NOW");
        assertThat(outcomes(now)).containsSubsequence("SCHEDULED", "RELEASED");
        assertThat(scheduled.move(now, Instant.now().plusSeconds(5), "too late")).isFalse();
    }

    @Test
    void aHeldSendWaitsForAnOperatorAndADismissalEndsIt() throws Exception {
        long id = admit("held");
        scheduled.schedule(List.of(schedule(id, null, "late: held for an operator")));
        assertThat(deliveryState(id)).isEqualTo("HELD");
        assertThat(scheduled.find(id)).get().extracting(ScheduledSends.Waiting::state, ScheduledSends.Waiting::fireAt)
                .containsExactly("HELD", null);
        // Scheduling the same notification again (a batch read again) changes nothing.
        scheduled.schedule(List.of(schedule(id, Instant.now().plusSeconds(1), "again")));
        assertThat(sendState(id)).isEqualTo("HELD");

        assertThat(scheduled.cancel(id, "operator", "too late to matter")).isEqualTo("DISMISSED");
        assertThat(deliveryState(id)).isEqualTo("DISMISSED");
        assertThat(mails("held")).isZero();
    }

    /**
     * In a JVM whose default locale is Turkish (LANG=tr_TR.UTF-8 in the container) an operator's dismissal reads the same:
     * the ledger said "dısmıssed by operator: ...; not sent" and the audit trail "notification 7 dısmıssed" (dotless ı),
     * and the failures filter state=dismissed, upper-cased to "DİSMİSSED", was refused as an unknown state.
     */
    @Test
    void inATurkishLocaleADismissalReadsDismissedAndALowerCaseStateFilterFindsIt() throws Exception {
        long id = admit("held-in-turkish");
        scheduled.schedule(List.of(schedule(id, null, "late: held for an operator")));
        java.util.Locale before = java.util.Locale.getDefault();
        java.util.Locale.setDefault(java.util.Locale.forLanguageTag("tr-TR"));
        try {
            assertThat(scheduled.cancel(id, "operator", "too late to matter")).isEqualTo("DISMISSED");
            assertThat(jdbc.queryForObject("SELECT reason FROM delivery WHERE notification_id = ?", String.class, id))
                    .isEqualTo("dismissed by operator: too late to matter; not sent");
            assertThat(jdbc.queryForObject("SELECT outcome FROM operator_action WHERE notification_id = ? AND action = 'DISMISS'",
                    String.class, id)).isEqualTo("notification " + id + " dismissed: 1 delivery not sent");
            assertThat(failures.find(new FailureSearch.Filter(null, null, null, customer(), null, null, "dismissed", null, null), 10))
                    .extracting(FailureSearch.Failure::notificationId).contains(id);
        } finally {
            java.util.Locale.setDefault(before);
        }
    }

    private long admit(String what) throws Exception {
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Sam Scheduled', ?) ON CONFLICT DO NOTHING",
                customer(), customer() + "@example.com");
        String key = "test:scheduled:" + run + ":" + what;
        CanonicalNotification notification = new CanonicalNotification(key, "billing", "evt_" + run + what, "billing.invoice_paid",
                customer(), Instant.now(), Map.of("invoiceId", "in_" + what), Map.of("invoiceNumber", "S-" + what, "amountPaid", "10.00 GBP",
                "hostedInvoiceUrl", "https://pay.example.com/" + what), "normal");
        notifications.admit(notification, JSON.writeValueAsString(notification), "{}", Instant.now().plus(Duration.ofDays(1)));
        long id = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        notifications.markRouted(List.of(id));   // what dispatch does once it has queued (or held) the deliveries
        return id;
    }

    private ScheduledSends.Schedule schedule(long id, Instant at, String reason) {
        return new ScheduledSends.Schedule(id, at, reason, "test:" + run, List.of(new DeliveryLedger.Queued(id, "email", customer())));
    }

    private String customer() {
        return "cus_sched_" + run;
    }

    private String deliveryState(long id) {
        return jdbc.queryForObject("SELECT state FROM delivery WHERE notification_id = ? AND channel = 'email'", String.class, id);
    }

    private String sendState(long id) {
        return jdbc.queryForObject("SELECT state FROM scheduled_send WHERE notification_id = ?", String.class, id);
    }

    private List<String> outcomes(long id) {
        return jdbc.queryForList("SELECT a.outcome FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " WHERE d.notification_id = ? ORDER BY a.id", String.class, id);
    }

    private long mails(String what) throws Exception {
        long count = 0;
        for (MimeMessage mail : infra.mail().getReceivedMessages()) {
            if (("test:scheduled:" + run + ":" + what + ":email").equals(mail.getHeader("X-Herald-Idempotency-Key", null) + "")) {
                count++;
            }
        }
        return count;
    }
}
