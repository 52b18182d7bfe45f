package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.impl.health.ContextHealthCheck;
import org.apache.camel.impl.health.DefaultHealthCheckRegistry;
import org.apache.camel.spring.boot.actuate.health.liveness.CamelLivenessStateHealthIndicator;
import org.apache.camel.spring.boot.actuate.health.readiness.CamelReadinessStateHealthIndicator;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.availability.ApplicationAvailabilityBean;

/**
 * What an operator reads in the start log from Camel's probes, which run in the background from early in the start: nothing
 * while Camel is built and starting (it said WARN "... is shutting down. Status: 'Stopped', Phase: '1'" on every start), readiness
 * refusing traffic until then; once started, Camel's probes as they were, so a context really stopping is still warned about.
 */
class CamelProbesWhileStartingTest {

    @Test
    void camelNotStartedYetIsReadAsStartingQuietlyAndAStoppingCamelIsStillWarnedAbout() throws Exception {
        DefaultCamelContext camel = new DefaultCamelContext();
        camel.getCamelContextExtension().setName("herald");
        HealthCheckRegistry registry = new DefaultHealthCheckRegistry(camel);
        camel.getCamelContextExtension().addContextPlugin(HealthCheckRegistry.class, registry);
        registry.register(new ContextHealthCheck());
        camel.build();
        ApplicationAvailabilityBean availability = new ApplicationAvailabilityBean();
        ListAppender<ILoggingEvent> readinessLog = captured(CamelReadinessStateHealthIndicator.class);
        ListAppender<ILoggingEvent> livenessLog = captured(CamelLivenessStateHealthIndicator.class);
        try {
            // Camel's own probes, as shipped: the built context is "shutting down", logged as a WARN.
            new CamelReadinessStateHealthIndicator(availability, camel).health();
            assertThat(warnings(readinessLog)).singleElement().asString().contains("Camel Context 'herald' is shutting down");
            synchronized (readinessLog) {
                readinessLog.list.clear();
            }

            HealthIndicator readiness = new CamelProbesWhileStarting.Readiness(availability, camel);
            HealthIndicator liveness = new CamelProbesWhileStarting.Liveness(availability, camel);
            assertThat(readiness.health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
            // Not alive until Camel has started, as Camel's own probe said: a start that hangs fails the startup probe.
            assertThat(liveness.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(warnings(readinessLog)).isEmpty();
            assertThat(warnings(livenessLog)).isEmpty();

            camel.start();
            assertThat(readiness.health().getStatus()).isEqualTo(Status.UP);
            assertThat(liveness.health().getStatus()).isEqualTo(Status.UP);

            camel.stop();
            assertThat(readiness.health().getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
            assertThat(warnings(readinessLog)).singleElement().asString().contains("Camel Context 'herald' is shutting down");
        } finally {
            detach(readinessLog, CamelReadinessStateHealthIndicator.class);
            detach(livenessLog, CamelLivenessStateHealthIndicator.class);
            camel.close();
        }
    }

    private static ListAppender<ILoggingEvent> captured(Class<?> type) {
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        ((Logger) LoggerFactory.getLogger(type)).addAppender(appender);
        return appender;
    }

    private static void detach(ListAppender<ILoggingEvent> appender, Class<?> type) {
        ((Logger) LoggerFactory.getLogger(type)).detachAppender(appender);
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> appender) {
        // Under the appender's lock (AppenderBase.doAppend holds it while it adds): the probes log meanwhile.
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
