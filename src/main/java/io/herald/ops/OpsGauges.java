package io.herald.ops;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.herald.config.KafkaSettings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The gauges the shipped dashboard and alert rules (deploy/grafana, deploy/prometheus) need besides
 * Herald's counters, refreshed in the background by routes/ops-gauges.camel.yaml so that a scrape never
 * waits for PostgreSQL or Kafka:
 * <ul>
 *   <li>herald_deliveries_parked{channel}: deliveries PARKED now (the backlog an outage builds);</li>
 *   <li>herald_breaker_open{channel}: 1 while this instance's circuit breaker for a provider is open or half open;</li>
 *   <li>herald_kafka_consumer_lag{group, topic}: records on the topic not yet committed by Herald's consumer group.</li>
 * </ul>
 * A source that does not answer keeps its last values (the outage alerts say that it is down).
 */
@Component
public class OpsGauges {

    private static final Logger log = LoggerFactory.getLogger(OpsGauges.class);
    /** Herald's consumer groups (herald.kafka.group-id + the suffix its routes use) and the topic each reads. */
    private static final Map<String, String> GROUPS = Map.of(
            "support-ingest", "herald.topics.support-events",
            "billing-ingest", "herald.topics.billing-events",
            "crm-ingest", "herald.topics.crm-events",
            "dispatch", "herald.topics.notifications");

    private final MeterRegistry registry;
    private final CamelContext camel;
    private final JdbcTemplate jdbc;
    private final ProviderBreakers breakers;
    private final OpsKafkaAdmin kafkaAdmin;
    private final String groupPrefix;
    private final Map<String, AtomicLong> values = new ConcurrentHashMap<>();

    public OpsGauges(MeterRegistry registry, CamelContext camel, JdbcTemplate jdbc, ProviderBreakers breakers,
                     OpsKafkaAdmin kafkaAdmin, KafkaSettings kafka) {
        this.registry = registry;
        this.camel = camel;
        this.jdbc = jdbc;
        this.breakers = breakers;
        this.kafkaAdmin = kafkaAdmin;
        this.groupPrefix = kafka.groupId();
    }

    /** Called by the ops-gauges route. */
    public void refresh() {
        Map<String, String> states = breakers.states();
        states.forEach((channel, state) -> set("herald.breaker.open", "Circuit breaker of a provider open (1) or closed (0), on this instance",
                ProviderBreakers.isOpen(state) ? 1 : 0, "channel", channel));
        refreshParked(states.keySet());
        refreshLag();
    }

    private void refreshParked(Iterable<String> channels) {
        Map<String, Long> parked = new HashMap<>();
        channels.forEach(channel -> parked.put(channel, 0L));
        values.keySet().stream().filter(key -> key.startsWith("herald.deliveries.parked|"))
                .forEach(key -> parked.put(key.substring(key.lastIndexOf('|') + 1), 0L));
        try {
            jdbc.query("SELECT channel, count(*) FROM delivery WHERE state = 'PARKED' GROUP BY channel",
                    row -> {
                        parked.put(row.getString(1), row.getLong(2));
                    });
        } catch (DataAccessException e) {
            log.debug("PostgreSQL did not answer the parked count; the gauge keeps its last value", e);
            return;
        }
        parked.forEach((channel, count) -> set("herald.deliveries.parked", "Deliveries parked now (waiting for their provider), per channel",
                count, "channel", channel));
    }

    private void refreshLag() {
        try {
            Admin admin = kafkaAdmin.admin();
            long timeout = kafkaAdmin.timeout().toMillis();
            for (Map.Entry<String, String> entry : GROUPS.entrySet()) {
                String group = groupPrefix + "." + entry.getKey();
                String topic = camel.getPropertiesComponent().resolveProperty(entry.getValue()).orElse(null);
                if (topic == null) {
                    continue;
                }
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(timeout, TimeUnit.MILLISECONDS);
                Map<TopicPartition, OffsetSpec> ends = new LinkedHashMap<>();
                admin.describeTopics(List.of(topic)).allTopicNames().get(timeout, TimeUnit.MILLISECONDS)
                        .get(topic).partitions().forEach(p -> ends.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> latest = admin.listOffsets(ends).all()
                        .get(timeout, TimeUnit.MILLISECONDS);
                long lag = 0;
                for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> end : latest.entrySet()) {
                    OffsetAndMetadata done = committed.get(end.getKey());
                    lag += Math.max(0, end.getValue().offset() - (done == null ? 0 : done.offset()));
                }
                set("herald.kafka.consumer.lag", "Records on a topic not yet committed by Herald's consumer group (all instances)",
                        lag, "group", group, "topic", topic);
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("Kafka did not answer the consumer lag check; the gauges keep their last values", e);
        }
    }

    private void set(String name, String description, long value, String... tags) {
        StringBuilder key = new StringBuilder(name);
        for (int i = 1; i < tags.length; i += 2) {
            key.append('|').append(tags[i]);
        }
        values.computeIfAbsent(key.toString(), k -> {
            AtomicLong holder = new AtomicLong();
            Gauge.builder(name, holder, AtomicLong::doubleValue).description(description).tags(tags).register(registry);
            return holder;
        }).set(value);
    }
}
