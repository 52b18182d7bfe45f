package io.herald.config;

import java.lang.reflect.Field;
import java.util.LinkedHashSet;
import java.util.Set;

import org.apache.camel.CamelContext;
import org.apache.camel.NamedNode;
import org.apache.camel.Route;
import org.apache.camel.Service;
import org.apache.camel.processor.errorhandler.RedeliveryErrorHandler;
import org.apache.camel.spi.RoutePolicy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.RoutePolicySupport;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * A route an operator suspended and then resumed (Hawtio's Suspend and Resume, the route MBean's suspend() and resume())
 * waits out an outage of PostgreSQL or Kafka again, as a route never suspended does.
 *
 * <p>When Camel suspends a route it readies the route's error handlers for a shutdown: from then on they no longer retry
 * what may not be retried while Herald stops, which is every "try again until the database (or the broker) is back" step
 * of routes/error-handling.camel.yaml (allowRedeliveryWhileStopping false). Camel undoes that when the route is started,
 * but not when it is resumed, so a resumed route gave up at the first database blip: an in-app message whose write was cut
 * stayed SENDING until the stale-sendings sweep minutes later, a sent email's outcome went unrecorded, an ingest or
 * dispatch batch failed and was read again from its start. On resume, this readies the route's error handlers to retry
 * again.
 */
@Component
public class ResumedRoutesRetry implements RoutePolicyFactory {

    private static final Logger log = LoggerFactory.getLogger(ResumedRoutesRetry.class);
    private static final Field PREPARING_SHUTDOWN = preparingShutdown();

    @Override
    public RoutePolicy createRoutePolicy(CamelContext camelContext, String routeId, NamedNode route) {
        return new RoutePolicySupport() {
            @Override
            public void onResume(Route route) {
                retryAgain(route);
            }
        };
    }

    /** Lets the route's error handlers retry again as they did before the route was suspended. */
    static void retryAgain(Route route) {
        if (PREPARING_SHUTDOWN == null) {
            return;
        }
        Set<Service> services = new LinkedHashSet<>();
        for (Service service : route.getServices()) {
            services.addAll(ServiceHelper.getChildServices(service, true));
        }
        for (Service service : services) {
            if (service instanceof RedeliveryErrorHandler handler) {
                try {
                    PREPARING_SHUTDOWN.setBoolean(handler, false);
                } catch (IllegalAccessException e) {
                    log.warn("Route {} was resumed, but its error handling could not be readied again: until the route is"
                            + " stopped and started, it gives up at the first database or Kafka outage instead of waiting for it",
                            route.getRouteId());
                    return;
                }
            }
        }
    }

    private static Field preparingShutdown() {
        try {
            Field field = RedeliveryErrorHandler.class.getDeclaredField("preparingShutdown");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("This Camel version's error handlers cannot be readied again when a route is resumed: a route suspended and"
                    + " resumed (from Hawtio) gives up at the first database or Kafka outage until it is stopped and started");
            return null;
        }
    }
}
