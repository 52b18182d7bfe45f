package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.DeliveryLedger.UnfollowedStep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * First-success notifications whose chain a crash cut: a channel's sender wrote FAILED, UNCERTAIN or SKIPPED and stopped
 * (kill -9, or an error) before queueing the next channel, so the customer would get nothing although another channel was
 * to be tried. The next channel is the one recorded on the delivery when it was queued or held (delivery.next_channel), not
 * today's catalog, so a channel added to a type later is never sent for older notifications. Each run of the
 * stale-sendings sweep looks at the steps that ended since its last look (after a start, the last 24 hours) and at least a
 * minute ago (the sender's own move comes first), by the database's clock, and queues each missing next channel as the
 * sender would have. Queueing is idempotent (one row per notification and channel), so several instances may look at once.
 * A delivery held for an approval, quiet hours, an appointment's schedule or an operator keeps the next channel it had
 * when it was held; a reminder withdrawn with its appointment no longer names one (ScheduledSends.withdrawFired).
 */
@Component
public class ChainsCutOff {

    /** How far back the first look after a start goes: a Herald down longer than this leaves such chains to an operator. */
    static final Duration LOOKBACK = Duration.ofHours(24);
    /** A step this recent is left to its own sender. */
    static final Duration GRACE = Duration.ofMinutes(1);
    /** Each look starts this much before where the last one ended (transactions that committed late). */
    private static final Duration OVERLAP = Duration.ofSeconds(30);
    private static final int BATCH = 500;
    private static final int MAX_BATCHES = 20;

    private static final Logger log = LoggerFactory.getLogger(ChainsCutOff.class);

    private final DeliveryLedger ledger;
    private final ChannelSenders senders;
    /** Where the last complete look ended, by the database's clock; null: not looked yet since the start. */
    private volatile Instant lookedUntil;

    public ChainsCutOff(DeliveryLedger ledger, ChannelSenders senders) {
        this.ledger = ledger;
        this.senders = senders;
    }

    /** Queues the next channel of every cut chain found; returns how many. */
    public int follow() {
        Instant lookingUntil = ledger.databaseNowLess(GRACE);
        Instant from = lookedUntil == null ? ledger.databaseNowLess(LOOKBACK) : lookedUntil.minus(OVERLAP);
        int followed = 0;
        for (int batch = 0; batch < MAX_BATCHES; batch++) {
            List<UnfollowedStep> found = ledger.unfollowedSteps(from, GRACE, BATCH);
            for (UnfollowedStep step : found) {
                log.warn("Notification {} ({}, strategy first-success): its {} delivery ended {} at {} but its next channel ({}) was"
                        + " never queued (Herald stopped or failed in between): queued now", step.notificationId(), step.type(), step.channel(),
                        step.state(), step.endedAt(), step.nextChannel());
                senders.queueNext(step.notificationId(), step.type(), step.customerId(), step.nextChannel());
                followed++;
            }
            if (found.size() < BATCH) {
                // A followed step no longer matches, so a full batch is followed by the next ones; a short one was the last.
                lookedUntil = lookingUntil;
                break;
            }
        }
        return followed;
    }
}
