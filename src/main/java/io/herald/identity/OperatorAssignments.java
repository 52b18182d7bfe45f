package io.herald.identity;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An operator assigns a quarantined event that names its customer only by email to a customer (the console's quarantine
 * page, POST /api/quarantine/{id}/link): this event goes to them, and nothing is linked, so the email still matches no one
 * later. Only a customer in the directory can be chosen; one erased meanwhile is refused with the erasure as the reason
 * (UnknownCustomer: the event stays quarantined, saying so).
 */
@Component
public class OperatorAssignments {

    private final CustomerLock lock;
    private final CustomerDirectory directory;
    private final TransactionTemplate transaction;

    public OperatorAssignments(CustomerLock lock, CustomerDirectory directory, TransactionTemplate transaction) {
        this.lock = lock;
        this.directory = directory;
        this.transaction = transaction;
    }

    /** The customer the event (source, its event id) is assigned to, or UnknownCustomer saying why it cannot be. */
    public Customer assign(String customerId, String source, String sourceEventId) {
        return transaction.execute(status -> {
            // The customer's lock, as an erasure and an operator's link take it: an erasure committing now is waited for, so
            // its tombstone is found here rather than the entry it is deleting.
            lock.hold(customerId);
            return directory.find(customerId).orElseThrow(() -> new UnknownCustomer(source + " event " + sourceEventId
                    + EmailOnlyEvents.NOT_ASSIGNED + CustomerDirectory.shown(customerId) + directory.erasedOn(customerId)
                    .map(erased -> ": they were erased from Herald on " + erased)
                    .orElse(", who is not in Herald's customer directory: assign it to an existing customer, or dismiss it")));
        });
    }
}
