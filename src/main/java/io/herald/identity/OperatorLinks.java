package io.herald.identity;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * An operator links a quarantined event's source id to a customer (the console's Link, then its re-drive): written under the
 * customer's lock (CustomerLock), as an erasure and a contact change of the customer are, and only while the customer is in
 * the directory. A link to a customer erased meanwhile is refused with the erasure as its reason (UnknownCustomer: the
 * event stays quarantined, saying so), never left pointing at them.
 */
@Component
public class OperatorLinks {

    private final CustomerLock lock;
    private final CustomerDirectory directory;
    private final CustomerLinks links;
    private final TransactionTemplate transaction;

    public OperatorLinks(CustomerLock lock, CustomerDirectory directory, CustomerLinks links, TransactionTemplate transaction) {
        this.lock = lock;
        this.directory = directory;
        this.links = links;
        this.transaction = transaction;
    }

    /** Links the id to the customer for the event being re-driven (source, its event id); origin: "linked by admin: comment". */
    public void link(ExternalId id, String customerId, String origin, String source, String sourceEventId) {
        transaction.executeWithoutResult(status -> {
            lock.hold(customerId);
            directory.resolve(source, sourceEventId, customerId);   // erased or gone meanwhile: UnknownCustomer with the reason
            links.link(id, customerId, origin);
        });
    }
}
