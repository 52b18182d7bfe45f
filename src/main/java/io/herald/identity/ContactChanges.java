package io.herald.identity;

import java.util.List;
import java.util.function.BiConsumer;

import com.fasterxml.jackson.databind.JsonNode;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a CRM contact change (contact.updated) in one transaction, under the customer's lock (CustomerLock), which an
 * erasure of the customer takes too: the tombstone is read inside the lock, so a change that waited for an erasure is
 * refused with the erasure as its reason (UnknownCustomer) and never re-creates the customer. Then the directory entry
 * (an older change than the entry's is skipped) and the links of the ids the change lists (a link newer than the change
 * is not moved).
 */
@Component
public class ContactChanges {

    /**
     * What became of a change: applied to the directory or not (older than the entry), and what of it was skipped and why,
     * in words for the operator (empty: all of it applied).
     */
    public record Outcome(boolean applied, List<String> skipped) {
    }

    private final CustomerLock lock;
    private final CustomerDirectory directory;
    private final CustomerLinks links;
    private final TransactionTemplate transaction;

    public ContactChanges(CustomerLock lock, CustomerDirectory directory, CustomerLinks links, TransactionTemplate transaction) {
        this.lock = lock;
        this.directory = directory;
        this.links = links;
        this.transaction = transaction;
    }

    /**
     * The change (its directory record, the ids it lists, and what it is called: "crm contact.updated crm-outbox-42"); what
     * of it was skipped is handed to {@code skipped} (step "directory" or "identity", reason) inside the transaction.
     */
    public Outcome apply(ContactUpdate update, JsonNode externalIds, String change, BiConsumer<String, String> skipped) {
        return transaction.execute(status -> {
            lock.hold(update.customerId());
            Outcome outcome;
            if (!directory.apply(update)) {
                outcome = new Outcome(false, List.of(change + " (changed " + update.updatedAt() + ") was not applied: customer "
                        + update.customerId() + "'s directory entry holds a newer change (changed "
                        + directory.updatedAt(update.customerId()).map(String::valueOf).orElse("at an unknown time")
                        + "), and an older change never rolls a customer back; the ids it lists were not linked either."
                        + " Nothing to do unless the newer change is wrong: then correct the contact in the CRM"));
            } else {
                outcome = new Outcome(true, links.maintain(update.customerId(), update.updatedAt(), externalIds, change));
            }
            if (!outcome.skipped().isEmpty()) {
                skipped.accept(outcome.applied() ? "identity" : "directory", String.join("; ", outcome.skipped()));
            }
            return outcome;
        });
    }
}
