package io.herald.testsupport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock a test sets and moves, in place of Herald's {@code heraldClock} (db-scheduler and ScheduledSends read it):
 * scheduled work fires because the test moved time past it, never because the test waited. Register it as the Clock
 * bean of a Herald of the test's own (testsupport.OwnHerald), or the moved time fires other tests' sends.
 */
public final class MovableClock extends Clock {

    private final AtomicReference<Instant> now;

    public MovableClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    /** Time is now {@code instant} (it may go back: only the test's own Herald reads this clock). */
    public void set(Instant instant) {
        now.set(instant);
    }

    public void advance(Duration by) {
        now.updateAndGet(at -> at.plus(by));
    }

    @Override
    public Instant instant() {
        return now.get();
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
