package io.herald.dispatch;

import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ops.OpsPost;
import org.apache.camel.Exchange;
import org.apache.camel.component.http.HttpMethods;
import org.springframework.stereotype.Component;

/** A Slack-style incoming-webhook post for the internal team: {"text": "..."}. */
@Component
public class OpsWebhookRequest {

    private final ObjectMapper json;

    public OpsWebhookRequest(ObjectMapper json) {
        this.json = json;
    }

    public void build(Exchange exchange) throws JsonProcessingException {
        @SuppressWarnings("unchecked")
        Map<String, String> parts = exchange.getProperty(ChannelDelivery.PARTS, Map.class);
        // The enum, not the text "POST": camel-http converts a String header on every call (~6% of dispatch CPU).
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, HttpMethods.POST);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", ChannelDelivery.providerKey(exchange, "ops_webhook"));
        exchange.getMessage().setBody(OpsPost.body(json, parts.get("text")));
    }
}
