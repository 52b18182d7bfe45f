package io.herald.schedule;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import io.herald.approval.Approvals;
import io.herald.console.AuditTrail;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CancelledBy;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * A newer event that makes a waiting notification pointless (issue 14 point 4; catalog key cancelled-by): when a
 * notification of a cancelling type is dispatched (e.g. billing.invoice_paid), the SCHEDULED notifications of the types
 * it cancels (billing.payment_failed held for quiet hours) that name the same thing (invoice:in_123) are cancelled with
 * the reason, never sent (ScheduledSends.cancelMatching, audited as Herald). So are the customer's deliveries of such a
 * notification that are no longer scheduled but not sent either: a fired hold's (ScheduledSends.withdrawFired) and parked
 * retries (DeliveryLedger.cancelParkedNaming: a provider outage can keep one parked until the morning), and one still
 * awaiting its approver (Approvals.withdrawSuperseded: nothing is left to approve). Safe to run again: a cancelled one
 * stays so. A type whose cancelled-by names itself (billing.charge_refunded: the charge's running total) is superseded
 * by a newer one of its kind only, one that occurred strictly later at the source; another type cancels only what occurred at
 * or before it at the source (what occurred later is news it did not know of). For a type with a digest
 * (support.ticket_status_changed) only the older one that would open a new digest after a newer one was told is cancelled
 * ({@link #supersededBeforeOpening}); the updates within one window are all listed.
 */
@Component
public class SupersedingEvents {

    private static final Logger log = LoggerFactory.getLogger(SupersedingEvents.class);
    private static final String OPS_WEBHOOK = "ops_webhook";
    private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    private final NotificationCatalog catalog;
    private final ScheduledSends scheduled;
    private final DeliveryLedger deliveries;
    private final NotificationLedger notifications;
    private final AuditTrail audit;
    private final Approvals approvals;
    private final Clock clock;

    public SupersedingEvents(NotificationCatalog catalog, ScheduledSends scheduled, DeliveryLedger deliveries, NotificationLedger notifications,
                             AuditTrail audit, Approvals approvals, Clock clock) {
        this.catalog = catalog;
        this.scheduled = scheduled;
        this.deliveries = deliveries;
        this.notifications = notifications;
        this.audit = audit;
        this.approvals = approvals;
        this.clock = clock;
    }

    /**
     * The other order (events arrive out of order; Stripe does not promise order): of the notifications dispatch is about to
     * send (by id), those that a notification already received makes pointless, an invoice.paid that occurred at or after
     * this payment failure, each with the reason its customer deliveries are cancelled with, never sent. One query for the
     * batch, asked only for types with a cancelled-by rule whose notification names a customer and a value.
     */
    public Map<Long, String> alreadySuperseded(Map<Long, CanonicalNotification> dispatching) {
        List<NotificationLedger.SupersededQuestion> questions = new java.util.ArrayList<>();
        dispatching.forEach((id, notification) -> java.util.Optional.ofNullable(question(id, notification, false)).ifPresent(questions::add));
        Map<Long, String> reasons = new java.util.HashMap<>();
        notifications.supersedingAlreadyReceived(questions).forEach((id, newer) -> reasons.put(id, reason(dispatching.get(id), newer, "already received")));
        return reasons;
    }

    /**
     * For a notification of a digest type that would open a new digest (none open for its customer and key): the reason it
     * is pointless (a newer one of its kind already told the customer, or on its way), or null. One that finds a digest open
     * joins it instead, listed in the order the updates occurred (io.herald.digest.CustomerDigests).
     */
    public String supersededBeforeOpening(long notificationId, CanonicalNotification notification, Instant now) {
        NotificationLedger.SupersededQuestion question = question(notificationId, notification, true);
        NotificationLedger.Superseding newer = question == null ? null : notifications.newerOfItsKindTold(question, now);
        return newer == null ? null : reason(notification, newer, "already told to the customer");
    }

    /**
     * What a notification with a cancelled-by rule asks the ledger; null when it names no customer, value or time, or asks
     * about no type. A type with a digest asks at dispatch about the other types of its rule only, and about its own kind
     * when it would open a digest ({@code ofItsKind}: only that).
     */
    private NotificationLedger.SupersededQuestion question(long id, CanonicalNotification notification, boolean ofItsKind) {
        CancelledBy rule = catalog.cancelledBy(notification.type()).orElse(null);
        String matchKey = rule == null ? null : rule.matchKey(notification);
        if (matchKey == null || notification.customerId() == null || notification.occurredAt() == null) {
            return null;
        }
        boolean digest = catalog.digest(notification.type()) != null;
        List<String> types = ofItsKind ? rule.types().stream().filter(notification.type()::equals).toList()
                : rule.types().stream().filter(type -> !digest || !type.equals(notification.type())).toList();
        return types.isEmpty() ? null : new NotificationLedger.SupersededQuestion(id, notification.customerId(), types, rule.match(),
                matchKey.substring(matchKey.indexOf(':') + 1));
    }

    private String reason(CanonicalNotification notice, NotificationLedger.Superseding newer, String when) {
        CancelledBy rule = catalog.cancelledBy(notice.type()).orElseThrow();
        return "superseded: " + (newer.type().equals(notice.type()) ? "a newer " : "") + newer.type() + " for " + rule.what() + " "
                + rule.matchKey(notice).substring(rule.what().length() + 1)
                + " (occurred " + UTC_TIME.format(newer.occurredAt()) + ", " + newer.source() + " event " + newer.sourceEventId()
                + "), " + when + " when this " + notice.type() + " (occurred " + UTC_TIME.format(notice.occurredAt())
                + ") was dispatched, makes it pointless: cancelled, not sent (config/catalog.yaml: notifications." + notice.type()
                + ".cancelled-by)";
    }

    /**
     * A superseded notice ({@link #alreadySuperseded}) at dispatch: its customer deliveries, and its ops webhook post too when
     * {@code withTeamPost} (a type that needs approval: nothing is left to approve), are recorded CANCELLED with the reason,
     * never sent, audited as Herald. A notification read again (its rows there already) keeps its rows and is not audited
     * again. Returns the deliveries left to queue (the team's post, or none).
     */
    public List<DeliveryLedger.Queued> cancelAtDispatch(long notificationId, List<DeliveryLedger.Queued> dispatched, boolean withTeamPost,
                                                        String reason) {
        List<DeliveryLedger.Queued> cancelled = dispatched.stream().filter(d -> withTeamPost || !OPS_WEBHOOK.equals(d.channel())).toList();
        if (deliveries.cancelAtDispatch(cancelled, reason) > 0) {
            audit.record(clock.instant(), ScheduledSends.HERALD, "CANCEL", "notification", notificationId, notificationId, null, reason);
            log.info("Notification {} cancelled at dispatch: {}", notificationId, reason);
        }
        return dispatched.stream().filter(d -> !cancelled.contains(d)).toList();
    }

    /**
     * Cancels what these dispatched notifications supersede; returns the notifications cancelled. One in {@code notOnItsWay}
     * (by idempotency key: superseded itself, late, or awaiting an approver who may reject it) cancels no older one of its own
     * kind: the customer would hear of neither.
     */
    public List<Long> cancelSuperseded(List<CanonicalNotification> dispatched, java.util.Set<String> notOnItsWay) {
        List<Long> cancelled = new java.util.ArrayList<>();
        for (CanonicalNotification newer : dispatched) {
            for (Map.Entry<String, CancelledBy> rule : catalog.cancelledWhen(newer.type()).entrySet()) {
                String matchKey = rule.getValue().matchKey(newer);
                if (matchKey == null) {
                    continue;   // it names no invoice (appointment, ...): nothing to match
                }
                String waitingType = rule.getKey();
                boolean ofItsKind = waitingType.equals(newer.type());   // only the older ones of its own type
                if (ofItsKind && (newer.occurredAt() == null || notOnItsWay.contains(newer.idempotencyKey()))) {
                    continue;
                }
                // A digest lists the older ones waiting in its window, in the order they occurred: they stay. An older digest's
                // message parked by an outage is withdrawn like any older one of its kind (cancelParkedNaming).
                boolean digest = ofItsKind && catalog.digest(waitingType) != null;
                // Of its own kind, only the strictly older ones; another type, what occurred at or before it: a request to
                // confirm a first attempt's payment delivered late leaves the second attempt's failure notice waiting.
                Instant before = ofItsKind ? newer.occurredAt() : newer.occurredAt() == null ? null : newer.occurredAt().plus(1, ChronoUnit.MICROS);
                String reason = "superseded: " + (ofItsKind ? "a newer " : "") + newer.type() + " for " + rule.getValue().what() + " " + matchKey.substring(matchKey.indexOf(':') + 1)
                        + (newer.occurredAt() == null ? "" : " (occurred " + UTC_TIME.format(newer.occurredAt()) + ", " + newer.source()
                        + " event " + newer.sourceEventId() + ")") + " makes the waiting " + (ofItsKind ? "older one" : waitingType)
                        + " pointless: cancelled, not sent"
                        + " (config/catalog.yaml: notifications." + waitingType + ".cancelled-by)";
                List<Long> ids = new java.util.ArrayList<>(digest ? List.of()
                        : before != null ? scheduled.cancelOlderMatching(matchKey, List.of(waitingType), reason, before)
                        : scheduled.cancelMatching(matchKey, List.of(waitingType), reason));
                // Those no longer SCHEDULED but not sent yet: a fired hold whose deliveries wait for a sender, and parked
                // retries (a provider outage; quiet hours judged again before the send), which may wait until the morning.
                ids.addAll(scheduled.withdrawFired(matchKey, List.of(waitingType), reason, before));
                if (newer.customerId() != null) {
                    String value = matchKey.substring(matchKey.indexOf(':') + 1);
                    ids.addAll(deliveries.cancelParkedNaming(newer.customerId(), waitingType, rule.getValue().match(), value, reason, before));
                    ids.addAll(approvals.withdrawSuperseded(newer.customerId(), waitingType, rule.getValue().match(), value, reason, before));
                }
                ids = ids.stream().distinct().toList();
                if (!ids.isEmpty()) {
                    log.info("{} {} cancelled the waiting {} {}", newer.type(), matchKey, waitingType, ids);
                }
                cancelled.addAll(ids);
            }
        }
        return cancelled;
    }
}
