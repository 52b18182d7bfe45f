package io.herald.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.herald.ledger.DeliveryLedger;
import io.herald.ops.HeraldMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Deliveries left in SENDING by a crash (kill -9 between handing a message to the provider and
 * recording the answer). An email's outcome cannot be known, and email has no idempotency key a
 * server honours, so it becomes UNCERTAIN: flagged for a person to check, never silently sent
 * again (at most once). The other channels carry an Idempotency-Key the provider (or the inbox
 * table) deduplicates by, so they are PARKED for an immediate re-drive with the same key.
 */
@Component
public class StaleSendings {

    private static final Logger log = LoggerFactory.getLogger(StaleSendings.class);

    private final JdbcTemplate jdbc;
    private final DeliveryLedger ledger;
    private final Duration timeout;
    private final HeraldMetrics metrics;

    public StaleSendings(JdbcTemplate jdbc, DeliveryLedger ledger, @Value("${herald.delivery.sending-timeout}") Duration timeout,
                         HeraldMetrics metrics) {
        this.metrics = metrics;
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.timeout = timeout;
    }

    public void sweep() {
        List<Map<String, Object>> stale = jdbc.queryForList("""
                UPDATE delivery SET
                  state = CASE WHEN channel = 'email' THEN 'UNCERTAIN' ELSE 'PARKED' END,
                  next_attempt_at = CASE WHEN channel = 'email' THEN NULL ELSE now() END,
                  reason = CASE WHEN channel = 'email'
                    THEN 'email outcome unknown: Herald stopped while handing it to the SMTP server at ' || updated_at
                         || '; check whether the customer received it, and resend if not'
                    ELSE channel || ' outcome unknown: Herald stopped while calling the provider at ' || updated_at
                         || '; sent again with the same idempotency key' END,
                  failed_at = CASE WHEN channel = 'email' THEN COALESCE(failed_at, now()) ELSE failed_at END,
                  updated_at = now()
                WHERE id IN (SELECT id FROM delivery WHERE state = 'SENDING' AND updated_at < now() - make_interval(secs => ?)
                             FOR UPDATE SKIP LOCKED)
                RETURNING id, channel, state, reason""", timeout.toSeconds());
        for (Map<String, Object> row : stale) {
            ledger.attempt(((Number) row.get("id")).longValue(), (String) row.get("state"), null, (String) row.get("reason"));
            metrics.delivery((String) row.get("channel"), (String) row.get("state"));
            log.warn("Delivery {} was left SENDING: now {}", row.get("id"), row.get("state"));
        }
    }
}
