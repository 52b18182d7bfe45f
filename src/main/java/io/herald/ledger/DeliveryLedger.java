package io.herald.ledger;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * One ledger row per notification x channel, with its state, timestamps, the rendered message
 * (already masked by the caller) and the reason for any outcome other than SENT. The unique
 * (notification, channel) pair is the second dedup guard: a redelivered notification finds its
 * delivery already done and does not send again.
 */
@Component
public class DeliveryLedger {

    /** States after which the channel is never sent again, except by an audited resend. */
    static final Set<String> SETTLED = Set.of("SENDING", "SENT", "DELIVERED", "BOUNCED", "SKIPPED", "FAILED", "DISMISSED", "UNCERTAIN");
    /** Creates the row SENDING, or moves a row that is not settled (or any row, for a resend) to SENDING. */
    private static final String CLAIM_FOR_SENDING = """
            INSERT INTO delivery (notification_id, channel, state, recipient_masked, subject, rendered_body, attempts)
            VALUES (?, ?, 'SENDING', ?, ?, ?, 1)
            ON CONFLICT (notification_id, channel) DO UPDATE SET state = 'SENDING', recipient_masked = EXCLUDED.recipient_masked,
                   subject = EXCLUDED.subject, rendered_body = EXCLUDED.rendered_body, attempts = delivery.attempts + 1, updated_at = now()
            WHERE ? OR delivery.state NOT IN (%s)
            RETURNING id""".formatted(SETTLED.stream().sorted().map(state -> "'" + state + "'").collect(Collectors.joining(", ")));

    public record Delivery(long id, String state) {
        public boolean settled() {
            return SETTLED.contains(state);
        }
    }

    private final JdbcTemplate jdbc;

    public DeliveryLedger(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * The delivery row, created PENDING if new, with its current state (for a delivery that is not to
     * be sent, or whose claim found it settled): one round trip (the no-op update on a conflict only
     * makes RETURNING give back the existing row, state unchanged).
     */
    public Delivery open(long notificationId, String channel) {
        return jdbc.queryForObject("""
                INSERT INTO delivery (notification_id, channel, state) VALUES (?, ?, 'PENDING')
                ON CONFLICT (notification_id, channel) DO UPDATE SET channel = EXCLUDED.channel RETURNING id, state""",
                (row, n) -> new Delivery(row.getLong("id"), row.getString("state")), notificationId, channel);
    }

    /**
     * Claims the delivery for a send, with what is about to be sent, in one round trip: the row is
     * created SENDING, or a row that is not settled (PENDING, RETRYING, PARKED) moves to SENDING. A
     * settled row is left exactly as it is and nothing is returned, unless this is an operator's
     * resend, which claims it whatever its state.
     */
    public Optional<Long> claimForSending(long notificationId, String channel, String recipientMasked, String subject,
                                          String renderedBody, boolean resend) {
        return jdbc.queryForList(CLAIM_FOR_SENDING, Long.class,
                notificationId, channel, recipientMasked, subject, renderedBody, resend).stream().findFirst();
    }

    /** The channel this notification was already sent on, if any (first-success strategy stops there). */
    public String sentChannel(long notificationId) {
        return jdbc.query("SELECT channel FROM delivery WHERE notification_id = ? AND state IN ('SENT', 'DELIVERED') ORDER BY sent_at LIMIT 1",
                (row, n) -> row.getString(1), notificationId).stream().findFirst().orElse(null);
    }

    /** Sent: the state, the provider's id, and the attempt (with the provider's status, if it gave one). */
    public void sent(long deliveryId, String providerMessageId, Integer providerStatus) {
        // Both rows in one statement (one round trip): the state change and its attempt.
        jdbc.update("""
                WITH sent AS (UPDATE delivery SET state = 'SENT', provider_message_id = ?, reason = NULL, next_attempt_at = NULL,
                                     sent_at = now(), updated_at = now() WHERE id = ? RETURNING id)
                INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) SELECT id, 'SENT', ?, ? FROM sent""",
                providerMessageId, deliveryId, providerStatus, providerMessageId);
    }

    public void skipped(long deliveryId, String reason) {
        jdbc.update("UPDATE delivery SET state = 'SKIPPED', reason = ?, updated_at = now() WHERE id = ?", reason, deliveryId);
    }

    /** How often this delivery has been parked so far. */
    public int parkedCount(long deliveryId) {
        return jdbc.queryForObject("SELECT parked_count FROM delivery WHERE id = ?", Integer.class, deliveryId);
    }

    /** Parked until its next attempt, and the attempt that led to it kept with the same reason. */
    public void parked(long deliveryId, String reason, Instant nextAttemptAt, Integer providerStatus) {
        jdbc.update("UPDATE delivery SET state = 'PARKED', reason = ?, next_attempt_at = ?, parked_count = parked_count + 1,"
                + " updated_at = now() WHERE id = ?", reason, Timestamp.from(nextAttemptAt), deliveryId);
        attempt(deliveryId, "PARKED", providerStatus, reason);
    }

    /**
     * Claims parked deliveries that are due, for this instance: their next attempt moves a lease
     * ahead so another instance (or the next poll) does not take them while they run.
     */
    public List<Map<String, Object>> claimDueParked(int limit, Duration lease) {
        return jdbc.queryForList("""
                UPDATE delivery SET next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
                WHERE id IN (SELECT id FROM delivery WHERE state = 'PARKED' AND next_attempt_at <= now()
                             ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED)
                RETURNING id, notification_id, channel""", lease.toSeconds(), limit);
    }

    /** One attempt of a delivery, kept with its outcome, the provider's status and the reason. */
    public void attempt(long deliveryId, String outcome, Integer providerStatus, String reason) {
        jdbc.update("INSERT INTO delivery_attempt (delivery_id, outcome, provider_status, reason) VALUES (?, ?, ?, ?)",
                deliveryId, outcome, providerStatus, reason);
    }

    /** Failed for good, and the attempt that ended it kept with the same reason. */
    public void failed(long deliveryId, String reason, Integer providerStatus) {
        jdbc.update("UPDATE delivery SET state = 'FAILED', reason = ?, next_attempt_at = NULL, failed_at = COALESCE(failed_at, now()),"
                + " updated_at = now() WHERE id = ?",
                reason, deliveryId);
        attempt(deliveryId, "FAILED", providerStatus, reason);
    }

    /**
     * An operator's retry of a delivery that failed or is parked: queued for an attempt now through
     * the parked-deliveries route, with the same provider idempotency key and a fresh park schedule.
     * Returns false when the delivery is not (or no longer) in a retryable state.
     */
    public boolean queueRetry(long deliveryId, String reason) {
        return jdbc.update("UPDATE delivery SET state = 'PARKED', reason = ?, next_attempt_at = now(), parked_count = 0,"
                + " updated_at = now() WHERE id = ? AND state IN ('FAILED', 'PARKED')", reason, deliveryId) == 1;
    }

    /** An operator decided this delivery needs nothing more; final, with their reason. */
    public boolean dismiss(long deliveryId, String reason) {
        return jdbc.update("UPDATE delivery SET state = 'DISMISSED', reason = ?, next_attempt_at = NULL, updated_at = now()"
                + " WHERE id = ? AND state IN ('FAILED', 'PARKED', 'UNCERTAIN')", reason, deliveryId) == 1;
    }
}
