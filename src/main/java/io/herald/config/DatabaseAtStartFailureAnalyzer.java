package io.herald.config;

import java.net.ConnectException;
import java.sql.SQLException;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;

/**
 * What the operator reads when Herald stops at startup because PostgreSQL refused it (Flyway's migrations are its first
 * connection and its first writes): which setting or which server limit, in words, instead of Flyway's "Unable to obtain
 * connection from database" or "Unable to create table" and a stack trace. Read by SQLSTATE, never by the server's message,
 * which comes in the server's language. TLS refusals have their own analyzer (DatabaseTlsFailureAnalyzer), asked first.
 */
public class DatabaseAtStartFailureAnalyzer implements FailureAnalyzer, Ordered {

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 3;
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        String[] words = words(failure);
        if (words == null) {
            return null;
        }
        return new FailureAnalysis("Herald cannot start: " + words[0], words[1] + " Then start Herald again.", failure);
    }

    /** The refusal and what to do, or null when the failure is not PostgreSQL refusing Herald. */
    static String[] words(Throwable failure) {
        boolean migrating = false;
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            migrating |= cause.getClass().getName().startsWith("org.flywaydb.") || cause instanceof MigrationPreflight.Refused;
            if (cause instanceof SQLException sql && sql.getSQLState() != null) {
                String[] words = bySqlState(sql.getSQLState(), migrating);
                if (words != null) {
                    return words;
                }
            }
            if (cause instanceof ConnectException) {
                return new String[] {"PostgreSQL did not answer at the host and port in herald.db.url (the connection was refused).",
                        "Check that PostgreSQL is running and reachable from Herald at that address, and that herald.db.url (HERALD_DB_URL)"
                                + " names it."};
            }
        }
        return null;
    }

    /** Words for a refusal by its SQLSTATE; a permission refused only counts while Flyway creates Herald's tables. */
    private static String[] bySqlState(String state, boolean migrating) {
        return switch (state) {
            case "25006" -> new String[] {"PostgreSQL at herald.db.url refuses writes: it is read-only (a standby, e.g. after a failover,"
                    + " or default_transaction_read_only set), so Herald cannot bring its tables up to date.",
                    "Point herald.db.url (HERALD_DB_URL) at the primary, or make the database writable."};
            case "53300" -> new String[] {"PostgreSQL refused Herald's connection: too many connections (its max_connections, or the"
                    + " connection limit of the database or of Herald's user, herald.db.user, is reached).",
                    "Raise the limit (max_connections; ALTER ROLE … CONNECTION LIMIT), or lower spring.datasource.hikari.maximum-pool-size"
                            + " (20 connections per instance by default: every instance holds up to that many)."};
            case "3D000" -> new String[] {"the database named in herald.db.url does not exist on that PostgreSQL.",
                    "Create it (CREATE DATABASE …, owned by herald.db.user) or correct herald.db.url (HERALD_DB_URL)."};
            case "28P01" -> new String[] {"PostgreSQL refused the password of Herald's user (herald.db.user).",
                    "Set herald.db.password (HERALD_DB_PASSWORD) to that user's password, or herald.db.user (HERALD_DB_USER) to the"
                            + " user it belongs to."};
            case "28000" -> new String[] {"PostgreSQL refused Herald's user (herald.db.user): the user does not exist, or the server's"
                    + " pg_hba.conf has no entry that lets it in from Herald's address.",
                    "Create the user (CREATE ROLE … LOGIN) or correct herald.db.user (HERALD_DB_USER); or add a pg_hba.conf entry for"
                            + " it."};
            case "42501" -> !migrating ? null : new String[] {"Herald's user (herald.db.user) may not create its tables in the database named in"
                    + " herald.db.url (permission denied).",
                    "Give it a database or schema it owns (ALTER DATABASE … OWNER TO …; since PostgreSQL 15 a new user may not create"
                            + " tables in schema public: GRANT CREATE ON SCHEMA public TO …)."};
            default -> null;
        };
    }
}
