package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.herald.ledger.DeliveryLedger;
import io.herald.ledger.DeliveryLedger.UnfollowedStep;
import io.herald.notification.NotificationCatalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * First-success notifications whose chain a crash cut: a channel ended FAILED, UNCERTAIN or SKIPPED and its sender stopped
 * (kill -9, or an error) before queueing the next channel, so the customer would get nothing although the catalog names
 * another channel. Each run of the stale-sendings sweep looks at the steps that ended since its last look (at startup, the
 * last 24 hours) and at least a minute ago (the sender's own move comes first), and queues the next channel of each one
 * that has no row, as its sender would have. Queueing is idempotent (one row per notification and channel), so several
 * instances may look at once.
 */
@Component
public class ChainsCutOff {

    /** How far back the first look after a start goes: a Herald down longer than this leaves such chains to an operator. */
    static final Duration LOOKBACK = Duration.ofHours(24);
    /** A step this recent is left to its own sender. */
    static final Duration GRACE = Duration.ofMinutes(1);
    /** Each look starts this much before where the last one ended (clocks, transactions that committed late). */
    private static final Duration OVERLAP = Duration.ofSeconds(30);
    private static final int BATCH = 500;
    private static final int MAX_BATCHES = 20;

    private static final Logger log = LoggerFactory.getLogger(ChainsCutOff.class);

    private final DeliveryLedger ledger;
    private final NotificationCatalog catalog;
    private final ChannelSenders senders;
    private volatile Instant lookedUntil = Instant.now().minus(LOOKBACK);

    public ChainsCutOff(DeliveryLedger ledger, NotificationCatalog catalog, ChannelSenders senders) {
        this.ledger = ledger;
        this.catalog = catalog;
        this.senders = senders;
    }

    /** Queues the next channel of every cut chain found; returns how many. */
    public int follow() {
        Instant lookingUntil = Instant.now().minus(GRACE);
        List<String[]> steps = steps();
        int followed = 0;
        for (int batch = 0; batch < MAX_BATCHES; batch++) {
            List<UnfollowedStep> found = ledger.unfollowedSteps(steps, lookedUntil.minus(OVERLAP), GRACE, BATCH);
            for (UnfollowedStep step : found) {
                log.warn("Notification {} ({}, strategy first-success): its {} delivery ended {} at {} but its next channel was never"
                        + " queued (Herald stopped or failed in between): queued now", step.notificationId(), step.type(), step.channel(), step.state(),
                        step.endedAt());
                senders.moveOn(step.notificationId(), step.type(), step.customerId(), step.channel(), step.state());
                followed++;
            }
            if (found.size() < BATCH) {
                // Queued steps no longer match, so a full batch is followed by the next ones; a short one was the last.
                lookedUntil = lookingUntil;
                break;
            }
        }
        return followed;
    }

    /** Every first-success type's channel that has a next one in the catalog: {type, channel, next channel}. */
    private List<String[]> steps() {
        List<String[]> steps = new ArrayList<>();
        for (NotificationCatalog.Entry entry : catalog.entries()) {
            if (entry.firstSuccess()) {
                List<String> channels = entry.channels();
                for (int i = 0; i + 1 < channels.size(); i++) {
                    steps.add(new String[] {entry.type(), channels.get(i), channels.get(i + 1)});
                }
            }
        }
        return steps;
    }
}
