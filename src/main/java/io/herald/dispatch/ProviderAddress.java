package io.herald.dispatch;

import java.util.Map;

import io.herald.config.OpsWebhookSettings;
import io.herald.config.PushSettings;
import io.herald.config.SmsSettings;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Where an HTTP provider call goes, set on the exchange right before the call (camel-http's CamelHttpUri header) instead
 * of being written into the endpoint URI. An endpoint URI is shown by Hawtio and JMX (endpoint MBeans, route dumps), and
 * a Slack-style incoming webhook URL carries its secret in its path (https://hooks.slack.com/services/T000/B000/XXXX); the
 * routes' endpoints name only the provider (http://ops-webhook) and the header is removed once the call returns. The push
 * call's bearer token is set here too, on every try (PushAccessTokens).
 */
@Component
public class ProviderAddress {

    private final Map<String, String> urls;
    private final PushAccessTokens pushTokens;

    public ProviderAddress(SmsSettings sms, PushSettings push, OpsWebhookSettings opsWebhook, PushAccessTokens pushTokens) {
        this.urls = Map.of("sms", sms.url(), "push", push.url(), "ops-webhook", opsWebhook.url());
        this.pushTokens = pushTokens;
    }

    /** name: the provider's settings, herald.&lt;name&gt;.url (sms, push, ops-webhook). */
    public void set(Exchange exchange, String name) {
        String url = urls.get(name);
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("herald." + name + ".url is not set: Herald has no address to call for " + name);
        }
        exchange.getMessage().setHeader(Exchange.HTTP_URI, url.strip());
        if ("push".equals(name)) {
            // Set on every try, inside the breaker: FCM's token expires within the hour, and a retry after a 401 must carry
            // the new one (a header set when the request was built would go out again as it was).
            exchange.getMessage().setHeader("Authorization", "Bearer " + pushTokens.current());
        }
    }
}
