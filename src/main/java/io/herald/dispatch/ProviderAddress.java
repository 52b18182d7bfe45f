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
 * routes' endpoints name only the provider (http://ops-webhook) and the header is removed once the call returns.
 */
@Component
public class ProviderAddress {

    private final Map<String, String> urls;

    public ProviderAddress(SmsSettings sms, PushSettings push, OpsWebhookSettings opsWebhook) {
        this.urls = Map.of("sms", sms.url(), "push", push.url(), "ops-webhook", opsWebhook.url());
    }

    /** name: the provider's settings, herald.&lt;name&gt;.url (sms, push, ops-webhook). */
    public void set(Exchange exchange, String name) {
        String url = urls.get(name);
        if (url == null || url.isBlank()) {
            throw new IllegalStateException("herald." + name + ".url is not set: Herald has no address to call for " + name);
        }
        exchange.getMessage().setHeader(Exchange.HTTP_URI, url.strip());
    }
}
