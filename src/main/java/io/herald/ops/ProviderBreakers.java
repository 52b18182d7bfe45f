package io.herald.ops;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.springframework.stereotype.Component;

/**
 * The circuit breaker of each channel's provider on this instance (breakers are per instance), read from Camel's
 * resilience4j processors in the channel routes (deliver-sms -> sms), for the outage alerts and the dashboard's gauge.
 */
@Component
public class ProviderBreakers {

    private final CamelContext camel;

    public ProviderBreakers(CamelContext camel) {
        this.camel = camel;
    }

    /** Each channel's breaker state: CLOSED, OPEN, HALF_OPEN, DISABLED, ... */
    public Map<String, String> states() {
        Map<String, String> states = new LinkedHashMap<>();
        for (Route route : camel.getRoutes()) {
            if (!route.getRouteId().startsWith("deliver-")) {
                continue;
            }
            for (Processor processor : route.filter("*")) {
                if (processor instanceof ResilienceProcessor breaker) {
                    states.put(route.getRouteId().substring("deliver-".length()).replace('-', '_'), breaker.getCircuitBreakerState());
                }
            }
        }
        return states;
    }

    /** Whether the provider is not called as usual in this state: open, half open or forced open. */
    public static boolean isOpen(String state) {
        return !"CLOSED".equals(state) && !"DISABLED".equals(state);
    }
}
