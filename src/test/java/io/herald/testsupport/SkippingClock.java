package io.herald.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that runs with real time, ahead of it by what the test skipped: a period Herald waits out (an outage's settle
 * period) is over because the test skipped it, not because the test waited for it, while everything else keeps its
 * pace. Register it as the Clock bean of a Herald of the test's own (testsupport.OwnHerald), never the shared one.
 */
public final class SkippingClock extends Clock {

    private final AtomicReference<Duration> ahead = new AtomicReference<>(Duration.ZERO);

    /** From now on, this clock is {@code by} further ahead of real time. */
    public void skip(Duration by) {
        ahead.updateAndGet(skipped -> skipped.plus(by));
    }

    @Override
    public Instant instant() {
        return Instant.now().plus(ahead.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;   // Herald reads instants only
    }
}
