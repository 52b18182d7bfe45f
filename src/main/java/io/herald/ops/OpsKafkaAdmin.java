package io.herald.ops;

import java.time.Duration;
import java.util.Properties;

import io.herald.config.AlertSettings;
import io.herald.config.KafkaSettings;
import io.herald.kafka.KafkaClientSecurity;
import jakarta.annotation.PreDestroy;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.springframework.stereotype.Component;

/**
 * One Kafka admin client for Herald's own checks (the outage alerts' "is Kafka there", the consumer lag gauges), made
 * when first needed, each call bounded by herald.alerts.outage-check-timeout-ms so a check never hangs on a broker
 * that is gone.
 */
@Component
public class OpsKafkaAdmin {

    private final String brokers;
    private final KafkaClientSecurity security;
    private final Duration timeout;
    private Admin admin;

    public OpsKafkaAdmin(KafkaSettings kafka, KafkaClientSecurity security, AlertSettings alerts) {
        this.brokers = kafka.brokers();
        this.security = security;
        this.timeout = Duration.ofMillis(alerts.outageCheckTimeoutMs());
    }

    /** The longest a check waits for Kafka. */
    public Duration timeout() {
        return timeout;
    }

    public synchronized Admin admin() {
        if (admin == null) {
            Properties config = security.adminProperties();
            config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
            config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
            config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
            config.put(AdminClientConfig.CLIENT_ID_CONFIG, "herald-ops-check");
            admin = Admin.create(config);
        }
        return admin;
    }

    @PreDestroy
    synchronized void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }
}
