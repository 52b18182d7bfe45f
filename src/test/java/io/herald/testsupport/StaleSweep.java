package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Callable;

import io.herald.dispatch.StaleSendings;

/**
 * Runs the stale sweep until what the test left SENDING is settled. Right after another test's database outage in the same
 * test JVM the sweep settles nothing for a while (StaleSendings.waitingAfterOutage: 3 × herald.infrastructure.max-retry-delay-ms
 * once it has seen PostgreSQL answer again), so a single sweep then did nothing and the test waited in vain.
 */
public final class StaleSweep {

    private StaleSweep() {
    }

    /** Sweeps once a second until {@code settled} says the row the test prepared is no longer SENDING. */
    public static void until(StaleSendings sweep, Callable<Boolean> settled) {
        await().atMost(Duration.ofSeconds(75)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            sweep.sweep();
            return settled.call();
        });
    }
}
