package io.herald.web;

import io.herald.console.BulkRetryCut;
import io.herald.kafka.InfrastructureFaults;

/**
 * What an operator is told when their request meets PostgreSQL or Kafka unreachable: which one, that the request was not
 * finished, and what to do. Such a request used to be answered "Herald could not answer (500); the details are in its log",
 * which reads like a bug in Herald and says neither that waiting helps nor whether anything was done.
 */
public final class OutageInWords {

    /** Seconds a client is asked to wait before trying again (Retry-After), as the webhooks ask while not running. */
    public static final String RETRY_AFTER_SECONDS = "10";

    private OutageInWords() {
    }

    /** The sentence for a request the outage stopped; a bulk retry cut in the middle says how far it got. */
    public static String of(Throwable fault) {
        if (fault instanceof BulkRetryCut cut) {
            return cut.getMessage();
        }
        if (InfrastructureFaults.isReadOnly(fault)) {
            return "PostgreSQL refuses writes just now: it is read-only, e.g. a standby after a failover (point herald.db.url at"
                    + " the primary), so Herald could not finish this request. Nothing accepted is lost; once it takes writes again"
                    + " (the ops webhook announces it), look at the item again and repeat the request if it is still needed";
        }
        return InfrastructureFaults.systemOf(fault) + " cannot be reached just now, so Herald could not finish this request."
                + " Nothing accepted is lost; once it is back (the ops webhook announces it), look at the item again and repeat"
                + " the request if it is still needed";
    }
}
