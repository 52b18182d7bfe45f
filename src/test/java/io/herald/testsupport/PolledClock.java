package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicLong;

import com.github.kagkarlsson.scheduler.Scheduler;

/**
 * A {@link MovableClock} as Herald's clock that also tells when the timer (db-scheduler) has looked for due sends on the
 * time the test set: each of its polls starts by reading the clock on its execute-due thread, and the polls follow each
 * other on that one thread. A test checks "not sent yet" after such polls, rather than by waiting a fixed second in which
 * a busy machine may run no poll at all. Register it as the Clock bean of a Herald of the test's own (OwnHerald).
 */
public final class PolledClock extends Clock {

    /** db-scheduler's thread that polls for due executions (SchedulerBuilder: "db-scheduler-execute-due-"). */
    private static final String POLL_THREAD = "db-scheduler-execute-due-";

    private final MovableClock clock;
    private final AtomicLong polls = new AtomicLong();

    public PolledClock(MovableClock clock) {
        this.clock = clock;
    }

    @Override
    public Instant instant() {
        if (Thread.currentThread().getName().startsWith(POLL_THREAD)) {
            polls.incrementAndGet();
        }
        return clock.instant();
    }

    @Override
    public ZoneId getZone() {
        return clock.getZone();
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;   // Herald reads instants only
    }

    /**
     * Returns once the timer has polled for due sends {@code polls} times after the clock's time was set (counting from the
     * second poll begun since this call: the first may have read the time before it was set) and runs nothing it picked:
     * whatever a poll on the time now set found due has been fired, and its ledger changes are committed.
     */
    public void awaitPollsOnTheTimeSet(Scheduler scheduler, int polls) {
        long from = this.polls.get() + 1;
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> this.polls.get() >= from + polls
                && scheduler.getCurrentlyExecuting().isEmpty());
    }
}
