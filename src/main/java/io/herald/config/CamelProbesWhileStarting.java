package io.herald.config;

import org.apache.camel.CamelContext;
import org.apache.camel.spring.boot.actuate.health.liveness.CamelLivenessStateHealthIndicator;
import org.apache.camel.spring.boot.actuate.health.readiness.CamelReadinessStateHealthIndicator;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityState;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.stereotype.Component;

/**
 * Camel's readiness and liveness probes, quiet until Camel has started. Camel's health checks run in the background from
 * early in Herald's start (async-camel-health-check), and Camel calls a context that is built but not yet started "shutting
 * down": every start logged, from both probes, WARN "Probe in group 'camel', with id 'context' failed with message 'Camel
 * Context 'herald' is shutting down. Status: 'Stopped', Phase: '1'. Please check the debug log'", then "is starting ...
 * Please wait", which read as something wrong. Until Camel has started, readiness refuses traffic (health answers 503, as
 * before) and liveness says broken, as Camel's did, so a start that hangs still fails the startup probe and is restarted
 * (deploy/kubernetes, the image's HEALTHCHECK after its start period), both without asking Camel and without a warning;
 * from then on both are Camel's as they were, so a context really stopping (or a consumer down) is still warned about.
 */
@Component
public class CamelProbesWhileStarting implements BeanPostProcessor {

    /** ServiceStatus phases (BaseService): 0 new, 1 built, 2 initializing, 3 initialized, 4 starting, 5 started. */
    private static final byte STARTING = 4;

    private final ObjectProvider<ApplicationAvailability> availability;
    private final ObjectProvider<CamelContext> camel;

    public CamelProbesWhileStarting(ObjectProvider<ApplicationAvailability> availability, ObjectProvider<CamelContext> camel) {
        this.availability = availability;
        this.camel = camel;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean.getClass() == CamelReadinessStateHealthIndicator.class) {
            return new Readiness(availability.getObject(), camel.getObject());
        }
        if (bean.getClass() == CamelLivenessStateHealthIndicator.class) {
            return new Liveness(availability.getObject(), camel.getObject());
        }
        return bean;
    }

    /** Camel is built, initialising or starting, and has not started yet (not stopping after having run). */
    static boolean notStartedYet(CamelContext camel) {
        return camel.getCamelContextExtension().getStatusPhase() <= STARTING;
    }

    /** Readiness: refusing traffic, quietly, until Camel has started; then Camel's readiness checks. */
    static final class Readiness extends CamelReadinessStateHealthIndicator {
        private final CamelContext camel;

        Readiness(ApplicationAvailability availability, CamelContext camel) {
            super(availability, camel);
            this.camel = camel;
        }

        @Override
        protected AvailabilityState getState(ApplicationAvailability availability) {
            return notStartedYet(camel) ? ReadinessState.REFUSING_TRAFFIC : super.getState(availability);
        }
    }

    /** Liveness: broken, quietly, until Camel has started; then Camel's liveness checks. */
    static final class Liveness extends CamelLivenessStateHealthIndicator {
        private final CamelContext camel;

        Liveness(ApplicationAvailability availability, CamelContext camel) {
            super(availability, camel);
            this.camel = camel;
        }

        @Override
        protected AvailabilityState getState(ApplicationAvailability availability) {
            return notStartedYet(camel) ? LivenessState.BROKEN : super.getState(availability);
        }
    }
}
