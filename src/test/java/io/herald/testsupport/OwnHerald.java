package io.herald.testsupport;

import java.util.List;

import io.herald.local.EmbeddedInfrastructure;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * Settings for a test class that runs a Herald of its own next to the shared test Herald in the same JVM:
 * the embedded infrastructure's settings, a database of its own (the shared Herald's senders must not take
 * its deliveries), its own topics and consumer group, and no CRM poller. The class adds what it is about.
 */
public final class OwnHerald {

    private OwnHerald() {
    }

    /** Registers the settings; {@code name} names its database (name_with_underscores) and its topics and group. */
    public static void register(DynamicPropertyRegistry registry, EmbeddedInfrastructure infra, String name) {
        infra.heraldSettings().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("herald.db.url", () -> infra.database(name.replace('-', '_')));
        String prefix = name + "-" + System.nanoTime();
        for (String topic : List.of("support-events", "billing-events", "crm-events", "notifications", "dead-letters")) {
            registry.add("herald.topics." + topic, () -> prefix + "." + topic);
        }
        registry.add("herald.topics.replication-factor", () -> "1");
        registry.add("herald.kafka.group-id", () -> prefix);
        registry.add("herald.crm.enabled", () -> "false");
    }
}
