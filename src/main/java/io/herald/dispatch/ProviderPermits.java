package io.herald.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The rate-limit step of every channel route, just before the provider call: waits, on the channel's
 * own sender thread, until the channel's shared bucket (ProviderRateLimits, one per channel for all
 * instances) grants a permit, so the provider never sees more than the channel's rate-per-second from
 * all instances together. Taken right before the call (not when the delivery was claimed), so the time
 * from grant to request stays short and a burst at the provider cannot build up on the way.
 *
 * <p>A channel with a high rate takes several permits per database round trip, as many as sender threads
 * wait for one (never more than the bucket grants at once), so a lone delivery takes one; a permit not used
 * within {@link #USE_WITHIN_MS} of its grant is given back, never used late (ProviderRateLimits keeps
 * its cap with a 50 ms margin between grant and request). The database unreachable: the exception
 * propagates and the step is retried like any other infrastructure fault.
 *
 * <p>An HTTP channel's permit is checked once more where the request is written ({@link #confirmAtWire},
 * called by {@link PermitAtTheWire} inside the HTTP client, after the connection was leased): a thread
 * held up between the rate-limit step and the write (a busy machine, a garbage collection, a slow
 * request builder) would otherwise send on a permit granted long before, and the provider would count
 * it in a later second than the bucket did. A permit older than {@link #USE_WITHIN_MS} by then is given
 * back and a fresh one taken, so what the provider receives keeps the bucket's spacing.
 */
@Component
public class ProviderPermits {

    private static final Logger log = LoggerFactory.getLogger(ProviderPermits.class);

    static final long USE_WITHIN_MS = 40;
    private static final long LONGEST_WAIT_MS = 1000;

    private final ProviderRateLimits rateLimits;
    private final Map<String, Deque<Long>> granted = new ConcurrentHashMap<>();
    /**
     * Guards a channel's granted permits and its takes from the shared bucket. A lock that parks its waiters
     * at once: with a JVM monitor, dozens of sender threads spun on the CPU while one took permits from
     * PostgreSQL (a profile of the throughput benchmark found most of the senders' CPU in system time).
     */
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Sender threads waiting for a permit, per channel: a take asks for as many as wait (up to maxPerTake), not more. */
    private final Map<String, AtomicInteger> waiting = new ConcurrentHashMap<>();
    /** The permit this thread took last and has not yet sent on: checked again where the HTTP request is written. */
    private final ThreadLocal<Grant> taken = new ThreadLocal<>();
    private final AtomicLong retakenAtWire = new AtomicLong();
    /** Permits found too old at the wire, per channel, to hand back with the next take. */
    private final Map<String, AtomicInteger> unused = new ConcurrentHashMap<>();

    /** A permit of the channel, granted by the shared bucket at grantedAt (epoch millis). */
    private record Grant(String channel, long grantedAt) {
    }

    public ProviderPermits(ProviderRateLimits rateLimits) {
        this.rateLimits = rateLimits;
    }

    /** Returns once this call may go to the channel's provider. */
    public void acquire(String channel) {
        AtomicInteger waiters = waiting.computeIfAbsent(channel, c -> new AtomicInteger());
        waiters.incrementAndGet();
        try {
            taken.set(new Grant(channel, acquire(channel, waiters)));
        } finally {
            waiters.decrementAndGet();
        }
    }

    /**
     * Right before this thread's provider request is written: if the permit it took in the rate-limit
     * step was granted more than {@link #USE_WITHIN_MS} ago, gives it back (it was never used) and takes a
     * fresh one, waiting if need be. Once per permit; nothing to do for a call that took no permit.
     */
    public void confirmAtWire() {
        Grant grant = taken.get();
        taken.remove();
        if (grant == null || System.currentTimeMillis() - grant.grantedAt() <= USE_WITHIN_MS) {
            return;
        }
        // Handed back with the next take's expired permits (one transaction, under the channel's lock), not on its own.
        unused.computeIfAbsent(grant.channel(), c -> new AtomicInteger()).incrementAndGet();
        long retaken = retakenAtWire.incrementAndGet();
        if (retaken % 100 == 1) {
            log.info("{}: a rate-limit permit was {} ms old where its request was to be written (more than {} ms: a busy machine);"
                    + " taken again so the provider sees the rate ({} such permits since start)", grant.channel(),
                    System.currentTimeMillis() - grant.grantedAt(), USE_WITHIN_MS, retaken);
        }
        acquire(grant.channel());
        taken.remove();
    }

    /** How many permits were found too old where the request was written and taken again (since start). */
    public long retakenAtWire() {
        return retakenAtWire.get();
    }

    /** Waits for a permit; returns when it was granted (epoch millis). */
    private long acquire(String channel, AtomicInteger waiters) {
        Deque<Long> permits = granted.computeIfAbsent(channel, c -> new ArrayDeque<>());
        ReentrantLock lock = locks.computeIfAbsent(channel, c -> new ReentrantLock());
        while (true) {
            long wait;
            lock.lock();
            try {
                long now = System.currentTimeMillis();
                AtomicInteger agedAtWire = unused.get(channel);
                int expired = agedAtWire == null ? 0 : agedAtWire.getAndSet(0);
                while (!permits.isEmpty() && now - permits.peekFirst() > USE_WITHIN_MS) {
                    permits.pollFirst();
                    expired++;
                }
                if (expired > 0) {
                    rateLimits.giveBack(channel, expired);
                }
                if (!permits.isEmpty()) {
                    return permits.pollFirst();
                }
                int got = rateLimits.take(channel, Math.min(rateLimits.maxPerTake(channel), Math.max(1, waiters.get())));
                if (got > 0) {
                    // Granted while the bucket's row was locked; the update and commit after it take a millisecond or two.
                    long grantedAt = System.currentTimeMillis();
                    for (int i = 1; i < got; i++) {
                        permits.addLast(grantedAt);
                    }
                    return grantedAt;
                }
                wait = Math.min(LONGEST_WAIT_MS, Math.max(1, rateLimits.millisUntilNext(channel)));
            } finally {
                lock.unlock();
            }
            LockSupport.parkNanos(wait * 1_000_000L);   // never fails the delivery for an interrupt: it just asks again
        }
    }
}
