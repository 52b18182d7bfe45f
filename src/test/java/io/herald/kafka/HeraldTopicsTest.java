package io.herald.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.herald.local.EmbeddedInfrastructure;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/** Issue 12 point 9: Herald declares its topics with the configured partitions, and never changes an existing one. */
class HeraldTopicsTest {

    private final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();

    @Test
    void missingTopicsAreCreatedWithTheConfiguredPartitionsAndExistingOnesAreLeftAlone() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String missing = "herald.test." + run + ".missing";
        String smaller = "herald.test." + run + ".smaller";
        String larger = "herald.test." + run + ".larger";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            admin.createTopics(List.of(new NewTopic(smaller, 2, (short) 1), new NewTopic(larger, 8, (short) 1))).all().get();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(smaller, larger)).allTopicNames().get().size() == 2);

            ListAppender<ILoggingEvent> log = new ListAppender<>();
            log.start();
            ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).addAppender(log);
            try {
                Map<String, Integer> declared = new HeraldTopics(infra.kafkaBrokers(), List.of(missing, smaller, larger), 5, 1, 2_097_152).declare();
                assertThat(declared).containsExactlyInAnyOrderEntriesOf(Map.of(missing, 5, smaller, 2, larger, 8));
            } finally {
                ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).detachAppender(log);
            }

            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> assertThat(
                    admin.describeTopics(List.of(missing, smaller, larger)).allTopicNames().get())
                    .hasEntrySatisfying(missing, topic -> assertThat(topic.partitions()).hasSize(5))
                    .hasEntrySatisfying(smaller, topic -> assertThat(topic.partitions()).hasSize(2))
                    .hasEntrySatisfying(larger, topic -> assertThat(topic.partitions()).hasSize(8)));
            // A created topic takes a webhook body at the limit plus overhead, whatever the broker's default.
            ConfigResource created = new ConfigResource(ConfigResource.Type.TOPIC, missing);
            assertThat(admin.describeConfigs(List.of(created)).all().get().get(created).get("max.message.bytes").value())
                    .isEqualTo("2097152");
            assertThat(log.list).filteredOn(event -> event.getFormattedMessage().startsWith("Kafka topic " + smaller))
                    .singleElement().satisfies(event -> assertThat(event.getFormattedMessage()).contains(
                            "has 2 partitions, fewer than herald.topics.partitions (5): at most 2 consumer threads"
                                    + " across all Herald instances work on it"));
        }
    }

    /**
     * The events in Herald's topics carry customers' addresses: a created topic keeps them for herald.topics.retention, and an
     * existing topic that keeps them forever or for less (deleted unread if Herald is stopped that long) is logged with the
     * command that sets it; it is not changed.
     */
    @Test
    void createdTopicsKeepRecordsForTheConfiguredRetentionAndExistingOnesThatDoNotAreLogged() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String missing = "herald.test." + run + ".kept";
        String forever = "herald.test." + run + ".forever";
        String shorter = "herald.test." + run + ".shorter";
        String same = "herald.test." + run + ".same";
        long threeDays = Duration.ofDays(3).toMillis();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            admin.createTopics(List.of(new NewTopic(forever, 1, (short) 1).configs(Map.of("retention.ms", "-1")),
                    new NewTopic(shorter, 1, (short) 1).configs(Map.of("retention.ms", String.valueOf(Duration.ofDays(1).toMillis()))),
                    new NewTopic(same, 1, (short) 1).configs(Map.of("retention.ms", String.valueOf(threeDays))))).all().get();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> admin.describeTopics(List.of(forever, shorter, same)).allTopicNames().get().size() == 3);

            ListAppender<ILoggingEvent> log = new ListAppender<>();
            log.start();
            ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).addAppender(log);
            try {
                new HeraldTopics(infra.kafkaBrokers(), List.of(missing, forever, shorter, same), 1, 1, 0, Duration.ofDays(3)).declare();
            } finally {
                ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).detachAppender(log);
            }

            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
                ConfigResource created = new ConfigResource(ConfigResource.Type.TOPIC, missing);
                assertThat(admin.describeConfigs(List.of(created)).all().get().get(created).get("retention.ms").value())
                        .isEqualTo(String.valueOf(threeDays));
            });
            ConfigResource untouched = new ConfigResource(ConfigResource.Type.TOPIC, forever);
            assertThat(admin.describeConfigs(List.of(untouched)).all().get().get(untouched).get("retention.ms").value()).isEqualTo("-1");
            assertThat(log.list).filteredOn(event -> event.getFormattedMessage().startsWith("Kafka topic " + forever + " keeps"))
                    .singleElement().satisfies(event -> assertThat(event.getFormattedMessage()).isEqualTo("Kafka topic " + forever
                            + " keeps its records forever (retention.ms -1), longer than herald.topics.retention (3 days): the events in"
                            + " it, with customers' addresses, stay in the broker that long, whatever Herald's retention and erasure"
                            + " remove. Herald never changes an existing topic; to keep records for herald.topics.retention, run"
                            + " kafka-configs.sh --alter --entity-type topics --entity-name " + forever
                            + " --add-config retention.ms=259200000"));
            assertThat(log.list).filteredOn(event -> event.getFormattedMessage().startsWith("Kafka topic " + shorter + " keeps"))
                    .singleElement().satisfies(event -> assertThat(event.getFormattedMessage()).startsWith("Kafka topic " + shorter
                            + " keeps its records for 1 day, shorter than herald.topics.retention (3 days): a record Herald has not read"
                            + " within that time (Herald stopped that long) is deleted by the broker unread."));
            assertThat(log.list).noneMatch(event -> event.getFormattedMessage().startsWith("Kafka topic " + same + " keeps"))
                    .noneMatch(event -> event.getFormattedMessage().startsWith("Kafka topic " + missing + " keeps"));
        }
    }

    /**
     * A Kafka login that may create and use topics but not read their settings (no DescribeConfigs, as locked-down clusters
     * grant it): the retention check cannot be made, which is said in a warning, and the topics are declared all the same.
     * It used to fail the whole declaration as "Kafka ... did not answer (Authorization failed.)", trying again every 15 s
     * for as long as Herald ran.
     */
    @Test
    void aBrokerThatDoesNotShowTopicSettingsStillHasTheTopicsDeclared() throws Exception {
        EmbeddedKafkaKraftBroker locked = new EmbeddedKafkaKraftBroker(1, 1);
        locked.brokerProperties(Map.of("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found", "true"));
        locked.afterPropertiesSet();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, locked.getBrokersAsString()))) {
            String topic = "herald.test." + UUID.randomUUID().toString().substring(0, 8) + ".unreadable";
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            ResourcePattern tests = new ResourcePattern(ResourceType.TOPIC, "herald.test.", PatternType.PREFIXED);
            admin.createAcls(List.of(new AclBinding(tests, new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.ALL, AclPermissionType.ALLOW)),
                    new AclBinding(tests, new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.DESCRIBE_CONFIGS, AclPermissionType.DENY))))
                    .all().get();
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
                try {
                    admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, topic))).all().get();
                    return false;
                } catch (java.util.concurrent.ExecutionException e) {
                    return e.getCause() instanceof org.apache.kafka.common.errors.TopicAuthorizationException;
                }
            });

            ListAppender<ILoggingEvent> log = new ListAppender<>();
            log.start();
            ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).addAppender(log);
            Map<String, Integer> declared;
            try {
                declared = new HeraldTopics(locked.getBrokersAsString(), List.of(topic), 1, 1, 0, Duration.ofDays(7)).declare();
            } finally {
                ((Logger) LoggerFactory.getLogger(HeraldTopics.class)).detachAppender(log);
            }
            assertThat(declared).containsEntry(topic, 1);
            assertThat(log.list).filteredOn(event -> event.getFormattedMessage().startsWith("Kafka topic " + topic + "'s retention"))
                    .singleElement().satisfies(event -> assertThat(event.getFormattedMessage()).startsWith("Kafka topic " + topic
                            + "'s retention could not be read (Herald's Kafka login may not read topic settings: DescribeConfigs)"));

            // A login that may not see a missing topic (an ACL on it, none allowing Describe), and one that may see but not
            // create it: each refusal names the topic and what to do (Kafka says only "Topic authorization failed." or
            // "Authorization failed."); Herald keeps trying in the background, as for a Kafka it cannot reach.
            String unseen = "herald.unseen." + UUID.randomUUID().toString().substring(0, 8);
            String uncreatable = "herald.uncreatable." + UUID.randomUUID().toString().substring(0, 8);
            ResourcePattern uncreatables = new ResourcePattern(ResourceType.TOPIC, "herald.uncreatable.", PatternType.PREFIXED);
            admin.createAcls(List.of(
                    new AclBinding(new ResourcePattern(ResourceType.TOPIC, "herald.unseen.", PatternType.PREFIXED),
                            new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.DESCRIBE, AclPermissionType.DENY)),
                    new AclBinding(uncreatables, new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW)),
                    new AclBinding(uncreatables, new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.CREATE, AclPermissionType.DENY)),
                    // The broker and its controller are ANONYMOUS here too: with an ACL on the cluster they need one allowing
                    // them the rest (a deny wins over an allow).
                    new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                            new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.ALL, AclPermissionType.ALLOW)),
                    new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                            new AccessControlEntry("User:ANONYMOUS", "*", AclOperation.CREATE, AclPermissionType.DENY)))).all().get();
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThatThrownBy(() ->
                    new HeraldTopics(locked.getBrokersAsString(), List.of(unseen), 2, 1, 0, Duration.ofDays(7)).declare())
                    .isInstanceOf(HeraldTopics.KafkaUnreachable.class)
                    .hasMessage("Herald's Kafka login may not see topic " + unseen + " (the cluster's ACLs refuse Describe on"
                            + " it): grant Herald's login DESCRIBE, READ and WRITE on it"));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThatThrownBy(() ->
                    new HeraldTopics(locked.getBrokersAsString(), List.of(uncreatable), 2, 1, 0, Duration.ofDays(7)).declare())
                    .isInstanceOf(HeraldTopics.KafkaUnreachable.class)
                    .hasMessage("Herald's Kafka login may not create topic " + uncreatable + " (the cluster's ACLs refuse it): create"
                            + " it (kafka-topics.sh --create --topic " + uncreatable + " --partitions 2 --replication-factor 1) or grant"
                            + " Herald's login CREATE on it"));
        } finally {
            locked.destroy();
        }
    }

    @Test
    void aRetentionUnderADayStopsStartupNamingTheKey() {
        assertThatThrownBy(() -> new HeraldTopics(infra.kafkaBrokers(), List.of("herald.test.brief"), 1, 1, 0, Duration.ofHours(12)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.topics.retention must be at least a day (P1D):"
                        + " the broker deletes a record not read within it, so a Herald stopped for longer would lose the events"
                        + " accepted meanwhile; was PT12H");
    }

    @Test
    void aReplicationFactorAboveTheBrokersStopsStartupNamingTheKey() {
        String topic = "herald.test." + UUID.randomUUID().toString().substring(0, 8) + ".replicated";
        assertThatThrownBy(() -> new HeraldTopics(infra.kafkaBrokers(), List.of(topic), 4, 3).declare())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("herald.topics.replication-factor=3")
                .hasMessageNotContaining("config/application.yaml");
    }

    /**
     * Kafka's refusal of the replication factor named "config/application.yaml; HERALD_TOPICS_PARTITIONS,
     * HERALD_TOPICS_REPLICATION_FACTOR" whatever had set them; it names where each was set.
     */
    @Test
    void kafkasRefusalOfTheReplicationFactorNamesWhereItWasSet() {
        String prefix = "herald.test." + UUID.randomUUID().toString().substring(0, 8) + ".";
        org.springframework.core.env.StandardEnvironment environment = new org.springframework.core.env.StandardEnvironment();
        environment.getPropertySources().replace(org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new org.springframework.core.env.SystemEnvironmentPropertySource(
                        org.springframework.core.env.StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("HERALD_TOPICS_REPLICATION_FACTOR", "3")));
        environment.getPropertySources().addFirst(new org.springframework.core.env.MapPropertySource("test", Map.of(
                "herald.topics.support-events", prefix + "support", "herald.topics.billing-events", prefix + "billing",
                "herald.topics.crm-events", prefix + "crm", "herald.topics.notifications", prefix + "notifications",
                "herald.topics.dead-letters", prefix + "dead")));
        org.springframework.boot.context.properties.bind.Binder binder = new org.springframework.boot.context.properties.bind.Binder(
                org.springframework.boot.context.properties.source.ConfigurationPropertySources.get(environment));
        HeraldTopics topics = new HeraldTopics(new io.herald.config.KafkaSettings(infra.kafkaBrokers(), "herald", 1, 45000),
                new KafkaClientSecurity(binder.bindOrCreate("herald.kafka.security", io.herald.config.KafkaSecuritySettings.class)),
                binder.bindOrCreate("herald.topics", io.herald.config.TopicSettings.class),
                binder.bindOrCreate("herald.ingest", io.herald.config.IngestSettings.class), environment);
        assertThatThrownBy(topics::declare).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("herald.topics.replication-factor=3 (herald.topics.partitions: not set;"
                        + " herald.topics.replication-factor: environment variable HERALD_TOPICS_REPLICATION_FACTOR)")
                .hasMessageNotContaining("config/application.yaml");
    }

    @Test
    void aPartitionCountBelowOneStopsStartupNamingTheKey() {
        assertThatThrownBy(() -> new HeraldTopics(infra.kafkaBrokers(), List.of("herald.test.none"), 0, 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.topics.partitions must be at least 1; was 0");
    }
}
