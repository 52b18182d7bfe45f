package io.herald.dispatch;

import java.time.Duration;
import java.util.Map;

import io.herald.config.DeliverySettings;
import io.herald.ledger.DeliveryLedger;
import io.herald.ops.HeraldMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Deliveries left in SENDING by a crash (kill -9 between handing a message to the provider and
 * recording the answer). Its outcome cannot be known. An email, and a call on an HTTP channel whose
 * provider does not honour the Idempotency-Key (CutOffCalls: herald.&lt;channel&gt;.resend-cut-off-calls
 * false, the default), becomes UNCERTAIN: flagged for a person to check, never silently sent again (at
 * most once). In-app (the inbox table deduplicates) and an HTTP channel configured to re-send are
 * PARKED for an immediate re-drive with the same key. Resends are
 * settled the same way, on their own rows. The claim of the cut-off attempt is withdrawn, so an
 * answer still arriving for it changes nothing (DeliveryLedger.settleStale). A resend recorded (or approved) and never
 * started, because Herald stopped before claiming it, is PARKED and due at once (DeliveryLedger.driveStrandedResends):
 * nothing was sent for it, so it is sent, as that resend, with its own key. With strategy first-success, a channel settled
 * UNCERTAIN moves the notification on to its next channel, as its sender would have.
 */
@Component
public class StaleSendings {

    private static final Logger log = LoggerFactory.getLogger(StaleSendings.class);

    private final DeliveryLedger ledger;
    private final Duration timeout;
    private final HeraldMetrics metrics;
    private final CutOffCalls cutOffCalls;
    private final ChannelSenders senders;

    public StaleSendings(DeliveryLedger ledger, DeliverySettings delivery, HeraldMetrics metrics, CutOffCalls cutOffCalls,
                         ChannelSenders senders) {
        this.senders = senders;
        this.metrics = metrics;
        this.cutOffCalls = cutOffCalls;
        this.ledger = ledger;
        this.timeout = delivery.sendingTimeout();
    }

    public void sweep() {
        for (Map<String, Object> row : ledger.settleStale(timeout, cutOffCalls.resentChannels())) {
            metrics.delivery((String) row.get("channel"), (String) row.get("state"));
            log.warn("Delivery {} was left SENDING: now {}", row.get("id"), row.get("state"));
            if (row.get("notification_id") != null) {
                // First-success: an UNCERTAIN channel does not count as sent, so the next one is tried (its sender is gone).
                senders.moveOn(((Number) row.get("notification_id")).longValue(), (String) row.get("type"), (String) row.get("customer_id"),
                        (String) row.get("channel"), (String) row.get("state"));
            }
        }
        for (Map<String, Object> row : ledger.driveStrandedResends(timeout)) {
            log.warn("Resend {} of delivery {} was recorded but never started (Herald stopped before sending it): parked, due now",
                    row.get("id"), row.get("delivery_id"));
        }
    }
}
