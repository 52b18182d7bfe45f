package io.herald.config;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.stereotype.Component;

/**
 * Gives Herald's connection pool the TLS settings (herald.db.ssl-mode, herald.db.ssl-root-cert: DatabaseTls) before its first
 * connection. Flyway's own connection takes them in DatabaseMigrations.
 */
@Component
public class DatabaseTlsPool implements BeanPostProcessor {

    private final ObjectProvider<HeraldSettings> settings;

    public DatabaseTlsPool(ObjectProvider<HeraldSettings> settings) {
        this.settings = settings;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String name) {
        if (bean instanceof HikariDataSource pool) {
            DatabaseTls.driverProperties(settings.getObject().db()).forEach((key, value) -> pool.addDataSourceProperty((String) key, value));
        }
        return bean;
    }
}
