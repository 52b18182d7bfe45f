package io.herald.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.LockSupport;

import io.herald.ledger.ClaimedForSending;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The rate-limit step of every channel route, just before the provider call: waits, on the channel's
 * own sender thread, until the channel's shared bucket (ProviderRateLimits, one per channel for all
 * instances) grants a permit, so the provider never sees more than the channel's rate-per-second from
 * all instances together. Taken right before the call (not when the delivery was claimed), so the time
 * from grant to request stays short and a burst at the provider cannot build up on the way.
 *
 * <p>Permits are reserved ahead, in the transaction that claims deliveries for sending ({@link #claimed}, called by
 * DeliveryLedger's group commit): one permit per claimed delivery, so the permits of a group of deliveries cost no
 * transaction of their own. A sender that finds no permit reserved and unused (its group's reservation found the
 * bucket's row busy, or the rate reserved far ahead) reserves as many as sender threads wait in this step (at most a
 * quarter second of the rate) in a transaction of its own ({@link ProviderRateLimits#reserve}). Either way the bucket
 * lends them ahead of its refill and says when each becomes usable, and each sender waits on its own thread until its
 * permit's instant, so the provider sees the bucket's spacing. A reserved permit nobody used within {@link #USE_WITHIN_MS}
 * of its instant is dropped, not handed back: the bucket is in debt for the permits it lent, and one handed back
 * would move later reservations onto permits other senders hold (a test saw 21 in a second at a rate of 20). The
 * database unreachable: the exception propagates and the step is retried like any other infrastructure fault.
 *
 * <p>An HTTP channel's permit is checked once more where the request is written ({@link #confirmAtWire},
 * called by {@link PermitAtTheWire} inside the HTTP client, after the connection was leased): a thread
 * held up between the rate-limit step and the write (a busy machine, a garbage collection, a slow
 * request builder) would otherwise send on a permit granted long before, and the provider would count
 * it in a later second than the bucket did. A permit older than {@link #USE_WITHIN_MS} by then is given
 * dropped (see below) and a fresh one taken, so what the provider receives keeps the bucket's spacing.
 */
@Component
public class ProviderPermits implements ClaimedForSending {

    private static final Logger log = LoggerFactory.getLogger(ProviderPermits.class);

    static final long USE_WITHIN_MS = 40;
    /** A reservation is refused if its last permit would come later than this: others have reserved that far ahead. */
    private static final java.time.Duration RESERVE_AHEAD = java.time.Duration.ofSeconds(2);
    private static final long RESERVED_OUT_WAIT_MS = 50;

    private final ProviderRateLimits rateLimits;
    private final Map<String, Deque<Long>> granted = new ConcurrentHashMap<>();
    /**
     * Guards a channel's granted permits and its takes from the shared bucket. A lock that parks its waiters
     * at once: with a JVM monitor, dozens of sender threads spun on the CPU while one took permits from
     * PostgreSQL (a profile of the throughput benchmark found most of the senders' CPU in system time).
     */
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Sender threads in the rate-limit step, per channel: a reservation asks for as many (up to a quarter second of the rate). */
    private final Map<String, AtomicInteger> waiting = new ConcurrentHashMap<>();
    /**
     * Deliveries a sender thread has begun ({@link #onItsWay}) and that have not reached the rate-limit step yet, per
     * channel: they want a permit in a moment. Their permits are normally reserved with their claims; when a sender
     * reserves on its own (those were used up or too old by the time it came), it also takes, for them, what the bucket
     * holds now, so the next ones find a permit instead of a transaction each.
     */
    private final Map<String, AtomicInteger> coming = new ConcurrentHashMap<>();
    /** The channel of the delivery this thread has begun and not yet brought to the rate-limit step (counted in coming). */
    private final ThreadLocal<String> onItsWay = new ThreadLocal<>();
    /** The permit this thread took last and has not yet sent on: checked again where the HTTP request is written. */
    private final ThreadLocal<Grant> taken = new ThreadLocal<>();
    /**
     * Sender threads holding a permit they have not sent on yet, per channel (between the rate-limit step and the wire):
     * on a busy machine their permits may be too old by the time they write, so a sender that must take a fresh one at
     * the wire also takes, for them, what the bucket holds now.
     */
    private final Map<String, AtomicInteger> holding = new ConcurrentHashMap<>();
    private final AtomicLong retakenAtWire = new AtomicLong();
    /** Reserved permits whose instant passed with no sender to use them (lost throughput, never a breach). */
    private final AtomicLong dropped = new AtomicLong();

    /** A permit of the channel, granted by the shared bucket at grantedAt (epoch millis). */
    private record Grant(String channel, long grantedAt) {
    }

    public ProviderPermits(ProviderRateLimits rateLimits) {
        this.rateLimits = rateLimits;
    }

    /**
     * In the transaction that claims deliveries for sending (DeliveryLedger's group commit), just before it commits:
     * reserves a permit for each claimed delivery of a rate-limited channel, as many as come within {@link #RESERVE_AHEAD}, so the deliveries find
     * them at their rate-limit step and no reservation needs a transaction of its own (issue 17). The permits are given
     * out only once the claims have committed (a rolled-back group reserved nothing); what could not be reserved here
     * (another instance holding the bucket's row, the rate reserved further ahead) the deliveries reserve themselves.
     */
    @Override
    public void claimed(Map<String, Integer> claimedPerChannel) {
        claimedPerChannel.forEach((channel, count) -> {
            if (!rateLimits.limits(channel)) {
                return;
            }
            // Reserved just before the commit, not now: the bucket's row stays locked from the reservation to the commit
            // (another instance's reservation waits meanwhile), and the permits' instants come as close as they can to
            // the moment the senders get them.
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                private ProviderRateLimits.Reserved reserved = ProviderRateLimits.Reserved.NONE;

                @Override
                public void beforeCommit(boolean readOnly) {
                    reserved = rateLimits.reserveInTransaction(channel, Math.min(count, maxPerReservation(channel)), RESERVE_AHEAD);
                }

                @Override
                public void afterCommit() {
                    if (reserved.count() > 0) {
                        give(channel, reserved.asOf(nowNanos()));
                    }
                }
            });
        });
    }

    /** Reserved permits, committed, for this instance's senders of the channel to use in order. */
    private void give(String channel, long[] instants) {
        Deque<Long> permits = granted.computeIfAbsent(channel, c -> new ArrayDeque<>());
        ReentrantLock lock = locks.computeIfAbsent(channel, c -> new ReentrantLock());
        lock.lock();
        try {
            for (long instant : instants) {
                permits.addLast(instant);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * This sender thread has begun a delivery of the channel (ChannelSenders.resume): it will want a permit shortly.
     * Ends at its {@link #acquire}, or at {@link #leave} if it never gets there (suppressed, failed before the call).
     */
    public void onItsWay(String channel) {
        leave();
        coming.computeIfAbsent(channel, c -> new AtomicInteger()).incrementAndGet();
        onItsWay.set(channel);
    }

    /** The delivery this thread began is finished or at the rate-limit step: no longer counted as on its way. */
    public void leave() {
        String channel = onItsWay.get();
        if (channel != null) {
            onItsWay.remove();
            coming.get(channel).decrementAndGet();
        }
        release();
    }

    /** This thread's permit, noted until it is sent on or dropped (counted in holding). */
    private void hold(Grant grant) {
        release();
        holding.computeIfAbsent(grant.channel(), c -> new AtomicInteger()).incrementAndGet();
        taken.set(grant);
    }

    /** This thread's permit, if it holds one: no longer held (sent on, found too old, or the delivery is done). */
    private Grant release() {
        Grant grant = taken.get();
        if (grant != null) {
            taken.remove();
            holding.get(grant.channel()).decrementAndGet();
        }
        return grant;
    }

    /** Returns once this call may go to the channel's provider: at the instant of the permit it was given. */
    public void acquire(String channel) {
        String begun = onItsWay.get();
        if (begun != null) {
            onItsWay.remove();
            coming.get(begun).decrementAndGet();
        }
        AtomicInteger waiters = waiting.computeIfAbsent(channel, c -> new AtomicInteger());
        waiters.incrementAndGet();
        try {
            long usableAt = permitInstant(channel, waiters);
            for (long delay = usableAt - nowNanos(); delay > 0 && !Thread.currentThread().isInterrupted(); delay = usableAt - nowNanos()) {
                LockSupport.parkNanos(delay);
            }
            hold(new Grant(channel, TimeUnit.NANOSECONDS.toMillis(usableAt)));
        } finally {
            waiters.decrementAndGet();
        }
    }

    /**
     * Right before this thread's provider request is written: if the permit it took in the rate-limit
     * step became usable more than {@link #USE_WITHIN_MS} ago, drops it (unused, and never handed back: see
     * permitInstant) and takes a fresh one, waiting if need be. Once per permit; nothing to do for a call that
     * took no permit.
     */
    public void confirmAtWire() {
        Grant grant = release();
        if (grant == null || System.currentTimeMillis() - grant.grantedAt() <= USE_WITHIN_MS) {
            return;
        }
        // Not handed back (see permitInstant): the permit is lost, and the call waits for a fresh one.
        long retaken = retakenAtWire.incrementAndGet();
        if (retaken % 100 == 1) {
            log.info("{}: a rate-limit permit was {} ms old where its request was to be written (more than {} ms: a busy machine);"
                    + " taken again so the provider sees the rate ({} such permits since start)", grant.channel(),
                    System.currentTimeMillis() - grant.grantedAt(), USE_WITHIN_MS, retaken);
        }
        acquire(grant.channel());
        release();
    }

    /** Reserved permits dropped unused since start: their instant passed with no sender ready (lost throughput only). */
    public long droppedUnused() {
        return dropped.get();
    }

    /** How many permits were found too old where the request was written and taken again (since start). */
    public long retakenAtWire() {
        return retakenAtWire.get();
    }

    /**
     * The instant (wall-clock epoch nanos) at which this thread may use its permit: the next one reserved and not
     * yet given out, or, when there is none, the first of a new reservation for as many as wait (one transaction).
     * Reserved permits whose instant passed more than {@link #USE_WITHIN_MS} ago without a taker are dropped. A reservation is for every sender thread in the rate-limit step, including those
     * already waiting for their permit's instant (each of them will want the next one as soon as its call is made), and
     * takes what the bucket holds now for the deliveries on their way to it ({@link #onItsWay}; their own permits,
     * reserved with their claims ({@link #claimed}), may be used up or too old by the time they come) and for the
     * senders holding a permit not yet sent on (it may be too old at the wire). When the bucket is in debt the permits it lends are
     * spread one refill interval apart, so one on its way that comes late finds a later permit, not a dropped one; the
     * permits of a full bucket are all usable at once, and those not taken within {@link #USE_WITHIN_MS} are dropped
     * (the rate was not binding then).
     */
    private long permitInstant(String channel, AtomicInteger waiters) {
        Deque<Long> permits = granted.computeIfAbsent(channel, c -> new ArrayDeque<>());
        ReentrantLock lock = locks.computeIfAbsent(channel, c -> new ReentrantLock());
        while (true) {
            lock.lock();
            try {
                long now = nowNanos();
                // Never handed back: the bucket lent them ahead of its refill, and a permit handed back while it is in
                // debt would move every later reservation earlier, onto permits other senders already hold.
                while (!permits.isEmpty() && now - permits.peekFirst() > TimeUnit.MILLISECONDS.toNanos(USE_WITHIN_MS)) {
                    permits.pollFirst();
                    dropped.incrementAndGet();
                }
                if (permits.isEmpty()) {
                    int wanted = Math.min(maxPerReservation(channel), Math.max(1, waiters.get()));
                    int extra = Math.min(maxPerReservation(channel) - wanted, count(coming, channel) + count(holding, channel));
                    for (long instant : rateLimits.reserve(channel, wanted, extra, RESERVE_AHEAD)) {
                        permits.addLast(instant);
                    }
                }
                if (!permits.isEmpty()) {
                    return permits.pollFirst();
                }
            } finally {
                lock.unlock();
            }
            // Others (senders here or other instances) have reserved more than RESERVE_AHEAD: ask again shortly.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(RESERVED_OUT_WAIT_MS));
        }
    }

    private static int count(Map<String, AtomicInteger> counts, String channel) {
        AtomicInteger count = counts.get(channel);
        return count == null ? 0 : Math.max(0, count.get());
    }

    /** At most a quarter of a second of the channel's rate per reservation, at least what the bucket holds. */
    private int maxPerReservation(String channel) {
        return (int) Math.max(rateLimits.maxPerTake(channel), Math.min(Integer.MAX_VALUE, rateLimits.ratePerSecond(channel) / 4));
    }

    private static long nowNanos() {
        return ProviderRateLimits.wallClockNanos();
    }
}
