package io.herald.testsupport;

import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;

/**
 * The channels' circuit breakers of the shared test Herald. A test that counts retries or parks starts from closed breakers
 * with empty windows: the failures of the tests before it in the same JVM (a provider answering 503 on purpose) can leave
 * a channel's window one failure short of opening, and then this test's one planned 503 opens it.
 */
public final class Breakers {

    private Breakers() {
    }

    /** Every delivery route's breaker back to CLOSED with its sliding window emptied (Resilience4j's reset). */
    public static void resetAll(CamelContext camel) {
        for (Route route : camel.getRoutes()) {
            if (route.getRouteId().startsWith("deliver-")) {
                for (Processor processor : route.filter("*")) {
                    if (processor instanceof ResilienceProcessor breaker) {
                        breaker.getCircuitBreaker().reset();
                    }
                }
            }
        }
    }
}
