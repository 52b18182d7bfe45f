package io.herald.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.herald.config.DeliverySettings;
import io.herald.config.InfrastructureSettings;
import io.herald.config.MailSettings;
import io.herald.kafka.InfrastructureFaults;
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
 * UNCERTAIN moves the notification on to its next channel, as its sender would have, and so does a channel whose sender
 * wrote its outcome and stopped before moving on (ChainsCutOff).
 * <p>
 * A database outage stops every sender's writes as well: a sender that handed its message to the provider waits to write
 * SENT, one that had not yet called waits for its rate-limit permit, and none of them changes its row meanwhile. So after
 * a run that could not reach PostgreSQL, the sweep settles nothing until the database has been answering again (a run
 * checks it) for at least one run's interval and three of the senders' longest pauses between tries (3 ×
 * herald.infrastructure.max-retry-delay-ms): the live senders write their
 * outcome or renew their claim first (ClaimKept), and only the rows of senders that are gone are left for it. Before, an
 * outage longer than herald.delivery.sending-timeout made it settle live sends UNCERTAIN (and first-success then sent the
 * next channel too).
 */
@Component
public class StaleSendings {

    private static final Logger log = LoggerFactory.getLogger(StaleSendings.class);

    private final DeliveryLedger ledger;
    private final Duration timeout;
    private final HeraldMetrics metrics;
    private final CutOffCalls cutOffCalls;
    private final ChannelSenders senders;
    private final ChainsCutOff chainsCutOff;
    private final Duration afterOutage;
    /** The domain of the Message-ID an email cut off by a crash was given (EmailMessage). */
    private final String messageIdDomain;
    /** Since when (System.nanoTime) the database answers again after a run that could not reach it; null: no outage to wait out. */
    private volatile Long reachableSince;
    private volatile boolean unreachable;

    public StaleSendings(DeliveryLedger ledger, DeliverySettings delivery, InfrastructureSettings infrastructure, HeraldMetrics metrics,
                         CutOffCalls cutOffCalls, ChannelSenders senders, ChainsCutOff chainsCutOff, MailSettings mail) {
        this.messageIdDomain = EmailMessage.domainOf(mail.from());
        this.senders = senders;
        this.chainsCutOff = chainsCutOff;
        this.afterOutage = Duration.ofMillis(3 * infrastructure.maxRetryDelayMs());
        this.metrics = metrics;
        this.cutOffCalls = cutOffCalls;
        this.ledger = ledger;
        this.timeout = delivery.sendingTimeout();
    }

    public void sweep() {
        List<Map<String, Object>> settled;
        try {
            if (waitingAfterOutage()) {
                return;
            }
            settled = ledger.settleStale(timeout, cutOffCalls.resentChannels(), messageIdDomain);
            chainsCutOff.follow();
        } catch (RuntimeException e) {
            if (InfrastructureFaults.isInfrastructure(e)) {
                unreachable = true;
            }
            throw e;
        }
        for (Map<String, Object> row : settled) {
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

    /**
     * True while the database has answered again for less than {@link #afterOutage} after a run that could not reach it.
     * The first run after such a run only asks PostgreSQL whether it answers (a failure propagates: still down) and settles
     * nothing, so the wait is counted from a moment it is known to answer and always lasts at least one run's interval.
     */
    private boolean waitingAfterOutage() {
        if (unreachable) {
            ledger.ping();
            unreachable = false;
            reachableSince = System.nanoTime();
            log.info("Stale sendings: PostgreSQL answers again; deliveries left SENDING are settled again in {} s at the earliest, once"
                    + " live senders have written what they were waiting to write", afterOutage.toSeconds());
            return true;
        }
        if (reachableSince != null && System.nanoTime() - reachableSince < afterOutage.toNanos()) {
            return true;
        }
        reachableSince = null;
        return false;
    }
}
