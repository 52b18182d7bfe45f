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
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

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

    @Test
    void aReplicationFactorAboveTheBrokersStopsStartupNamingTheKey() {
        String topic = "herald.test." + UUID.randomUUID().toString().substring(0, 8) + ".replicated";
        assertThatThrownBy(() -> new HeraldTopics(infra.kafkaBrokers(), List.of(topic), 4, 3).declare())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("herald.topics.replication-factor=3")
                .hasMessageContaining("HERALD_TOPICS_REPLICATION_FACTOR");
    }

    @Test
    void aPartitionCountBelowOneStopsStartupNamingTheKey() {
        assertThatThrownBy(() -> new HeraldTopics(infra.kafkaBrokers(), List.of("herald.test.none"), 0, 1))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("config/application.yaml herald.topics.partitions (HERALD_TOPICS_PARTITIONS) must be at least 1; was 0");
    }
}
