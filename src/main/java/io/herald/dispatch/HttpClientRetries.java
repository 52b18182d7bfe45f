package io.herald.dispatch;

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
 */
@Configuration
public class HttpClientRetries {

    @Bean
    ComponentCustomizer noHiddenHttpRetries(ProviderPermits permits) {
        return ComponentCustomizer.builder(HttpComponent.class)
                .build(http -> http.setHttpClientConfigurer(builder -> {
                    builder.disableAutomaticRetries();
                    PermitAtTheWire.install(builder, permits);
                    AnswerLostDetector.install(builder);
                }));
    }
}
