package io.herald.dispatch;

import java.time.Duration;

import io.herald.config.DeliverySettings;
import io.herald.ledger.DeliveryLedger;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Right before a provider call, after the rate-limit step (where a sender waits out a database outage): a sender that has
 * held its claim for more than a quarter of herald.delivery.sending-timeout renews it, so the stale sweep (StaleSendings), which
 * takes deliveries left SENDING that long, leaves it alone while it calls. If the sweep has settled it meanwhile (UNCERTAIN,
 * or PARKED to be sent again with its key; first-success may already have moved on to the next channel), the provider is
 * not called: that would be a second copy. The delivery is then recorded as not sent (DeliveryLedger.notSentAfterWithdrawal)
 * and ClaimWithdrawn ends the exchange (routes/error-handling.camel.yaml, claim-withdrawn). A younger claim costs nothing here.
 */
@Component
public class ClaimKept {

    private final DeliveryLedger ledger;
    private final Duration renewAfter;

    public ClaimKept(DeliveryLedger ledger, DeliverySettings delivery) {
        this.ledger = ledger;
        // A quarter: what is left of the timeout must still hold the call itself (its tries and timeouts, checked at startup
        // to fit inside the whole timeout, usually well inside: 55 s of the default 5 minutes).
        this.renewAfter = delivery.sendingTimeout().dividedBy(4);
    }

    public void beforeCall(Exchange exchange) {
        DeliveryLedger.Claim claim = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        if (claim == null) {
            return;
        }
        long heldNanos = System.nanoTime() - claim.claimedAtNanos();
        if (heldNanos < renewAfter.toNanos()) {
            return;
        }
        if (!ledger.renewClaim(claim)) {
            String reason = ledger.notSentAfterWithdrawal(claim, Duration.ofNanos(heldNanos));
            throw new ClaimWithdrawn(reason);
        }
        exchange.setProperty(ChannelDelivery.CLAIM, new DeliveryLedger.Claim(claim.deliveryId(), claim.resendId(), claim.token()));
    }
}
