package io.herald.dispatch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.approval.Approvals;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.DeviceSent;
import io.herald.logging.Masking;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import io.herald.ops.HeraldMetrics;
import io.herald.ops.LateMessages;
import io.herald.ops.SendWindows;
import io.herald.receipts.Suppressions;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The bookkeeping every channel route shares around its provider call: honour the strategy, the
 * customer's preferences and consent, find the address in the directory, render the channel's
 * templates, claim the ledger row for the send (a settled one is never sent again), and record the
 * outcome with the provider's message id. A delivery that became late while it waited is stopped by its type's late
 * policy (LateMessages) before anything is rendered; one of a notification held for approval goes out only as approved
 * (Approvals.beforeSending), else it waits for an approver again. Skips are recorded with their reason, not as failures.
 */
@Component
public class ChannelDelivery {

    private static final Logger log = LoggerFactory.getLogger(ChannelDelivery.class);

    public static final String DELIVERY_ID = "heraldDeliveryId";
    public static final String CHANNEL = "heraldChannel";
    public static final String SKIP = "heraldSkip";
    public static final String RECIPIENT = "heraldRecipient";
    /** The address the claim recorded, masked (push: the customer's first token; PushDevices records the devices that took it). */
    public static final String RECIPIENT_MASKED = "heraldRecipientMasked";
    /** The device whose answer settled a push (ledger.DeviceSent), written with the delivery's SENT record. */
    public static final String DEVICE_SENT = "heraldDeviceSent";
    /** Parts shown as one line (an email's Subject header, a push title). */
    public static final String PARTS = "heraldParts";
    public static final String TYPE = "heraldType";
    /** Set by an operator resend (its delivery_resend id): bypasses dedup on purpose, with its own provider key. */
    public static final String RESEND = "heraldResend";
    /** The claim of this attempt (DeliveryLedger.Claim): only it may write the outcome. */
    public static final String CLAIM = "heraldClaim";
    /** An attempt's claim token, kept over the retries of its claim (a retry after a lost COMMIT acknowledgement takes it again). */
    public static final String CLAIM_TOKEN = "heraldClaimToken";
    /** The sender's check of its claimed batch against the suppression list: "" not suppressed, else the reason (absent: not checked). */
    public static final String SUPPRESSION = "heraldSuppression";
    /** The Message-ID EmailMessage gave the mail: the email's provider id, what email events name it by. */
    public static final String MESSAGE_ID = "heraldMessageId";

    /** Set by a refusal check that moved the delivery on to the customer's next address: call the provider again (the route's loop). */
    public static final String CALL_AGAIN = "heraldCallAgain";
    /** What a send to a next address says in its SENT record (push: which dead tokens were removed before it). */
    public static final String ADDRESS_NOTE = "heraldAddressNote";

    /** Template parts per channel; email.html is optional (derived from the text when absent). */
    static final Map<String, List<String>> PARTS_BY_CHANNEL = Map.of(
            "email", List.of("subject", "text"),
            "sms", List.of("text"),
            "push", List.of("title", "body"),
            "in_app", List.of("title", "body"),
            "ops_webhook", List.of("text"));

    private final DeliveryLedger ledger;
    private final CustomerDirectory directory;
    private final NotificationCatalog catalog;
    private final MessageParts messageParts;
    private final ObjectMapper json;
    private final HeraldMetrics metrics;
    private final SendWindows sendWindows;
    private final Suppressions suppressions;
    private final LateMessages lateMessages;
    private final OutcomeWrites outcomes;
    private final Approvals approvals;

    public ChannelDelivery(DeliveryLedger ledger, CustomerDirectory directory, NotificationCatalog catalog,
                           MessageParts messageParts, ObjectMapper json, HeraldMetrics metrics, SendWindows sendWindows,
                           Suppressions suppressions, LateMessages lateMessages, OutcomeWrites outcomes, Approvals approvals) {
        this.outcomes = outcomes;
        this.approvals = approvals;
        this.lateMessages = lateMessages;
        this.ledger = ledger;
        this.directory = directory;
        this.catalog = catalog;
        this.messageParts = messageParts;
        this.json = json;
        this.metrics = metrics;
        this.sendWindows = sendWindows;
        this.suppressions = suppressions;
    }

