package io.herald.config;

import java.util.Map;

import io.herald.ops.RouteInWords;
import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.health.HealthCheckResultStrategy;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * Camel's health check of a route (and of its consumer) that is not running says why, in words: while an operator kept a
 * route suspended in Hawtio, Camel logged "Probe in group 'camel', with id 'route:deliver-sms' failed with message ''"
 * every 5 s (its check gives a suspended route no message), and a stopped one "Route deliver-sms has status Stopped". Now:
 * "route deliver-sms is suspended (from Hawtio): its work waits until it is resumed (Hawtio: Camel, Routes, Resume)"; a webhook's
 * says what is posted to it is refused and may not come again. The
 * check's state (camelHealth DOWN) is Camel's, unchanged. A route left so is also announced on the ops webhook
 * (io.herald.ops.StoppedRoutes).
 */
@Component
public class RouteProbesInWords implements HealthCheckResultStrategy {

    private final ObjectProvider<CamelContext> camel;

    public RouteProbesInWords(ObjectProvider<CamelContext> camel) {
        this.camel = camel;
    }

    @Override
    public void processResult(HealthCheck check, Map<String, Object> options, HealthCheckResultBuilder builder) {
        String id = check.getId();
        int colon = id == null ? -1 : id.indexOf(':');
        if (colon < 0 || builder.state() == HealthCheck.State.UP
                || !(id.startsWith("route:") || id.startsWith("consumer:"))) {
            return;
        }
        String route = id.substring(colon + 1);
        CamelContext context = camel.getIfAvailable();
        ServiceStatus status = context == null ? null : context.getRouteController().getRouteStatus(route);
        if (status == ServiceStatus.Suspended || status == ServiceStatus.Suspending) {
            builder.message("route " + route + " is suspended (from Hawtio): " + meanwhile(route, "resumed") + " (Hawtio: Camel, Routes, Resume)");
        } else if (status == ServiceStatus.Stopped || status == ServiceStatus.Stopping) {
            builder.message("route " + route + " is stopped: " + meanwhile(route, "started") + " (Hawtio: Camel, Routes, Start)");
        }
    }

    /** What happens until the route runs: its work waits, but a webhook refuses what is posted, which may not come again. */
    private static String meanwhile(String route, String done) {
        return RouteInWords.keepsItsWork(route) ? "its work waits until it is " + done
                : "what is posted to it is refused until it is " + done + ", and a sender that does not retry will not send it again";
    }
}
