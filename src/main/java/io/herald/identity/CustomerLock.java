package io.herald.identity;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * One customer's directory changes one at a time. A CRM contact change (ContactChanges) and an erasure
 * (retention/CustomerErasure) of the same customer both take this lock before they read the erasure tombstone or the
 * directory, so a contact change never re-creates a customer whose erasure committed while it was being applied: it
 * waits for the erasure, then finds the tombstone. A transaction-scoped PostgreSQL advisory lock on the customer id,
 * held until the caller's transaction ends (two ids sharing a hash only wait for each other).
 */
@Component
public class CustomerLock {

    private final JdbcTemplate jdbc;

    public CustomerLock(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Waits for the customer's lock and holds it until the current transaction ends; outside a transaction it would hold nothing. */
    public void hold(String customerId) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("the lock of customer " + customerId + " is held until a transaction ends: take it in one");
        }
        jdbc.query("SELECT pg_advisory_xact_lock(hashtext('herald.customer'), hashtext(?))", row -> null, customerId);
    }
}
