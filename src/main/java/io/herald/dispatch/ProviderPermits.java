package io.herald.dispatch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

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
 */
@Component
public class ProviderPermits {

    static final long USE_WITHIN_MS = 40;
    private static final long LONGEST_WAIT_MS = 1000;

    private final ProviderRateLimits rateLimits;
    private final Map<String, Deque<Long>> granted = new ConcurrentHashMap<>();
    /** Sender threads waiting for a permit, per channel: a take asks for as many as wait (up to maxPerTake), not more. */
    private final Map<String, AtomicInteger> waiting = new ConcurrentHashMap<>();

    public ProviderPermits(ProviderRateLimits rateLimits) {
        this.rateLimits = rateLimits;
    }

    /** Returns once this call may go to the channel's provider. */
    public void acquire(String channel) {
        AtomicInteger waiters = waiting.computeIfAbsent(channel, c -> new AtomicInteger());
        waiters.incrementAndGet();
        try {
            acquire(channel, waiters);
        } finally {
            waiters.decrementAndGet();
        }
    }

    private void acquire(String channel, AtomicInteger waiters) {
        Deque<Long> permits = granted.computeIfAbsent(channel, c -> new ArrayDeque<>());
        while (true) {
            long wait;
            synchronized (permits) {
                long now = System.currentTimeMillis();
                int expired = 0;
                while (!permits.isEmpty() && now - permits.peekFirst() > USE_WITHIN_MS) {
                    permits.pollFirst();
                    expired++;
                }
                if (expired > 0) {
                    rateLimits.giveBack(channel, expired);
                }
                if (!permits.isEmpty()) {
                    permits.pollFirst();
                    return;
                }
                int taken = rateLimits.take(channel, Math.min(rateLimits.maxPerTake(channel), Math.max(1, waiters.get())));
                if (taken > 0) {
                    for (int i = 1; i < taken; i++) {
                        permits.addLast(now);
                    }
                    return;
                }
                wait = Math.min(LONGEST_WAIT_MS, Math.max(1, rateLimits.millisUntilNext(channel)));
            }
            LockSupport.parkNanos(wait * 1_000_000L);   // never fails the delivery for an interrupt: it just asks again
        }
    }
}
