package io.herald.dispatch;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import io.herald.schedule.QuietHours;
import io.herald.schedule.ScheduledSends;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Lazy;
import org.springframework.stereotype.Component;

/**
 * Quiet hours judged again right before a delivery that waited goes to its provider. Dispatch judges a notification once,
 * when it takes it; a delivery parked by a provider outage at 20:55 and due again at 23:30, or a scheduled send (a
 * reminder, a digest, a quiet-hours hold whose end was reckoned in the customer's old zone) whose timer fires in the
 * night, would otherwise reach the customer inside their quiet hours.
 *
 * <p>Both pass through one place on their way to the provider: their channel's sender claims them from the ledger
 * (ChannelSenders, DeliveryLedger.claimDue), with the notification and the customer's directory entry as it is now, so
 * the judgment needs no query of its own. Judged: the customer channels (never the ops webhook, which goes to the
 * internal team) of a PARKED delivery, or of a PENDING one its scheduled send's timer released (FIRED), or a channel an
 * approver approved (dispatch held the notification for approval before judging its quiet hours: an approval given at
 * 3 a.m. decides what is sent, not that the customer gets it at 3 a.m.). A channel never approved (a first-success
 * chain's next one) is not judged here: its approval check holds it for an approver at once, and once approved it is
 * judged. Not judged: a first send queued by dispatch (dispatch judged it), one an operator sent now, an operator's resend.
 * One inside the quiet hours waits SCHEDULED until they end, like a quiet-hours hold at dispatch
 * (ScheduledSends.scheduleAfterClaim): its notification is on the Scheduled page, where an operator can send it now or
 * cancel it, a superseding event cancels it, and its timer releases it when they end. Its send window counts from then,
 * as at dispatch, unless it had already passed (a late message stays late). Not offered to the provider, not counted as a
 * park. When its notification cannot wait SCHEDULED (sent now by an operator, whose decision the late policy reads from
 * its scheduled send; HELD for an operator; cancelled or dismissed) it is PARKED until the quiet hours end instead, and then claimed, judged and sent like any parked delivery. A claim's waits are
 * written in one statement, in the claim's transaction (DeliveryLedger.waitForQuietHours).
 */
@Component
public class QuietHoursBeforeSend {

    private static final Logger log = LoggerFactory.getLogger(QuietHoursBeforeSend.class);
    private static final String OPS_WEBHOOK = "ops_webhook";

    private final QuietHours quietHours;
    private final ScheduledSends scheduled;
    private final NotificationCatalog catalog;
    private final DeliveryLedger ledger;
    private final NotificationLedger notifications;
    private final ObjectMapper json;
    private final HeraldMetrics metrics;
    private final Clock clock;

    /** {@code scheduled} is lazy: it wakes the senders (ChannelSenders), which ask this class. */
    public QuietHoursBeforeSend(QuietHours quietHours, @Lazy ScheduledSends scheduled, NotificationCatalog catalog, DeliveryLedger ledger, NotificationLedger notifications,
                                ObjectMapper json, HeraldMetrics metrics, Clock clock) {
        this.quietHours = quietHours;
        this.scheduled = scheduled;
        this.catalog = catalog;
        this.ledger = ledger;
        this.notifications = notifications;
        this.json = json;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * The claimed deliveries that may go to their provider now; the others (inside their customer's quiet hours) wait
     * SCHEDULED, or PARKED, until the quiet hours end. Called in the claim's transaction; writes only when one has to wait.
     */
    public List<ChannelSenders.Due> sendable(List<ChannelSenders.Due> claimed) {
        List<ChannelSenders.Due> sendable = new ArrayList<>(claimed.size());
        Instant now = clock.instant();
        Map<Long, List<Waiting>> waiting = new LinkedHashMap<>();
        for (ChannelSenders.Due due : claimed) {
            Optional<QuietHours.Wait> wait = judged(due) ? waitFor(due) : Optional.empty();
            if (wait.isEmpty()) {
                sendable.add(due);
            } else {
                waiting.computeIfAbsent(due.notificationId(), id -> new ArrayList<>()).add(new Waiting(due, wait.get()));
            }
        }
        if (waiting.isEmpty()) {
            return sendable;
        }
        List<DeliveryLedger.QuietWait> waits = new ArrayList<>();
        Map<Long, Instant> deadlines = new LinkedHashMap<>();
        waiting.forEach((notificationId, deliveries) -> {
            // Quiet hours are the category's, so a notification's channels wait until the same end: one scheduled send.
            QuietHours.Wait wait = deliveries.get(0).quiet();
            Optional<Instant> fires = scheduled.scheduleAfterClaim(notificationId, wait.until(), wait.reason(), wait.matchKey(),
                    deliveries.stream().map(one -> one.due().deliveryId()).toList());
            for (Waiting one : deliveries) {
                String reason = one.quiet().reason() + fires.filter(at -> !at.equals(wait.until()))
                        .map(at -> "; it goes with its notification's other channels, scheduled for " + java.time.format.DateTimeFormatter
                                .ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(java.time.ZoneOffset.UTC).format(at)).orElse("");
                waits.add(new DeliveryLedger.QuietWait(one.due().deliveryId(), Duration.between(now, one.quiet().until()), reason,
                        fires.isPresent()));
            }
            deadlines.put(notificationId, wait.deadline());
        });
        ledger.waitForQuietHours(waits);
        notifications.postponeDeadlines(deadlines, now);   // Herald chose the delay: the send window counts from its end
        waiting.values().forEach(deliveries -> deliveries.forEach(one -> metrics.delivery(one.due().channel(), "QUIET_HOURS")));
        waits.forEach(w -> log.info("Delivery {} {}: {}", w.deliveryId(), w.scheduled() ? "SCHEDULED" : "PARKED", w.reason()));
        return sendable;
    }

    /** A claimed delivery inside its customer's quiet hours, and its wait. */
    private record Waiting(ChannelSenders.Due due, QuietHours.Wait quiet) {
    }

    /** A customer channel's delivery that waited: a parked retry, a scheduled send whose timer released it, an approved one. */
    private static boolean judged(ChannelSenders.Due due) {
        return !OPS_WEBHOOK.equals(due.channel()) && ("PARKED".equals(due.state()) || due.releasedBy() != null);
    }

    private Optional<QuietHours.Wait> waitFor(ChannelSenders.Due due) {
        CanonicalNotification notification;
        try {
            notification = json.readValue(due.canonical(), CanonicalNotification.class);
        } catch (IOException e) {
            return Optional.empty();   // its channel route reports it, with the reason
        }
        if (notification.type() == null || !catalog.knows(notification.type())) {
            return Optional.empty();
        }
        String why = "PARKED".equals(due.state()) ? "its retry came due"
                : "APPROVED".equals(due.releasedBy()) ? "released by its approval, it came due" : "its scheduled time came";
        return quietHours.waitBeforeSend(catalog.entry(notification.type()), notification, due.customer(), due.channel(), why);
    }
}
