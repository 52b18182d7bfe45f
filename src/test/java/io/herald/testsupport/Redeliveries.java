package io.herald.testsupport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.service.ServiceHelper;

/**
 * Camel's redeliveries of the exchanges a route took in, as they happen: how often each exchange has been tried
 * again. Proof that a consumer holds on to the event it is on (tried again and again) rather than a wait that hopes
 * so. Listen with {@link #of}, then {@link #close} it.
 */
public final class Redeliveries extends EventNotifierSupport implements AutoCloseable {

    private final CamelContext camel;
    private final String routeId;
    private final Map<String, Integer> attempts = new ConcurrentHashMap<>();

    private Redeliveries(CamelContext camel, String routeId) {
        this.camel = camel;
        this.routeId = routeId;
    }

    /** Starts listening to the redeliveries of exchanges that came in through route {@code routeId}. */
    public static Redeliveries of(CamelContext camel, String routeId) {
        Redeliveries redeliveries = new Redeliveries(camel, routeId);
        redeliveries.setCamelContext(camel);
        camel.getManagementStrategy().addEventNotifier(redeliveries);
        camel.getCamelContextExtension().setEventNotificationApplicable(true);   // as NotifyBuilder does when added later
        ServiceHelper.startService(redeliveries);
        return redeliveries;
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeRedeliveryEvent redelivery && routeId.equals(redelivery.getExchange().getFromRouteId());
    }

    @Override
    public void notify(CamelEvent event) {
        CamelEvent.ExchangeRedeliveryEvent redelivery = (CamelEvent.ExchangeRedeliveryEvent) event;
        attempts.merge(redelivery.getExchange().getExchangeId(), redelivery.getAttempt(), Math::max);
    }

    /** The most redeliveries any one of those exchanges has had so far (0: none was tried again). */
    public int mostOfOneExchange() {
        return attempts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    @Override
    public void close() {
        camel.getManagementStrategy().removeEventNotifier(this);
        ServiceHelper.stopService(this);
    }
}
