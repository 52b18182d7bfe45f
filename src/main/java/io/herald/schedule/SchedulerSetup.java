package io.herald.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import javax.sql.DataSource;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.FailureHandler;
import com.github.kagkarlsson.scheduler.task.Task;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import io.herald.config.SchedulingSettings;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;

/**
 * The durable, cluster-safe timer behind scheduled sends: db-scheduler on Herald's PostgreSQL (table scheduled_tasks).
 * One execution per waiting notification (task {@value #TASK}, instance = the notification id, "4711.1" for one
 * scheduled again after it fired: ScheduledSends.scheduleAfterClaim); when it is due, one
 * instance picks it and hands it to the route direct:fire-scheduled-send (routes/scheduled-sends.camel.yaml), which
 * queues the notification's deliveries. An instance killed while firing stops heart-beating, and another instance fires
 * the notification again: ScheduledSends.fire is a conditional update, so it is queued once.
 *
 * <p>The scheduler shares Spring's transactions (TransactionAwareDataSourceProxy): a send is scheduled in the same
 * transaction as the rows that say why it waits, so there is never one without the other. It starts once Herald is
 * ready (Camel's routes running) and stops before the context closes. Through a PostgreSQL outage its skipped polls are
 * said in words, not logged as errors (ScheduledSendsTimerOutages).
 */
@Configuration(proxyBeanMethods = false)
public class SchedulerSetup {

    /** The db-scheduler task name of a scheduled send. */
    public static final String TASK = "herald-scheduled-send";

    private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
    private static final Logger log = LoggerFactory.getLogger(SchedulerSetup.class);

    /** Herald's clock for time-aware decisions (quiet hours, reminders, firing); tests replace it with one they move. */
    @Bean
    @ConditionalOnMissingBean(Clock.class)
    Clock heraldClock() {
        return Clock.systemUTC();
    }

    @Bean
    OneTimeTask<Void> scheduledSendTask(ProducerTemplate producer) {
        return Tasks.oneTime(TASK, Void.class)
                // The database or the route failed: fired again after 10 s, doubling up to 5 min (an outage of the database
                // is waited out; a firing that already happened is a no-op).
                .onFailure((FailureHandler<Void>) (complete, operations) -> {
                    // A send moved while its timer fired (FireLater): the same timer, for the new time.
                    Instant later = FireLater.in(complete.getCause().orElse(null));
                    operations.reschedule(complete, later != null ? later
                            : complete.getTimeDone().plus(retryAfter(complete.getExecution().consecutiveFailures)));
                })
                .execute((instance, context) -> {
                    if (producer.requestBody("direct:fire-scheduled-send", instance.getId()) instanceof FireLater later) {
                        throw later;   // to the failure handler above, which sets this timer for the new time
                    }
                });
    }

    static Duration retryAfter(int consecutiveFailures) {
        return Duration.ofSeconds(10L << Math.min(consecutiveFailures, 5)).compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER
                : Duration.ofSeconds(10L << Math.min(consecutiveFailures, 5));
    }

    @Bean(destroyMethod = "")
    Scheduler sendScheduler(DataSource dataSource, OneTimeTask<Void> scheduledSendTask, SchedulingSettings settings, Clock heraldClock) {
        return Scheduler.create(new TransactionAwareDataSourceProxy(dataSource), List.<Task<?>>of(scheduledSendTask))
                .pollingInterval(settings.pollInterval())
                .heartbeatInterval(settings.heartbeatInterval())
                .threads(settings.threads())
                .clock(heraldClock::instant)
                .commitWhenAutocommitDisabled(false)
                .addSchedulerListener(ScheduledSendsTimerOutages.listener())   // says when its polls run again after an outage
                .build();
    }

    /** Starts firing once Herald is ready: Camel's routes are running and can take what fires. */
    @EventListener(ApplicationReadyEvent.class)
    void start(ApplicationReadyEvent ready) {
        Scheduler scheduler = ready.getApplicationContext().getBean(Scheduler.class);
        scheduler.start();
        log.info("Scheduled sends: the timer is running (db-scheduler, table scheduled_tasks)");
    }

    /** Stops firing before the routes stop; what was being fired finishes or is fired again by another instance. */
    @EventListener(ContextClosedEvent.class)
    void stop(ContextClosedEvent closed) {
        closed.getApplicationContext().getBeanProvider(Scheduler.class).ifAvailable(Scheduler::stop);
    }
}
