package io.herald.dispatch;

import io.herald.ledger.DeliveryLedger;
import io.herald.ops.HeraldMetrics;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.springframework.stereotype.Component;

/**
 * Runs before each redelivery of a channel route (onRedeliveryRef in routes/error-handling):
 * keeps the attempt that just failed, with the provider's status and the reason, as RETRYING, and
 * takes a fresh permit of the channel's shared rate limit for the retry. Camel's redelivery repeats
 * only the provider call that failed, not the route's rate-limit step before it, so without this the
 * retry would go out on its first attempt's permit, one request more than the bucket granted. Both are done even through
 * a database outage (OutcomeWrites): Camel runs this processor without the route's error handling.
 */
@Component("retryingAttempts")
public class RetryingAttempts implements Processor {

    private final DeliveryLedger ledger;
    private final HeraldMetrics metrics;
    private final ProviderPermits permits;
    private final OutcomeWrites outcomes;

    public RetryingAttempts(DeliveryLedger ledger, HeraldMetrics metrics, ProviderPermits permits, OutcomeWrites outcomes) {
        this.outcomes = outcomes;
        this.ledger = ledger;
        this.metrics = metrics;
        this.permits = permits;
    }

    @Override
    public void process(Exchange exchange) {
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        Throwable cause = exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (deliveryId != null) {
            int retry = exchange.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class);
            Object resend = exchange.getProperty(ChannelDelivery.RESEND);
            String channel = exchange.getProperty(ChannelDelivery.CHANNEL, String.class);
            String reason = (resend == null ? "" : "resend " + resend + ": ") + ProviderErrors.readable(cause, channel) + "; retry " + retry
                    + " follows";
            outcomes.untilWritten("The retry of delivery " + deliveryId, () -> ledger.attempt(deliveryId, "RETRYING", ProviderErrors.statusOf(cause), reason));
            metrics.retry(channel);
            if (channel != null) {
                outcomes.untilWritten("The retry's rate-limit permit of delivery " + deliveryId, () -> permits.acquire(channel));
            }
        }
    }
}
