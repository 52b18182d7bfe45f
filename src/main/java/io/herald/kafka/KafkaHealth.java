package io.herald.kafka;

import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.herald.config.HealthCheckSettings;
import io.herald.config.KafkaSettings;
import jakarta.annotation.PreDestroy;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The "kafka" health (readiness and /actuator/health): whether the brokers in herald.kafka.brokers answer,
 * checked in the background every management.health.kafka-check-interval-ms and answered from the last
 * check, so the health endpoint never waits for an unreachable broker. While Kafka is down the webhooks
 * answer 503 and nothing flows, so the instance is not ready; liveness stays UP (a restart would not help).
 */
@Component("kafkaHealthIndicator")
public class KafkaHealth implements HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(KafkaHealth.class);
    private static final int TIMEOUT_MS = 3000;

    private final String brokers;
    private final KafkaClientSecurity security;
    private final ScheduledExecutorService checks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "herald-kafka-health");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Health last;
    private Admin admin;

    public KafkaHealth(KafkaSettings kafka, KafkaClientSecurity security, HealthCheckSettings health) {
        this.brokers = kafka.brokers();
        this.security = security;
        this.last = Health.unknown().withDetail("brokers", brokers).withDetail("checked", "not yet").build();
        checks.scheduleWithFixedDelay(this::check, 0, Math.max(500, health.kafkaCheckIntervalMs()), TimeUnit.MILLISECONDS);
    }

    @Override
    public Health health() {
        return last;
    }

    private void check() {
        Instant at = Instant.now();
        try {
            int nodes = admin().describeCluster(new DescribeClusterOptions().timeoutMs(TIMEOUT_MS)).nodes()
                    .get(TIMEOUT_MS + 500, TimeUnit.MILLISECONDS).size();
            last = Health.up().withDetail("brokers", brokers).withDetail("nodes", nodes).withDetail("checkedAt", at.toString())
                    .withDetail("tookMs", Duration.between(at, Instant.now()).toMillis()).build();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("Kafka health check failed", e);
            last = Health.down().withDetail("brokers", brokers).withDetail("checkedAt", at.toString())
                    .withDetail("reason", KafkaLoginRefused.in(e)
                            ? KafkaLoginRefused.REASON + ": webhooks answer 503 (senders retry) and events wait until it is fixed"
                            : "Kafka did not answer: webhooks answer 503 (senders retry) and events wait until it is back").build();
        }
    }

    private synchronized Admin admin() {
        if (admin == null) {
            Properties config = security.adminProperties();
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
            config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
            config.put(AdminClientConfig.CLIENT_ID_CONFIG, "herald-health");
            admin = Admin.create(config);
        }
        return admin;
    }

    @PreDestroy
    synchronized void stop() {
        checks.shutdownNow();
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }
}
