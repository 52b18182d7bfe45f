package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/** Once a channel's breaker is open, the reason of a call it turned away still says what that channel's provider answered. */
class BreakerOpenReasonTest {

    private final ProviderErrors errors = new ProviderErrors(new PushAccessTokens(new io.herald.config.PushSettings("", "", 50, 16, null,
            null, false, null, null, null, null, 1000, "", 10)));

    @Test
    void theReasonAfterTheBreakerOpenedKeepsTheProvidersLastAnswerForThatChannel() {
        providerAnswered("sms", 503, "{\"message\": \"SMS gateway overloaded\"}");
        providerAnswered("push", 502, "bad gateway");
        // A refusal of one message (not a valid number) does not open the breaker: it is not what the breaker opened after.
        assertThat(errors.retryable(answer("sms", 400, "{\"code\": 21211}"))).isFalse();

        String sms = ProviderErrors.readable(openBreaker("sms-provider-breaker"));
        assertThat(sms).startsWith("provider circuit breaker is open after repeated failures (last answer: provider answered HTTP 503 ")
                .contains("{\"message\": \"SMS gateway overloaded\"}", " (at 20")
                .endsWith("; the provider was not called")
                .doesNotContain("502", "21211", "CallNotPermitted");
        assertThat(ProviderErrors.readable(openBreaker("ops-webhook-provider-breaker")))
                .isEqualTo("provider circuit breaker is open after repeated failures; the provider was not called");
    }

    private void providerAnswered(String channel, int status, String body) {
        assertThat(errors.retryable(answer(channel, status, body))).isTrue();
    }

    private static Exchange answer(String channel, int status, String body) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.setProperty(ChannelDelivery.CHANNEL, channel);
        exchange.setException(new HttpOperationFailedException("https://provider.example/messages", status, "Service Unavailable",
                null, Map.of(), body));
        return exchange;
    }

    private static CallNotPermittedException openBreaker(String name) {
        CircuitBreaker breaker = CircuitBreaker.ofDefaults(name);
        breaker.transitionToOpenState();
        return CallNotPermittedException.createCallNotPermittedException(breaker);
    }
}
