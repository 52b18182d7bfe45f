package io.herald.kafka;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.IdentityHashMap;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

/**
 * Tells a fault of Herald's own infrastructure (PostgreSQL or Kafka unreachable, a connection
 * lost or timed out, the server shutting down) from a problem with the data being processed. An
 * infrastructure fault says nothing about the event: it must never be quarantined, dead-lettered
 * or recorded as a provider failure, and its Kafka offset must not be committed. The routes'
 * error handling (routes/error-handling.camel.yaml) retries the failed step with a growing pause
 * until the dependency is back, so processing resumes by itself, in order, with nothing skipped.
 * <p>
 * A provider that cannot be reached (a plain connect error from SMTP or HTTP) is not one of
 * these: the delivery's own retry and park policy handles it. What matters is where the fault
 * came from, so the whole cause chain is read: a refused connection under a JDBC or Spring data
 * access error is the database; under a Kafka error it is the broker.
 */
@Component
public class InfrastructureFaults implements Predicate {

    /** Predicate for onWhen (onException, doCatch): the exception on the exchange is an infrastructure fault. */
    @Override
    public boolean matches(Exchange exchange) {
        Throwable failure = exchange.getException();
        if (failure == null) {
            failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        }
        return isInfrastructure(failure);
    }

    /** True when any cause in the chain says a dependency (database, broker) is unreachable or timed out. */
    public static boolean isInfrastructure(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable cause = failure; cause != null && seen.put(cause, true) == null; cause = cause.getCause()) {
            if (isDatabaseUnreachable(cause) || cause instanceof RetriableException) {
                return true;
            }
            // Kafka's ACLs refusing Herald a topic or its group: the cluster's setup, not the event's; it waits until granted.
            if (KafkaAccessDenied.in(cause)) {
                return true;
            }
            // A rollback that failed too (its connection already closed, a plain SQLException without a state) replaces the
            // statement's own error, which Spring keeps aside: that one says what happened.
            if (cause instanceof TransactionSystemException rollback && rollback.getApplicationException() != null
                    && seen.put(rollback.getApplicationException(), true) == null && isInfrastructure(rollback.getApplicationException())) {
                return true;
            }
            // A commit or rollback that JDBC itself refused, with no statement's error behind it (a commit cut off by the
            // server's shutdown, then a rollback on the connection already closed): only the connection can cause that.
            // Bad data is a statement's error (or a constraint at commit, which Spring translates into one), never this.
            if (cause instanceof TransactionSystemException commitOrRollback && commitOrRollback.getApplicationException() == null
                    && commitOrRollback.getCause() instanceof SQLException) {
                return true;
            }
            // db-scheduler's JDBC runner keeps the statement's own error as a suppressed one of the rollback that failed after it.
            for (Throwable suppressed : cause.getSuppressed()) {
                if (seen.put(suppressed, true) == null && isInfrastructure(suppressed)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Which dependency an infrastructure fault is about, in words: the broker when Kafka said so, the database otherwise. */
    public static String systemOf(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable cause = failure; cause != null && seen.put(cause, true) == null; cause = cause.getCause()) {
            if (cause instanceof KafkaException) {
                return "Kafka";
            }
        }
        return "PostgreSQL";
    }

    /**
     * What is wrong, in words, for logs and answers: "PostgreSQL refuses writes (it is read-only ...)" when it answers but
     * refuses every write (a standby after a failover), "&lt;system&gt; cannot be reached" otherwise.
     */
    public static String unavailable(Throwable failure) {
        return isReadOnly(failure)
                ? "PostgreSQL refuses writes (it is read-only, e.g. a standby after a failover: point herald.db.url at the primary)"
                : systemOf(failure) + " cannot be reached";
    }

    /** True when PostgreSQL refused the write for being read-only (25006: a hot standby, or the server set read-only). */
    public static boolean isReadOnly(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable cause = failure; cause != null && seen.put(cause, true) == null; cause = cause.getCause()) {
            if (cause instanceof SQLException sql && "25006".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDatabaseUnreachable(Throwable cause) {
        if (cause instanceof DataAccessResourceFailureException      // includes CannotGetJdbcConnectionException
                || cause instanceof TransientDataAccessException     // timeouts, lock waits, deadlocks: try again
                || cause instanceof RecoverableDataAccessException
                || cause instanceof CannotCreateTransactionException
                || cause instanceof SQLTransientException             // includes SQLTransientConnectionException (pool timeout)
                || cause instanceof SQLRecoverableException
                || cause instanceof SQLNonTransientConnectionException) {
            return true;
        }
        return cause instanceof SQLException sql && isUnavailableState(sql.getSQLState());
    }

    /**
     * PostgreSQL's SQLSTATE classes for "the server, not the statement": 08 connection exception,
     * 53 insufficient resources (too many connections, disk full), 57P operator intervention
     * (shutdown, crash recovery), 40001/40P01 serialization failure and deadlock (retry succeeds), 25006 read-only
     * transaction (a hot standby after a failover, or the server set read-only: every write fails, whatever it writes),
     * 55P03 lock not available (lock_timeout) and 57014 statement cancelled (statement_timeout): the same statement
     * succeeds once the server takes writes again or the lock is free. Spring leaves 25006 uncategorized, and code that
     * reads the driver's own exception sees none of Spring's categories, so the states are read here.
     */
    static boolean isUnavailableState(String state) {
        if (state == null) {
            return false;
        }
        return state.startsWith("08") || state.startsWith("53") || state.startsWith("57P")
                || state.equals("40001") || state.equals("40P01")
                || state.equals("25006") || state.equals("55P03") || state.equals("57014");
    }
}
