package io.herald.dispatch;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.approval.Approvals;
import io.herald.approval.ResendApprovals;
import io.herald.config.DeliverySettings;
import io.herald.digest.DigestMessages;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An operator's deliberate resend of one delivery: the only way a second copy reaches a customer.
 * It bypasses both dedup guards on purpose and is an attempt of its own: its own delivery_resend row
 * (who, when, comment, state, outcome), its own provider idempotency key (…:resend-&lt;id&gt;, kept if it
 * is parked and re-driven later) and its own claim, so it never changes the delivery's SENT record.
 * It is claimed atomically before anything is sent: two clicks or two operators give one resend
 * (one in progress at a time, and none again within herald.delivery.resend-guard of one sent).
 * A resend of a notification whose type needs approval (catalog {@code approval:}, see Approvals) is not sent: it is
 * held for an approver other than the operator who asked (ResendApprovals), and sent by {@link #sendApproved} once approved.
 */
@Component
public class DeliveryResend {

    /**
     * What the resend did: the resend's state afterwards and its reason, and the same in words as an operator counts resends
     * ("2nd resend of delivery 9: awaiting approval"; the id, which counts every delivery's resends, stays in resendId).
     */
    public record Result(long deliveryId, long resendId, String requestedBy, String state, String reason, String message) {
    }

    /** The delivery cannot be resent (unknown, still in progress, or just resent). */
    public static class NotResendable extends RuntimeException {
        final boolean unknown;

        NotResendable(String reason, boolean unknown) {
            super(reason);
            this.unknown = unknown;
        }

        public boolean unknown() {
            return unknown;
        }
    }

    private static final List<String> IN_PROGRESS = List.of("PENDING", "SENDING", "PARKED");

    private final JdbcTemplate jdbc;
    private final DeliveryLedger ledger;
    private final ProducerTemplate camel;
    private final ObjectMapper json;
    private final Duration guard;
    private final DigestMessages digests;
    private final NotificationCatalog catalog;
    private final ResendApprovals approvals;
    private final TransactionTemplate transaction;
    private final io.herald.ledger.LedgerArchive archive;

    public DeliveryResend(JdbcTemplate jdbc, DeliveryLedger ledger, ProducerTemplate camel, ObjectMapper json,
                          DeliverySettings delivery, DigestMessages digests, NotificationCatalog catalog, ResendApprovals approvals,
                          TransactionTemplate transaction, io.herald.ledger.LedgerArchive archive) {
        this.archive = archive;
        this.digests = digests;
        this.catalog = catalog;
        this.approvals = approvals;
        this.transaction = transaction;
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.camel = camel;
        this.json = json;
        this.guard = delivery.resendGuard();
    }

    public Result resend(long deliveryId, String requestedBy, String comment) throws IOException {
        archive.bringBackDelivery(deliveryId);   // an archived one is sent from the working set, like any other
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT d.notification_id, d.channel, d.state, n.type, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE d.id = ?""", deliveryId);
        if (rows.isEmpty()) {
            throw new NotResendable("no delivery " + deliveryId, true);
        }
        Map<String, Object> row = rows.get(0);
        if (IN_PROGRESS.contains(row.get("state"))) {
            throw new NotResendable("delivery " + deliveryId + " is " + row.get("state") + ", still in progress; only a settled delivery can be resent", false);
        }
        long notificationId = ((Number) row.get("notification_id")).longValue();
        String rule = approvalRule((String) row.get("type"), json.readValue(row.get("canonical").toString(), CanonicalNotification.class));
        String asked = " requested by " + requestedBy + (comment == null || comment.isBlank() ? "" : ": " + comment);
        if (rule != null) {
            // Held like the original: the resend row (PENDING, which keeps a second resend out) and its approval stand together.
            return transaction.execute(status -> {
                long resendId = ledger.requestResend(deliveryId, requestedBy, comment, guard)
                        .orElseThrow(() -> new NotResendable(alreadyResent(deliveryId), false));
                java.time.Instant expires = approvals.hold(resendId, deliveryId, notificationId, rule, requestedBy);
                ledger.attempt(deliveryId, "RESEND", null, "resend " + resendId + asked + "; held for approval (" + rule + ")");
                return new Result(deliveryId, resendId, requestedBy, "AWAITING_APPROVAL", "held for approval: " + rule + "; an approver"
                        + " other than " + requestedBy + " approves or rejects it (/console/approvals, POST /api/approvals/resends/"
                        + resendId + "/approve); not decided by " + expires + ", it expires unsent", said(deliveryId, resendId, "AWAITING_APPROVAL"));
            });
        }
        long resendId = ledger.requestResend(deliveryId, requestedBy, comment, guard)
                .orElseThrow(() -> new NotResendable(alreadyResent(deliveryId), false));
        ledger.attempt(deliveryId, "RESEND", null, "resend " + resendId + asked);
        return send(deliveryId, resendId, requestedBy, notificationId, (String) row.get("channel"), row.get("canonical").toString());
    }

    /** Sends a held resend once ResendApprovals approved it, as {@link #resend} sends one that needs no approval. */
    public Result sendApproved(long resendId) throws IOException {
        Map<String, Object> row = jdbc.queryForMap("""
                SELECT r.delivery_id, r.requested_by, d.notification_id, d.channel, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM delivery_resend r JOIN delivery d ON d.id = r.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE r.id = ?""", resendId);
        return send(((Number) row.get("delivery_id")).longValue(), resendId, (String) row.get("requested_by"),
                ((Number) row.get("notification_id")).longValue(), (String) row.get("channel"), row.get("canonical").toString());
    }

    private Result send(long deliveryId, long resendId, String requestedBy, long notificationId, String channel, String canonical)
            throws IOException {
        CanonicalNotification notification = digests.carrying(notificationId,   // a digest's events
                json.readValue(canonical, CanonicalNotification.class));
        // Not waiting for the channel's route if it is not running (block false): see routeNotRunning.
        Exchange sent = camel.send("direct:deliver-" + channel + "?block=false", exchange -> {
            exchange.setProperty(DispatchPlanner.NOTIFICATION, notification);
            exchange.setProperty(DispatchPlanner.NOTIFICATION_ID, notificationId);
            exchange.setProperty(ChannelDelivery.RESEND, resendId);
        });
        if (sent.getException(DirectConsumerNotAvailableException.class) != null) {
            return routeNotRunning(deliveryId, resendId, requestedBy, channel);
        }
        Map<String, Object> after = jdbc.queryForMap("SELECT outcome, reason FROM delivery_resend WHERE id = ?", resendId);
        String outcome = (String) after.get("outcome");
        return new Result(deliveryId, resendId, requestedBy, outcome, (String) after.get("reason"), said(deliveryId, resendId, outcome));
    }

    /**
     * The channel's route (deliver-&lt;channel&gt;) is not running: an operator stopped or suspended it in Hawtio. The resend
     * is kept, parked and due, and sent as that resend by the parked-resends poll once the route runs again; the operator is
     * told so at once. It used to wait for the route for Camel's direct timeout (30 s), then answered "pending".
     */
    private Result routeNotRunning(long deliveryId, long resendId, String requestedBy, String channel) {
        String route = ChannelSenders.routeOf(channel);
        String reason = "route " + route + " is not running (stopped or suspended in Hawtio): the resend is recorded and sent as soon as"
                + " the route is resumed or started there";
        ledger.parkForStoppedRoute(deliveryId, resendId, reason);
        return new Result(deliveryId, resendId, requestedBy, "PARKED", reason,
                place(deliveryId, resendId) + " resend of delivery " + deliveryId + ": recorded, waiting for its route " + route);
    }

    /** Why a resend of this notification needs an approver, as its catalog entry says (null: it is sent at once). */
    private String approvalRule(String type, CanonicalNotification notification) {
        if (!catalog.knows(type)) {
            return null;   // no longer in the catalog: the send says why it cannot go out
        }
        String rule = Approvals.holdReason(catalog.entry(type), notification);
        return rule == null ? null : "a resend of " + rule;
    }

    /** "2nd resend of delivery 9: awaiting approval": the resend by its place among the delivery's resends, and its state in words. */
    private String said(long deliveryId, long resendId, String state) {
        return place(deliveryId, resendId) + " resend of delivery " + deliveryId + ": "
                + (state == null ? "state unknown" : state.toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
    }

    /** The resend's place among this delivery's resends, as people count them ("2nd"), not its id across every delivery. */
    private String place(long deliveryId, long resendId) {
        Integer place = jdbc.queryForObject("SELECT count(*) FROM delivery_resend WHERE delivery_id = ? AND id <= ?", Integer.class,
                deliveryId, resendId);
        return io.herald.console.ResendOrdinals.ordinal(place == null ? 1 : place);
    }

    /** Why a second resend was refused, in words: the one in progress or just sent, by whom and when. */
    private String alreadyResent(long deliveryId) {
        Map<String, Object> held = approvals.awaitingOn(deliveryId).orElse(null);
        if (held != null) {
            return "delivery " + deliveryId + " already has a resend awaiting approval (its " + place(deliveryId, ((Number) held.get("resend_id")).longValue())
                    + " resend, asked for by "
                    + held.get("requested_by") + "); it is sent once an approver approves it, so a second one is not made";
        }
        return jdbc.query("""
                SELECT id, requested_by, requested_at, outcome FROM delivery_resend WHERE delivery_id = ?
                ORDER BY id DESC LIMIT 1""", (r, n) -> "delivery " + deliveryId + " was just resent (its " + place(deliveryId, r.getLong("id"))
                        + " resend, by " + r.getString("requested_by") + " at " + r.getTimestamp("requested_at").toInstant()
                        + ", now " + r.getString("outcome") + "); a second click or a second operator does not send another copy."
                        + " If the customer still needs one, resend again after " + guard.toSeconds() + " seconds", deliveryId)
                .stream().findFirst().orElse("delivery " + deliveryId + " is being resent right now");
    }
}