    /**
     * Everything up to the provider call. What to send is decided and rendered first, then the
     * delivery is claimed for it in one statement (DeliveryLedger.claimForSending); a delivery that is
     * not to be sent, or whose claim finds it settled, is recorded as such instead.
     */
    public void prepare(Exchange exchange, String channel) {
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        long notificationId = exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class);
        exchange.setProperty(CHANNEL, channel);
        exchange.setProperty(TYPE, notification.type());
        if (!catalog.knows(notification.type())) {
            throw new TypeNotInCatalog(notification.type(), catalog.named());
        }
        NotificationCatalog.Entry entry = catalog.entry(notification.type());
        exchange.removeProperty(SKIP);
        exchange.removeProperty(CLAIM);
        exchange.removeProperty(ADDRESS_NOTE);
        exchange.removeProperty(RECIPIENT_MASKED);
        exchange.removeProperty(DEVICE_SENT);
        boolean resend = exchange.getProperty(RESEND) != null;
        UUID retried = exchange.getProperty(CLAIM_TOKEN, UUID.class);
        if (retried != null) {
            // A retry of this attempt's claim (its acknowledgement may have been lost with the connection): a row that claim
            // left SENDING under the token waits again, so whatever is decided now (send, skip, stop as late) is recorded.
            ledger.giveBack(notificationId, channel, resend ? exchange.getProperty(RESEND, Long.class) : null, retried);
        }
        // Read once by dispatch for all channels; a parked re-drive or a resend reads it here.
        Customer customer = exchange.getProperty(DispatchPlanner.CUSTOMER, Customer.class);
        if (customer == null) {
            customer = directory.find(notification.customerId()).orElse(null);
            if (customer != null) {
                exchange.setProperty(DispatchPlanner.CUSTOMER, customer);   // read once per attempt (PushDevices reads its tokens)
            }
        }
        String notSending = reasonNotToSend(channel, notification, notificationId, entry, customer, resend,
                exchange.getProperty(SUPPRESSION, String.class));
        if (notSending != null) {
            recordNotSent(exchange, notificationId, channel, notSending, resend);
            return;
        }
        // It may have become late while it waited (queued, parked, scheduled): its type's late policy decides (not a resend:
        // an operator asked for that one).
        String stoppedLate = resend ? null : lateMessages.beforeSending(notification, notificationId, channel);
        if (stoppedLate != null) {
            exchange.setProperty(DELIVERY_ID, ledger.open(notificationId, channel).id());
            exchange.setProperty(SKIP, stoppedLate);
            return;
        }
        Recipients.Address address = Recipients.of(channel, customer);
        if (address.unusable() != null) {
            throw new UnusableAddress("customer " + customer.customerId() + "'s " + address.unusable()
                    + "; correct the contact in the CRM (its contact change updates Herald's directory), then retry this delivery");
        }
        Map<String, String> parts = messageParts.render(notification, entry.templates(), channel, customer);
        // Held for approval: what goes out is what an approver approved, or it waits for one again (not for a resend: it has its own).
        String heldAgain = resend || entry.approval() == null ? null
                : approvals.beforeSending(notificationId, channel, MessagePreview.rendered(channel, address, parts, null));
        if (heldAgain != null) {
            exchange.setProperty(DELIVERY_ID, ledger.open(notificationId, channel).id());
            exchange.setProperty(SKIP, heldAgain);
            return;
        }
        String headline = parts.getOrDefault("subject", parts.get("title"));
        String text = parts.getOrDefault("text", parts.get("body"));
        // A resend is its own attempt on its own row: the delivery's record (what was sent, SENT) stays as it is.
        Optional<DeliveryLedger.Claim> claimed = resend
                ? ledger.claimResend(exchange.getProperty(RESEND, Long.class), claimToken(exchange))
                : ledger.claimForSending(notificationId, channel, address.masked(), headline, Masking.mask(text), claimToken(exchange));
        if (claimed.isEmpty()) {
            if (resend) {
                exchange.setProperty(DELIVERY_ID, ledger.open(notificationId, channel).id());
                exchange.setProperty(SKIP, "resend already " + ledger.resendState(exchange.getProperty(RESEND, Long.class)));
                return;
            }
            DeliveryLedger.Delivery settled = ledger.open(notificationId, channel);
            exchange.setProperty(DELIVERY_ID, settled.id());
            exchange.setProperty(SKIP, "already " + settled.state());
            return;
        }
        exchange.setProperty(DELIVERY_ID, claimed.get().deliveryId());
        exchange.setProperty(CLAIM, claimed.get());
        exchange.setProperty(RECIPIENT, address.value());
        exchange.setProperty(RECIPIENT_MASKED, address.masked());
        exchange.setProperty(PARTS, parts);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(null);
    }

    /** This attempt's claim token: made once, and the same when the failed claim is tried again (error-handling). */
    private static UUID claimToken(Exchange exchange) {
        UUID token = exchange.getProperty(CLAIM_TOKEN, UUID.class);
        if (token == null) {
            token = DeliveryLedger.newClaimToken();
            exchange.setProperty(CLAIM_TOKEN, token);
        }
        return token;
    }

    /** Why this channel is not to be sent (null: send it): not needed, no customer, opted out, no address. */
    private String reasonNotToSend(String channel, CanonicalNotification notification, long notificationId,
                                   NotificationCatalog.Entry entry, Customer customer, boolean resend, String checkedSuppression) {
        if (entry.firstSuccess() && !resend) {
            String sentOn = ledger.sentChannel(notificationId);
            if (sentOn != null) {
                return "not needed: already sent by " + sentOn + " (strategy first-success)";
            }
        }
        if (customer == null) {
            return "customer " + notification.customerId() + " is no longer in the directory";
        }
        if (!Recipients.allowed(channel, entry.category(), customer)) {
            return "customer " + customer.customerId() + " opted out of " + channel + " for " + entry.category();
        }
        Recipients.Address address = Recipients.of(channel, customer);
        if (!address.present()) {
            return "customer " + customer.customerId() + " has " + address.missing() + " in the directory";
        }
        if ("email".equals(channel) || "sms".equals(channel)) {   // a hard bounce, complaint or dead number (issue 13)
            if (checkedSuppression != null) {
                return checkedSuppression.isEmpty() ? null : checkedSuppression;   // checked with its claimed batch (ChannelSenders)
            }
            return suppressions.reasonFor(channel, address.value());
        }
        return null;
    }

    /**
     * A delivery not sent keeps its reason, unless it is already settled (then it stays as it is); a
     * resend not sent keeps it on its own row.
     */
    private void recordNotSent(Exchange exchange, long notificationId, String channel, String reason, boolean resend) {
        DeliveryLedger.Delivery delivery = ledger.open(notificationId, channel);
        exchange.setProperty(DELIVERY_ID, delivery.id());
        if (resend) {
            ledger.resendNotSent(exchange.getProperty(RESEND, Long.class), "SKIPPED", reason);
            metrics.delivery(channel, "SKIPPED");
            exchange.setProperty(SKIP, reason);
        } else if (delivery.settled()) {
            exchange.setProperty(SKIP, "already " + delivery.state());
        } else {
            skip(exchange, delivery.id(), reason);
        }
    }

    /** The provider accepted the message; its id is read from the JSON answer's field (none if the field is blank). */
    public void sent(Exchange exchange, String idField) {
        ProviderAnswerRead answer = ProviderAnswerRead.of(json, exchange.getProperty(CHANNEL, "delivery", String.class),
                exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class),
                exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class), idField, exchange.getMessage().getBody(String.class));
        if (answer.note() != null) {
            log.warn("Delivery {} SENT without a provider id: {}", exchange.getProperty(DELIVERY_ID), answer.note());
        }
        String addressNote = exchange.getProperty(ADDRESS_NOTE, String.class);
        String note = addressNote == null ? answer.note() : answer.note() == null ? addressNote : addressNote + "; " + answer.note();
        sentWithId(exchange, answer.providerId(), note);
    }

    /** SMTP gives no message id back; the ledger keeps the Message-ID Herald gave the mail (email events name it). */
    public void sentBySmtp(Exchange exchange) {
        sentWithId(exchange, exchange.getProperty(MESSAGE_ID, String.class), null);
    }

    /** The in-app message is the inbox row whose id the insert returned. */
    public void sentToInbox(Exchange exchange) {
        sentWithId(exchange, "inbox:" + exchange.getMessage().getBody(String.class), null);
    }

    private void sentWithId(Exchange exchange, String providerId, String note) {
        long deliveryId = exchange.getProperty(DELIVERY_ID, Long.class);
        DeliveryLedger.Claim claim = exchange.getProperty(CLAIM, DeliveryLedger.Claim.class);
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        DeliveryLedger.SentRecord record = ledger.sent(claim, providerId, exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE,
                Integer.class), sendWindows.lateCheckAt(notification), note, exchange.getProperty(DEVICE_SENT, DeviceSent.class));
        if (!record.written()) {
            return;   // a late answer: kept as a LATE attempt, the newer state stays
        }
        String channel = exchange.getProperty(CHANNEL, String.class);
        metrics.sent(notification.type(), channel, notification.occurredAt());
        if (record == DeliveryLedger.SentRecord.SENT_AFTER_WINDOW) {
            sendWindows.sentAfterWindow(deliveryId, notification, channel);
        }
    }

    /**
     * The idempotency key the provider sees: the notification key and channel, so a repeated call
     * is recognised as the same message; an operator resend gets its own, so it really is sent again.
     */
    public static String providerKey(Exchange exchange, String channel) {
        CanonicalNotification notification = exchange.getProperty(DispatchPlanner.NOTIFICATION, CanonicalNotification.class);
        Object resend = exchange.getProperty(RESEND);
        return notification.idempotencyKey() + ":" + channel + (resend == null ? "" : ":resend-" + resend);
    }

    public void failed(Exchange exchange) {
        outcomes.untilWritten("The failure of delivery " + exchange.getProperty(DELIVERY_ID), () -> failedNow(exchange));
    }

    private void failedNow(Exchange exchange) {
        Long deliveryId = exchange.getProperty(DELIVERY_ID, Long.class);
        String channel = exchange.getProperty(CHANNEL, "delivery", String.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = channel + " not sent: " + ProviderErrors.readable(cause, channel);
        DeliveryLedger.Claim claim = exchange.getProperty(CLAIM, DeliveryLedger.Claim.class);
        Long resendId = exchange.getProperty(RESEND, Long.class);
        boolean recorded;
        if (claim != null) {
            recorded = ledger.failed(claim, reason, ProviderErrors.statusOf(cause));
        } else if (resendId != null) {
            // Failed before it was claimed (its template does not render): the resend fails, the delivery stays as it is.
            ledger.resendNotSent(resendId, "FAILED", reason);
            recorded = true;
        } else {
            Long unclaimed = deliveryId != null ? deliveryId : rowOf(exchange);
            recorded = unclaimed != null && ledger.failedUnclaimed(unclaimed, reason, ProviderErrors.statusOf(cause));
        }
        if (recorded) {
            metrics.delivery(channel, "FAILED");
            if (ProviderErrors.unexpected(cause)) {
                log.warn("Delivery {} FAILED: {}", deliveryId, reason, cause);   // the details the reason leaves out
            } else {
                log.warn("Delivery {} FAILED: {}", deliveryId, reason);
            }
        } else {
            log.warn("Delivery {} not recorded as FAILED (settled, or another attempt holds it): {}", deliveryId, reason);
        }
    }

    /**
     * The email was handed over past the SMTP DATA command and then no answer came: it may have
     * reached the customer. UNCERTAIN, as after a crash: flagged for a person, never retried or parked.
     */
    public void uncertain(Exchange exchange) {
        outcomes.untilWritten("The uncertain outcome of delivery " + exchange.getProperty(DELIVERY_ID), () -> uncertainNow(exchange));
    }

    private void uncertainNow(Exchange exchange) {
        String channel = exchange.getProperty(CHANNEL, "delivery", String.class);
        DeliveryLedger.Claim claim = exchange.getProperty(CLAIM, DeliveryLedger.Claim.class);
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = channel + " outcome unknown: " + ProviderErrors.readable(cause, channel) + "; check whether the customer received it"
                + (claim != null && claim.resend() ? "" : ", and resend if not");
        // The mail's Message-ID (email: Herald gave it): a receipt that names it (SendGrid's delivered, bounce) still finds the
        // delivery and settles what a person would otherwise have to check.
        if (claim != null && ledger.uncertain(claim, reason, exchange.getProperty(MESSAGE_ID, String.class))) {
            metrics.delivery(channel, "UNCERTAIN");
        }
        if (ProviderErrors.unexpected(cause)) {
            log.warn("Delivery {} UNCERTAIN: {}", exchange.getProperty(DELIVERY_ID), reason, cause);
        } else {
            log.warn("Delivery {} UNCERTAIN: {}", exchange.getProperty(DELIVERY_ID), reason);
        }
    }

    /** The row of a delivery that failed before it was claimed (its template does not render). */
    private Long rowOf(Exchange exchange) {
        Long notificationId = exchange.getProperty(DispatchPlanner.NOTIFICATION_ID, Long.class);
        String channel = exchange.getProperty(CHANNEL, String.class);
        if (notificationId == null || channel == null) {
            return null;
        }
        return ledger.open(notificationId, channel).id();
    }

    private void skip(Exchange exchange, long deliveryId, String reason) {
        ledger.skipped(deliveryId, reason);
        metrics.delivery(exchange.getProperty(CHANNEL, String.class), "SKIPPED");
        exchange.setProperty(SKIP, reason);
    }
}
