package io.herald.dispatch;

import io.herald.config.PerChannelSettings;
import org.apache.camel.component.http.HttpComponent;
import org.apache.camel.spi.ComponentCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Turns off Apache HttpClient's own silent retries (it re-sends on 503 and 429 by itself), so
 * every provider call is one attempt that the route's redelivery policy and circuit breaker
 * count and record. Also installs {@link PermitAtTheWire}, which checks the call's rate-limit permit
 * once more just before the request is written, and {@link AnswerLostDetector}, which tells a call
 * that sent nothing from one whose answer never came.
 *
 * <p>The client's connection pool is sized to the HTTP channels' calls in flight (herald.sms, herald.push and
 * herald.ops-webhook max-in-flight, plus room for the health checks and other calls), per provider host and
 * in total: the component's default of 20 per host made calls wait for a connection, and fail after the
 * connect timeout, as soon as the channels sharing one host (the local sandboxes, one API gateway) had more
 * calls in flight than that.
 */
@Configuration
public class HttpClientRetries {

    /** Connections beyond the channels' calls in flight: ops digests, incident posts and the like. */
    private static final int OTHER_CALLS = 8;

    @Bean
    ComponentCustomizer noHiddenHttpRetries(ProviderPermits permits, PerChannelSettings channels) {
        int inFlight = channels.maxInFlight("sms") + channels.maxInFlight("push") + channels.maxInFlight("ops_webhook") + OTHER_CALLS;
        return ComponentCustomizer.builder(HttpComponent.class)
                .build(http -> {
                    http.setConnectionsPerRoute(inFlight);
                    http.setMaxTotalConnections(2 * inFlight);
                    http.setHttpClientConfigurer(builder -> {
                        builder.disableAutomaticRetries();
                        PermitAtTheWire.install(builder, permits);
                        AnswerLostDetector.install(builder);
                    });
                });
    }
}
