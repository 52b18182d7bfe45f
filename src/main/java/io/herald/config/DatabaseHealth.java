package io.herald.config;

import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The "db" health (readiness and /actuator/health), checked in the background every
 * management.health.db-check-interval-ms and answered from the last check: while PostgreSQL is down a
 * check waits for a connection up to spring.datasource.hikari.connection-timeout, and that wait must
 * never be the health endpoint's (the image's healthcheck allows 5 s). Replaces Spring Boot's own
 * db indicator (same bean name).
 */
@Component("dbHealthIndicator")
public class DatabaseHealth implements HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(DatabaseHealth.class);

    private final DataSource dataSource;
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "herald-db-health");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Health last;

    public DatabaseHealth(DataSource dataSource, HealthCheckSettings health) {
        this.dataSource = dataSource;
        this.last = Health.unknown().withDetail("database", "PostgreSQL").withDetail("checked", "not yet").build();
        checks.scheduleWithFixedDelay(this::check, 0, Math.max(500, health.dbCheckIntervalMs()), TimeUnit.MILLISECONDS);
    }

    @Override
    public Health health() {
        return last;
    }

    private void check() {
        Instant at = Instant.now();
        try (Connection connection = dataSource.getConnection()) {
            boolean valid = connection.isValid(2);
            if (valid && DatabaseReadOnly.isReadOnly(connection)) {   // it answers, but every write fails: not ready
                last = Health.down().withDetail("database", "PostgreSQL").withDetail("checkedAt", at.toString())
                        .withDetail("reason", DatabaseReadOnly.REASON + ". Herald waits (nothing is skipped) until it takes writes")
                        .build();
                return;
            }
            last = (valid ? Health.up() : Health.down()).withDetail("database", "PostgreSQL").withDetail("checkedAt", at.toString())
                    .withDetail("tookMs", Duration.between(at, Instant.now()).toMillis()).build();
        } catch (Exception e) {
            log.debug("Database health check failed", e);
            String tls = DatabaseTlsRefused.reason(e);   // a refused TLS connection is fixed in the settings, not waited out
            last = Health.down().withDetail("database", "PostgreSQL").withDetail("checkedAt", at.toString())
                    .withDetail("reason", tls != null ? tls + ": Herald waits (nothing is skipped) until it is fixed"
                            : "PostgreSQL did not answer: Herald waits (nothing is skipped) until it is back").build();
        }
    }

    @PreDestroy
    public void stop() {
        checks.shutdownNow();
    }
}
