package io.herald.dispatch;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import org.apache.camel.ProducerTemplate;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * An operator's deliberate resend of one delivery: the only way a second copy reaches a customer.
 * It bypasses both dedup guards on purpose, carries its own provider idempotency key
 * (…:resend-&lt;id&gt;), and is recorded (who, when, comment, outcome) before anything is sent.
 */
@Component
public class DeliveryResend {

    /** What the resend did: the delivery's state afterwards and its reason. */
    public record Result(long deliveryId, long resendId, String requestedBy, String state, String reason) {
    }

    /** The delivery cannot be resent (unknown, or still in progress). */
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

    public DeliveryResend(JdbcTemplate jdbc, DeliveryLedger ledger, ProducerTemplate camel, ObjectMapper json) {
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.camel = camel;
        this.json = json;
    }

    public Result resend(long deliveryId, String requestedBy, String comment) throws IOException {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT d.notification_id, d.channel, d.state, n.canonical::text AS canonical
                FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE d.id = ?""", deliveryId);
        if (rows.isEmpty()) {
            throw new NotResendable("no delivery " + deliveryId, true);
        }
        Map<String, Object> row = rows.get(0);
        if (IN_PROGRESS.contains(row.get("state"))) {
            throw new NotResendable("delivery " + deliveryId + " is " + row.get("state") + ", still in progress; only a settled delivery can be resent", false);
        }
        long resendId = jdbc.queryForObject("INSERT INTO delivery_resend (delivery_id, requested_by, comment) VALUES (?, ?, ?) RETURNING id",
                Long.class, deliveryId, requestedBy, comment);
        ledger.attempt(deliveryId, "RESEND", null, "resend " + resendId + " requested by " + requestedBy
                + (comment == null || comment.isBlank() ? "" : ": " + comment));
        CanonicalNotification notification = json.readValue(row.get("canonical").toString(), CanonicalNotification.class);
        camel.send("direct:deliver-" + row.get("channel"), exchange -> {
            exchange.setProperty(DispatchPlanner.NOTIFICATION, notification);
            exchange.setProperty(DispatchPlanner.NOTIFICATION_ID, ((Number) row.get("notification_id")).longValue());
            exchange.setProperty(ChannelDelivery.RESEND, resendId);
        });
        Map<String, Object> after = jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", deliveryId);
        String state = (String) after.get("state");
        String reason = (String) after.get("reason");
        jdbc.update("UPDATE delivery_resend SET outcome = ?, reason = ? WHERE id = ?", state, reason, resendId);
        return new Result(deliveryId, resendId, requestedBy, state, reason);
    }
}
