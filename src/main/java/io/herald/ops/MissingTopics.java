package io.herald.ops;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.herald.config.IngestSettings;
import io.herald.config.TopicSettings;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Herald's topics that the broker no longer has (deleted by whoever runs the cluster, with automatic topic creation off):
 * Kafka itself answers, so nothing else tells an operator, while the webhooks writing to such a topic answer 503 and its
 * events wait. HeraldTopics creates a missing topic only at startup; the outage alert names it and the command that
 * recreates it as Herald would (OutageAlerts).
 * <p>
 * Only a topic this instance has seen on the broker and then no longer is missing: one never seen is not "deleted" but not
 * created yet (Kafka unreachable at startup and back before HeraldTopics' next try) or hidden from Herald's Kafka login
 * (listTopics leaves out the topics a login may not describe); either used to be alerted as deleted.
 */
@Component
public class MissingTopics {

    private static final Logger log = LoggerFactory.getLogger(MissingTopics.class);

    private final OpsKafkaAdmin kafka;
    private final List<String> topics;
    private final int partitions;
    private final int replicationFactor;
    private final int maxMessageBytes;
    /** The topics this instance has seen on the broker since it started. */
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    @Autowired
    public MissingTopics(OpsKafkaAdmin kafka, TopicSettings topics, IngestSettings ingest) {
        this(kafka, List.of(topics.supportEvents(), topics.billingEvents(), topics.crmEvents(), topics.notifications(),
                topics.deadLetters()), topics.partitions(), topics.replicationFactor(), ingest.kafkaMaxRequestSize());
    }

    public MissingTopics(OpsKafkaAdmin kafka, List<String> topics, int partitions, int replicationFactor, int maxMessageBytes) {
        this.kafka = kafka;
        this.topics = List.copyOf(topics);
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.maxMessageBytes = maxMessageBytes;
    }

    /**
     * Herald's topics the broker had and no longer has; none when Kafka does not answer (that is an outage of its own).
     */
    public List<String> missing() {
        if (topics.isEmpty()) {
            return List.of();
        }
        try {
            long timeout = kafka.timeout().toMillis();
            Set<String> present = kafka.admin().listTopics(new ListTopicsOptions().timeoutMs((int) timeout))
                    .names().get(timeout + 500, TimeUnit.MILLISECONDS);
            topics.stream().filter(present::contains).forEach(seen::add);
            return topics.stream().filter(topic -> seen.contains(topic) && !present.contains(topic)).toList();
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("Kafka did not list its topics for the outage check", e);
            return List.of();
        }
    }

    /** The outage alert's words for a missing topic ("%s": since when). */
    public String detail(String topic) {
        return "Kafka topic " + topic + " missing since %s (deleted on the broker, which does not create it again by itself):"
                + " webhooks writing to it answer 503 (senders retry) and the events it carries wait. Recreate it: kafka-topics.sh"
                + " --create --topic " + topic + " --partitions " + partitions + " --replication-factor " + replicationFactor
                + " --config max.message.bytes=" + maxMessageBytes + " (or restart Herald, which creates its missing topics)";
    }
}
