package io.herald.config;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * PostgreSQL that answers but refuses every write: a hot standby (herald.db.url left on the old primary's replica after a
 * failover) or a server set read-only (default_transaction_read_only). Every write fails with SQLSTATE 25006 "cannot execute
 * INSERT in a read-only transaction", which is an outage of the database like one that does not answer (InfrastructureFaults),
 * not a fault of the event being written. Readiness and the outage alert ask for it, since a read-only server still answers
 * their reads.
 */
public final class DatabaseReadOnly {

    /** What the operator reads (readiness, the outage alert). */
    public static final String REASON = "PostgreSQL refuses writes: it is read-only, e.g. a standby after a failover;"
            + " point herald.db.url at the primary";

    private static final String QUERY = "SELECT current_setting('transaction_read_only')";

    private DatabaseReadOnly() {
    }

    /** True when a new transaction on this connection is read-only (a hot standby's always are). */
    public static boolean isReadOnly(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet row = statement.executeQuery(QUERY)) {
            return row.next() && "on".equals(row.getString(1));
        }
    }

    /** The same, asked through a JdbcTemplate (a transaction of its own unless one is under way). */
    public static boolean isReadOnly(JdbcTemplate jdbc) {
        return "on".equals(jdbc.queryForObject(QUERY, String.class));
    }
}
