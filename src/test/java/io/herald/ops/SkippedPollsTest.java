package io.herald.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.herald.schedule.ScheduledSendsTimerOutages;
import io.herald.testsupport.MovableClock;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/**
 * What a poller says through an outage, over an hour of a clock the test moves: the first skipped run, a line a
 * minute while it lasts (with the runs skipped), one line when it runs again, and nothing for runs that simply go
 * through. Each route speaks for itself; a Kafka outage is named as one. The scheduled sends' timer (db-scheduler) says an
 * outage the same way, and any other failure of its polls still with db-scheduler's ERROR and stack trace.
 */
class SkippedPollsTest {

    private final CamelContext camel = new DefaultCamelContext();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-03T10:00:00Z"));
    private final SkippedPolls polls = new SkippedPolls(clock);
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void listen() {
        log.start();
        ((Logger) LoggerFactory.getLogger(SkippedPolls.class)).addAppender(log);
    }

    @AfterEach
    void stopListening() {
        ((Logger) LoggerFactory.getLogger(SkippedPolls.class)).detachAppender(log);
    }

    @Test
    void oneLineWhenARouteStartsSkippingOneAMinuteWhileItDoesAndOneWhenItRunsAgain() {
        polls.ran(run("crm-outbox-poll", null));
        assertThat(lines()).isEmpty();

        for (int second = 0; second < 150; second++) {          // two and a half minutes, a run a second
            polls.skipped(run("crm-outbox-poll", new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection")));
            clock.advance(Duration.ofSeconds(1));
        }
        polls.skipped(run("parked-deliveries", new IllegalStateException("wrapped", new TimeoutException("no broker"))));
        polls.ran(run("crm-outbox-poll", null));
        polls.ran(run("crm-outbox-poll", null));

        assertThat(lines()).containsExactly(
                "WARN crm-outbox-poll: this run is skipped, PostgreSQL cannot be reached; nothing is lost (its work waits for the"
                        + " next run), it tries again at every run and says here when it runs again",
                "WARN crm-outbox-poll: still waiting for PostgreSQL, since 2026-12-03T10:00:00Z; skipped runs: 61",
                "WARN crm-outbox-poll: still waiting for PostgreSQL, since 2026-12-03T10:00:00Z; skipped runs: 121",
                "WARN parked-deliveries: this run is skipped, Kafka cannot be reached; nothing is lost (its work waits for the"
                        + " next run), it tries again at every run and says here when it runs again",
                "INFO crm-outbox-poll: running again after 150 s (skipped runs: 150)");
    }

    @Test
    void aRunWhoseErrorWasHandledIsNotARunThatWentThrough() {
        polls.skipped(run("ticket-notes", new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection")));
        Exchange skipped = run("ticket-notes", new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection"));
        polls.ran(skipped);          // onCompletion after the handled outage: still skipping
        polls.ran(run("ticket-notes", null));
        assertThat(lines()).hasSize(2).last().asString().startsWith("INFO ticket-notes: running again after 0 s (skipped runs: 1)");
    }

    @Test
    void theScheduledSendsTimerSaysAnOutageInWordsAndStillLogsAnythingElseWithItsStackTrace() {
        // db-scheduler's own log of a failed poll, through logback with Herald's filter (logback-spring.xml) in place.
        LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
        ScheduledSendsTimerOutages filter = new ScheduledSendsTimerOutages();
        filter.start();
        logging.addTurboFilter(filter);
        Logger dbScheduler = logging.getLogger("com.github.kagkarlsson.scheduler.RunUntilShutdown");
        ListAppender<ILoggingEvent> dbSchedulerLog = new ListAppender<>();
        dbSchedulerLog.start();
        dbScheduler.addAppender(dbSchedulerLog);
        try {
            SQLException refused = new SQLTransientConnectionException("HikariPool-1 - Connection is not available", "08001");
            dbScheduler.error("Unhandled exception. Will keep running.", new RuntimeException("Error when preparing statement.", refused));
            dbScheduler.error("Unhandled exception. Will keep running.", new NullPointerException("a bug"));

            assertThat(lines()).containsExactly("WARN scheduled-sends-timer: this run is skipped, PostgreSQL cannot be reached;"
                    + " nothing is lost (its work waits for the next run), it tries again at every run and says here when it runs again");
            assertThat(dbSchedulerLog.list).singleElement().satisfies(bug -> {
                assertThat(bug.getLevel()).isEqualTo(Level.ERROR);
                assertThat(bug.getThrowableProxy().getMessage()).isEqualTo("a bug");
            });
        } finally {
            dbScheduler.detachAppender(dbSchedulerLog);
            logging.getTurboFilterList().remove(filter);
        }
    }

    private Exchange run(String route, Throwable caught) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getExchangeExtension().setFromRouteId(route);
        if (caught != null) {
            exchange.setProperty(Exchange.EXCEPTION_CAUGHT, caught);
        }
        return exchange;
    }

    private List<String> lines() {
        // Under the appender's lock (AppenderBase.doAppend holds it while it adds): Herald's threads log meanwhile.
        synchronized (log) {
            return log.list.stream().map(event -> event.getLevel() + " " + event.getFormattedMessage()).toList();
        }
    }
}
