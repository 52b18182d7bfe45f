package io.herald.console;

import java.util.List;

import io.herald.kafka.InfrastructureFaults;

/**
 * A bulk retry that PostgreSQL's outage stopped after it had retried some of its deliveries (each retry commits with its
 * audit row on its own): the operator is told how many were retried and that the rest are unchanged, not just that the
 * request failed, which left them guessing whether to run it again.
 */
public class BulkRetryCut extends RuntimeException {

    private final transient List<OperatorActions.Outcome> retried;

    public BulkRetryCut(List<OperatorActions.Outcome> retried, RuntimeException outage) {
        super(InfrastructureFaults.unavailable(outage) + " just now: " + retried.size() + " matching "
                + (retried.size() == 1 ? "delivery was" : "deliveries were") + " retried before it went, the others are unchanged."
                + " Once it is back (the ops webhook announces it), run the same bulk retry for the rest; the ones already retried"
                + " are queued, and retrying them again sends nothing twice", outage);
        this.retried = List.copyOf(retried);
    }

    public List<OperatorActions.Outcome> retried() {
        return retried;
    }
}
