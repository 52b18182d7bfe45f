package io.herald.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.sql.SQLException;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.jdbc.UncategorizedSQLException;

/** What an operator's request that met an outage is answered: the database's state in words, and what to do. */
class OutageInWordsTest {

    @Test
    void aReadOnlyDatabaseIsNamedAsReadOnlyNotAsUnreachable() {
        String readOnly = OutageInWords.of(new UncategorizedSQLException("update", "UPDATE delivery ...",
                new SQLException("ERROR: cannot execute UPDATE in a read-only transaction", "25006")));
        assertThat(readOnly).startsWith("PostgreSQL refuses writes just now: it is read-only, e.g. a standby after a failover"
                + " (point herald.db.url at the primary)").contains("Nothing accepted is lost").doesNotContain("cannot be reached", "25006");
        assertThat(OutageInWords.of(new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLException("Connection refused", "08001", new ConnectException())))).startsWith("PostgreSQL cannot be reached just now");
    }
}
