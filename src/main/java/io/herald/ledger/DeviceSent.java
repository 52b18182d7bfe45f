package io.herald.ledger;

/**
 * The device that took a push, the last answer of its delivery's calls: written in the transaction of the delivery's SENT
 * record ({@link DeliveryLedger#sent}) by {@link DevicesSent} instead of a transaction of its own.
 */
public record DeviceSent(long deliveryId, String tokenHash, String tokenMasked, String providerMessageId) {
}
