package io.herald.dispatch;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.DeliverySettings;
import io.herald.digest.DigestMessages;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.ProducerTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * An operator's deliberate resend of one delivery: the only way a second copy reaches a customer.
 * It bypasses both dedup guards on purpose and is an attempt of its own: its own delivery_resend row
 * (who, when, comment, state, outcome), its own provider idempotency key (…:resend-&lt;id&gt;, kept if it
 * is parked and re-driven later) and its own claim, so it never changes the delivery's SENT record.
 * It is claimed atomically before anything is sent: two clicks or two operators give one resend
 * (one in progress at a time, and none again within herald.delivery.resend-guard of one sent).
 */
@Component
public class DeliveryResend {

    /** What the resend did: the resend's state afterwards and its reason. */
    public record Result(long deliveryId, long resendId, String requestedBy, String state, String reason) {
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

    public DeliveryResend(JdbcTemplate jdbc, DeliveryLedger ledger, ProducerTemplate camel, ObjectMapper json,
                          DeliverySettings delivery, DigestMessages digests) {
        this.digests = digests;
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.camel = camel;
        this.json = json;
        this.guard = delivery.resendGuard();
    }

    public Result resend(long deliveryId, String requestedBy, String comment) throws IOException {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT d.notification_id, d.channel, d.state, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical
                FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE d.id = ?""", deliveryId);
        if (rows.isEmpty()) {
            throw new NotResendable("no delivery " + deliveryId, true);
        }
        Map<String, Object> row = rows.get(0);
        if (IN_PROGRESS.contains(row.get("state"))) {
            throw new NotResendable("delivery " + deliveryId + " is " + row.get("state") + ", still in progress; only a settled delivery can be resent", false);
        }
        long resendId = ledger.requestResend(deliveryId, requestedBy, comment, guard)
                .orElseThrow(() -> new NotResendable(alreadyResent(deliveryId), false));
        ledger.attempt(deliveryId, "RESEND", null, "resend " + resendId + " requested by " + requestedBy
                + (comment == null || comment.isBlank() ? "" : ": " + comment));
        CanonicalNotification notification = digests.carrying(((Number) row.get("notification_id")).longValue(),   // a digest's events
                json.readValue(row.get("canonical").toString(), CanonicalNotification.class));
        camel.send("direct:deliver-" + row.get("channel"), exchange -> {
            exchange.setProperty(DispatchPlanner.NOTIFICATION, notification);
            exchange.setProperty(DispatchPlanner.NOTIFICATION_ID, ((Number) row.get("notification_id")).longValue());
            exchange.setProperty(ChannelDelivery.RESEND, resendId);
        });
        Map<String, Object> after = jdbc.queryForMap("SELECT outcome, reason FROM delivery_resend WHERE id = ?", resendId);
        return new Result(deliveryId, resendId, requestedBy, (String) after.get("outcome"), (String) after.get("reason"));
    }

    /** Why a second resend was refused, in words: the one in progress or just sent, by whom and when. */
    private String alreadyResent(long deliveryId) {
        return jdbc.query("""
                SELECT id, requested_by, requested_at, outcome FROM delivery_resend WHERE delivery_id = ?
                ORDER BY id DESC LIMIT 1""", (r, n) -> "delivery " + deliveryId + " was just resent (resend " + r.getLong("id")
                        + " by " + r.getString("requested_by") + " at " + r.getTimestamp("requested_at").toInstant()
                        + ", now " + r.getString("outcome") + "); a second click or a second operator does not send another copy."
                        + " If the customer still needs one, resend again after " + guard.toSeconds() + " seconds", deliveryId)
                .stream().findFirst().orElse("delivery " + deliveryId + " is being resent right now");
    }
}
