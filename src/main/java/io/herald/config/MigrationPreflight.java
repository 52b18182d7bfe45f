package io.herald.config;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.flywaydb.core.Flyway;
import org.springframework.boot.autoconfigure.flyway.FlywayMigrationStrategy;
import org.springframework.stereotype.Component;

/**
 * Before Flyway writes anything, asks PostgreSQL whether it would take the writes: Flyway tries to create its history table
 * ten times, a second apart, before it gives up, so a start against a read-only database (a standby) or as a user who may not
 * create tables failed ten seconds late, after ten "Schema History table creation failed" lines. With migrations pending on
 * such a database the start stops at once, and DatabaseAtStartFailureAnalyzer says what to do. A database already up to
 * date is not written by Flyway, so a read-only one still starts (not ready, DatabaseReadOnly says why) and is used once it
 * is writable again (a standby promoted).
 */
@Component
public class MigrationPreflight implements FlywayMigrationStrategy {

    @Override
    public void migrate(Flyway flyway) {
        if (flyway.info().pending().length > 0) {
            try (Connection connection = flyway.getConfiguration().getDataSource().getConnection()) {
                var settings = flyway.getConfiguration();
                refuseEarly(connection, settings.getDefaultSchema() == null && settings.getSchemas().length == 0);
            } catch (SQLException refused) {
                throw new Refused(refused);
            }
        }
        flyway.migrate();
    }

    /** PostgreSQL would refuse the migrations' writes (or could not be asked): the cause carries its SQLSTATE. */
    public static final class Refused extends IllegalStateException {
        Refused(SQLException cause) {
            super("Flyway's migrations cannot be written", cause);
        }
    }

    /**
     * Throws what PostgreSQL would answer Flyway's first write (its SQLSTATE), without the ten tries. The schema check is made
     * only where Flyway writes into the connection's own schema (no spring.flyway.schemas or default-schema set).
     */
    private void refuseEarly(Connection connection, boolean ownSchema) throws SQLException {
        if (DatabaseReadOnly.isReadOnly(connection)) {
            throw new SQLException("PostgreSQL is read-only (transaction_read_only is on)", "25006");
        }
        if (!ownSchema) {
            return;
        }
        try (Statement statement = connection.createStatement();
                ResultSet row = statement.executeQuery("SELECT current_schema() IS NULL OR has_schema_privilege(current_schema(), 'CREATE')")) {
            if (row.next() && !row.getBoolean(1)) {
                throw new SQLException("Herald's user may not create tables in schema " + connection.getSchema(), "42501");
            }
        }
    }
}
