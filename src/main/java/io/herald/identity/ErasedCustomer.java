package io.herald.identity;

/**
 * The event's customer was erased from Herald (the customer_erasure tombstone): the event is quarantined with that reason,
 * and without its payload, which would hold the customer's data again (io.herald.ingest.Quarantine).
 */
public class ErasedCustomer extends UnknownCustomer {

    public ErasedCustomer(String reason) {
        super(reason);
    }
}
