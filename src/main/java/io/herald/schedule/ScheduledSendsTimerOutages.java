package io.herald.schedule;

import java.util.Set;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import com.github.kagkarlsson.scheduler.event.AbstractSchedulerListener;
import com.github.kagkarlsson.scheduler.event.SchedulerListener;
import io.herald.kafka.InfrastructureFaults;
import io.herald.ops.SkippedPolls;
import org.slf4j.Marker;

/**
 * The timer behind scheduled sends (db-scheduler, SchedulerSetup) through a PostgreSQL outage, said in words like the
 * pollers' (SkippedPolls) under the name {@value #NAME}: one WARN when its polls start being skipped, one a minute while
 * they still are, one INFO when a poll goes through again. Nothing is lost meanwhile: what is due waits in
 * scheduled_tasks and is fired at the first poll that goes through.
 *
 * <p>db-scheduler catches a failed poll itself and logs it as "Unhandled exception. Will keep running." with the stack
 * trace (RunUntilShutdown for the polls, RunAndLogErrors for its housekeeping: dead executions, heartbeats), every poll
 * interval, and offers no setting for it. So this filter, registered in logback-spring.xml, drops exactly those ERRORs
 * when InfrastructureFaults says the failure is an outage and says the skipped poll instead; any other failure there is
 * still logged by db-scheduler with its stack trace. The scheduler's listener ({@link #listener()}) says when a poll went
 * through again. The state is the JVM's (logback's filter is not a Spring bean): one timer's name per process.
 */
public final class ScheduledSendsTimerOutages extends TurboFilter {

    /** The timer's name in SkippedPolls' lines. */
    public static final String NAME = "scheduled-sends-timer";

    private static final Set<String> POLL_LOGGERS = Set.of("com.github.kagkarlsson.scheduler.RunUntilShutdown",
            "com.github.kagkarlsson.scheduler.RunAndLogErrors");
    private static final SkippedPolls POLLS = new SkippedPolls();

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable failure) {
        if (level != Level.ERROR || failure == null || !POLL_LOGGERS.contains(logger.getName())
                || !InfrastructureFaults.isInfrastructure(failure)) {
            return FilterReply.NEUTRAL;
        }
        POLLS.skippedRun(NAME, failure);
        return FilterReply.DENY;
    }

    /** For the scheduler: a poll for due sends that went through ends the skipping, if it was (said once). */
    static SchedulerListener listener() {
        return new AbstractSchedulerListener() {
            @Override
            public void onSchedulerEvent(SchedulerEventType type) {
                if (type == SchedulerEventType.RAN_EXECUTE_DUE) {
                    POLLS.ranAgain(NAME);
                }
            }
        };
    }
}
