package io.herald.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.herald.config.IngestSettings;
import io.herald.config.KafkaSettings;
import io.herald.config.TopicSettings;
import io.herald.config.UnknownSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidPartitionsException;
import org.apache.kafka.common.errors.InvalidReplicationFactorException;
import org.apache.kafka.common.errors.PolicyViolationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Declares Herald's topics at startup, before any route produces to them (which would let the
 * broker create them with its own default partition count): a missing topic is created with
 * herald.topics.partitions and herald.topics.replication-factor; an existing one is never changed.
 * Partitions are never added either: the events are keyed by customer, and adding partitions moves
 * customers to other partitions, so the events in flight could overtake each other. An existing
 * topic with fewer partitions than configured is logged with what it limits. A created topic keeps its records for
 * herald.topics.retention (retention.ms); an existing topic that keeps them for another time is logged with what that means
 * (customers' events kept longer than configured, or deleted unread sooner) and the command that sets it.
 * <p>
 * Kafka unreachable at startup does not stop Herald (its consumers wait for the broker); the
 * declaration is tried again in the background until it succeeds. A configuration the broker
 * refuses (a replication factor above the number of brokers) stops startup, naming the key.
 */
@Component
public class HeraldTopics implements InitializingBean, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(HeraldTopics.class);
    private static final long RETRY_SECONDS = 15;

    private final String brokers;
    private final List<String> topics;
    private final int partitions;
    private final int replicationFactor;
    private final int maxMessageBytes;
    private final Duration retention;
    private ScheduledExecutorService retries;
    /** herald.kafka.security.* as client settings (KafkaClientSecurity); none for a plaintext broker. */
    private Properties security = new Properties();
    /** Where the partitions and the replication factor were set, for Kafka's refusal of them; none when made in code. */
    private String settingsSetIn = "";

    @Autowired
    public HeraldTopics(KafkaSettings kafka, KafkaClientSecurity security, TopicSettings topics, IngestSettings ingest,
                        org.springframework.core.env.Environment environment) {
        this(kafka.brokers(), List.of(topics.supportEvents(), topics.billingEvents(), topics.crmEvents(), topics.notifications(),
                topics.deadLetters()), topics.partitions(), topics.replicationFactor(), ingest.kafkaMaxRequestSize(), topics.retention());
        this.security = security.adminProperties();
        this.settingsSetIn = " (herald.topics.partitions: " + UnknownSettings.where(environment, "herald.topics.partitions")
                + "; herald.topics.replication-factor: " + UnknownSettings.where(environment, "herald.topics.replication-factor") + ")";
    }

    public HeraldTopics(String brokers, List<String> topics, int partitions, int replicationFactor) {
        this(brokers, topics, partitions, replicationFactor, 0);
    }

    /**
     * maxMessageBytes (when above 0) becomes each created topic's max.message.bytes, so that a webhook
     * body at the documented limit, plus record overhead, is taken by the broker whatever its default.
     */
    public HeraldTopics(String brokers, List<String> topics, int partitions, int replicationFactor, int maxMessageBytes) {
        this(brokers, topics, partitions, replicationFactor, maxMessageBytes, null);
    }

    /** retention (when given) becomes each created topic's retention.ms, and an existing topic's is compared with it. */
    public HeraldTopics(String brokers, List<String> topics, int partitions, int replicationFactor, int maxMessageBytes,
                        Duration retention) {
        if (retention != null && retention.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalStateException("herald.topics.retention must be at"
                    + " least a day (P1D): the broker deletes a record not read within it, so a Herald stopped for longer would lose"
                    + " the events accepted meanwhile; was " + retention);
        }
        if (partitions < 1) {
            throw new IllegalStateException("herald.topics.partitions must be"
                    + " at least 1; was " + partitions);
        }
        if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
            throw new IllegalStateException("herald.topics.replication-factor must be at least 1 (and at most the number of brokers); was "
                    + replicationFactor);
        }
        this.brokers = brokers;
        this.topics = List.copyOf(topics);
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.maxMessageBytes = maxMessageBytes;
        this.retention = retention;
    }

    @Override
    public void afterPropertiesSet() {
        try {
            declare();
        } catch (KafkaUnreachable e) {
            log.warn("Herald's Kafka topics are not declared yet: Kafka at {} could not be used ({}); trying again every {} s",
                    brokers, e.getMessage(), RETRY_SECONDS);
            retries = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "herald-topics");
                thread.setDaemon(true);
                return thread;
            });
            retries.scheduleWithFixedDelay(this::declareInBackground, RETRY_SECONDS, RETRY_SECONDS, TimeUnit.SECONDS);
        }
    }

    private void declareInBackground() {
        try {
            declare();
            retries.shutdown();
        } catch (KafkaUnreachable e) {
            log.debug("Kafka still unreachable for topic declaration: {}", e.getMessage());
        } catch (RuntimeException e) {
            log.error("Herald's Kafka topics could not be declared: {}", e.getMessage());
            retries.shutdown();
        }
    }

    @Override
    public void destroy() {
        if (retries != null) {
            retries.shutdownNow();
        }
    }

    /** Creates the missing topics; answers each topic's partition count as it now is. */
    public Map<String, Integer> declare() {
        Properties config = new Properties();
        config.putAll(security);
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "herald-topics");
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
        try (Admin admin = Admin.create(config)) {
            Map<String, Integer> existing = describe(admin);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics) {
                if (!existing.containsKey(topic)) {
                    Map<String, String> configs = new HashMap<>();
                    if (maxMessageBytes > 0) {
                        configs.put("max.message.bytes", String.valueOf(maxMessageBytes));
                    }
                    if (retention != null) {
                        configs.put("retention.ms", String.valueOf(retention.toMillis()));
                    }
                    missing.add(new NewTopic(topic, partitions, (short) replicationFactor).configs(configs));
                }
            }
            create(admin, missing);
            existing.forEach(this::report);
            reportRetention(admin, existing.keySet());
            Map<String, Integer> now = new LinkedHashMap<>();
            topics.forEach(topic -> now.put(topic, existing.getOrDefault(topic, partitions)));
            return now;
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new KafkaUnreachable(KafkaLoginRefused.in(e) ? KafkaLoginRefused.REASON : e.getMessage());
        }
    }

    private Map<String, Integer> describe(Admin admin) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Map.Entry<String, KafkaFuture<TopicDescription>> topic : admin.describeTopics(topics).topicNameValues().entrySet()) {
            try {
                counts.put(topic.getKey(), topic.getValue().get().partitions().size());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AuthorizationException && !KafkaLoginRefused.in(e)) {
                    throw new KafkaUnreachable("Herald's Kafka login may not see topic " + topic.getKey() + " (the cluster's ACLs"
                            + " refuse Describe on it): grant Herald's login DESCRIBE, READ and WRITE on it");
                }
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw new KafkaUnreachable(KafkaLoginRefused.in(e) ? KafkaLoginRefused.REASON : String.valueOf(e.getCause().getMessage()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaUnreachable("interrupted");
            }
        }
        return counts;
    }

    private void create(Admin admin, List<NewTopic> missing) {
        if (missing.isEmpty()) {
            return;
        }
        admin.createTopics(missing).values().forEach((topic, created) -> {
            try {
                created.get();
                log.info("Created Kafka topic {} with {} partitions, replication factor {}", topic, partitions, replicationFactor);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof TopicExistsException) {
                    return;   // another instance created it just now
                }
                if (cause instanceof InvalidReplicationFactorException || cause instanceof InvalidPartitionsException
                        || cause instanceof PolicyViolationException) {
                    throw new IllegalStateException("Kafka refused to create topic " + topic + " with herald.topics.partitions="
                            + partitions + " and herald.topics.replication-factor=" + replicationFactor + settingsSetIn + ": "
                            + cause.getMessage() + ". The replication factor can be at most the number of brokers", cause);
                }
                if (cause instanceof AuthorizationException) {
                    // Kafka says only "Authorization failed.": name the topic, and the two ways out.
                    throw new KafkaUnreachable("Herald's Kafka login may not create topic " + topic + " (the cluster's ACLs refuse"
                            + " it): create it (kafka-topics.sh --create --topic " + topic + " --partitions " + partitions
                            + " --replication-factor " + replicationFactor + ") or grant Herald's login CREATE on it");
                }
                throw new KafkaUnreachable(String.valueOf(cause.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaUnreachable("interrupted");
            }
        });
    }

    private void report(String topic, int count) {
        if (count < partitions) {
            log.warn("Kafka topic {} has {} partitions, fewer than herald.topics.partitions ({}): at most {} consumer threads"
                    + " across all Herald instances work on it, the others idle. Herald does not add partitions to an existing"
                    + " topic (that moves customers to other partitions, so their events in flight could be reordered); add them"
                    + " while nothing is in flight (kafka-topics.sh --alter --topic {} --partitions {})",
                    topic, count, partitions, count, topic, partitions);
        } else {
            log.info("Kafka topic {} has {} partitions: up to {} consumer threads across all Herald instances", topic, count, count);
        }
    }

    /** An existing topic that keeps its records for another time than herald.topics.retention: logged, never changed. */
    private void reportRetention(Admin admin, java.util.Collection<String> existing) {
        if (retention == null || existing.isEmpty()) {
            return;
        }
        List<ConfigResource> resources = existing.stream().map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
        admin.describeConfigs(resources).values().forEach((resource, described) -> {
            Config config;
            try {
                config = described.get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AuthorizationException) {
                    // A login that may use the topic but not read its settings: the check is skipped, the topic is declared.
                    log.warn("Kafka topic {}'s retention could not be read (Herald's Kafka login may not read topic settings:"
                            + " DescribeConfigs), so it is not compared with herald.topics.retention ({}). Check it with kafka-configs.sh"
                            + " --describe --entity-type topics --entity-name {}, or allow Herald DescribeConfigs on the topic",
                            resource.name(), inWords(retention), resource.name());
                    return;
                }
                throw new KafkaUnreachable(String.valueOf(e.getCause().getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaUnreachable("interrupted");
            }
            reportRetention(resource.name(), config);
        });
    }

    private void reportRetention(String topic, Config config) {
        ConfigEntry entry = config.get("retention.ms");
        long kept = entry == null || entry.value() == null ? -1 : Long.parseLong(entry.value());
        String fix = " Herald never changes an existing topic; to keep records for herald.topics.retention, run kafka-configs.sh"
                + " --alter --entity-type topics --entity-name " + topic + " --add-config retention.ms=" + retention.toMillis();
        if (kept < 0 || kept > retention.toMillis()) {
            log.warn("Kafka topic {} keeps its records {}, longer than herald.topics.retention ({}): the events in it, with"
                    + " customers' addresses, stay in the broker that long, whatever Herald's retention and erasure remove.{}",
                    topic, kept < 0 ? "forever (retention.ms -1)" : "for " + inWords(Duration.ofMillis(kept)), inWords(retention), fix);
        } else if (kept < retention.toMillis()) {
            log.warn("Kafka topic {} keeps its records for {}, shorter than herald.topics.retention ({}): a record Herald has"
                    + " not read within that time (Herald stopped that long) is deleted by the broker unread.{}",
                    topic, inWords(Duration.ofMillis(kept)), inWords(retention), fix);
        }
    }

    private static String inWords(Duration duration) {
        if (duration.toMillis() % Duration.ofDays(1).toMillis() == 0) {
            return duration.toDays() + (duration.toDays() == 1 ? " day" : " days");
        }
        if (duration.toMillis() % Duration.ofHours(1).toMillis() == 0) {
            return duration.toHours() + (duration.toHours() == 1 ? " hour" : " hours");
        }
        return duration.toMinutes() + " minutes";
    }

    /** Kafka did not answer (or not in time): not a configuration error, try again later. */
    static class KafkaUnreachable extends RuntimeException {
        KafkaUnreachable(String message) {
            super(message);
        }
    }
}
