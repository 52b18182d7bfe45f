package io.herald.dispatch;

import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * The HTTP channels' default addressPlan (routes/deliver-http-template.camel.yaml): one call, to the delivery's address. Push
 * calls each of the customer's devices instead (PushDevices).
 */
@Component
public class OneAddress {

    public void firstCall(Exchange exchange) {
        exchange.setProperty(ChannelDelivery.CALL_AGAIN, true);
    }
}
