package io.herald.ledger;

import java.util.Map;

/**
 * Work that belongs in the transaction of a group of claims for sending (DeliveryLedger.claimForSending): called
 * inside that transaction, after the claims are written, with how many deliveries of each channel were claimed, so
 * what they need next is obtained in the same commit instead of a transaction of its own (dispatch.ProviderPermits
 * reserves their rate-limit permits). It must not fail the claims: what it cannot do it leaves to the deliveries.
 */
public interface ClaimedForSending {

    void claimed(Map<String, Integer> claimedPerChannel);
}
