package io.herald.config;

import org.springframework.boot.autoconfigure.flyway.FlywayConfigurationCustomizer;
import org.springframework.boot.autoconfigure.jdbc.DataSourceProperties;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.stereotype.Component;

/**
 * Flyway's migrations run on a connection of their own, without the read timeout Herald's pool sets
 * (herald.infrastructure.db-read-timeout-s, the driver's socketTimeout): a migration may rewrite a large table (V38 moves
 * every payload) for longer than any statement of the running engine, and must not be cut off halfway through. It takes the
 * pool's TLS settings (herald.db.ssl-mode, herald.db.ssl-root-cert: DatabaseTls).
 */
@Component
public class DatabaseMigrations implements FlywayConfigurationCustomizer {

    private final DataSourceProperties database;
    private final HeraldSettings settings;

    public DatabaseMigrations(DataSourceProperties database, HeraldSettings settings) {
        this.database = database;
        this.settings = settings;
    }

    @Override
    public void customize(org.flywaydb.core.api.configuration.FluentConfiguration configuration) {
        DriverManagerDataSource migrations = new DriverManagerDataSource(database.determineUrl(), database.determineUsername(),
                database.determinePassword());
        migrations.setConnectionProperties(DatabaseTls.driverProperties(settings.db()));
        configuration.dataSource(migrations);
    }
}
