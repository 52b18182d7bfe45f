package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.camel.CamelContext;
import org.apache.camel.component.kafka.KafkaConfiguration;
import org.apache.camel.component.kafka.KafkaConsumer;
import org.apache.camel.component.kafka.KafkaEndpoint;
import org.apache.camel.component.kafka.TaskHealthState;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.core.ConditionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the dispatch route's Kafka consumer for a test, so notifications are admitted but not yet dispatched, and lets it go
 * again. The consumer is suspended (its partitions paused), not stopped: it stays in its consumer group, so letting it go
 * involves no rebalance. A stopped and restarted consumer has to rejoin its group, and the coordinator may wait for the old
 * member for as long as max.poll.interval.ms (5 minutes); on a busy CI machine that once took over 2 minutes.
 *
 * <p>Letting go returns once dispatch has read everything on its topic (its group's committed offsets at the topic's end).
 * camel-kafka's resume is a request the consumer thread picks up at its next poll, and that thread ends for good if its
 * poll loop is left while the route is suspended (its run loop only goes on while the consumer is not suspended): CI once
 * saw dispatch take nothing for a minute after a resume. If dispatch has not caught up within 30 s, the route is stopped
 * and started again (a new consumer), with what the old one looked like in the log.
 */
public final class DispatchHold {

    private static final String ROUTE = "dispatch";
    private static final Logger log = LoggerFactory.getLogger(DispatchHold.class);

    private DispatchHold() {
    }

    /** Suspends dispatch and returns once its consumer has paused (a poll in progress is dispatched first). */
    public static void hold(CamelContext camel) throws Exception {
        camel.getRouteController().suspendRoute(ROUTE);
        KafkaConsumer consumer = (KafkaConsumer) camel.getRoute(ROUTE).getConsumer();
        await().atMost(Duration.ofSeconds(30)).until(consumer::isKafkaPaused);
    }

    /** Lets dispatch take notifications again, from where it was held, and returns once it has read all of them. */
    public static void release(CamelContext camel) throws Exception {
        camel.getRouteController().resumeRoute(ROUTE);
        KafkaConfiguration kafka = ((KafkaEndpoint) camel.getRoute(ROUTE).getEndpoint()).getConfiguration();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000))) {
            try {
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> caughtUp(admin, kafka));
            } catch (ConditionTimeoutException stuck) {
                KafkaConsumer consumer = (KafkaConsumer) camel.getRoute(ROUTE).getConsumer();
                log.warn("Dispatch did not take what it was held from within 30 s of its resume (consumer paused: {}, tasks: {});"
                        + " restarting the route", consumer.isKafkaPaused(),
                        consumer.healthStates().stream().map(TaskHealthState::buildStateMessage).collect(Collectors.joining("; ")));
                camel.getRouteController().stopRoute(ROUTE);
                camel.getRouteController().startRoute(ROUTE);
                await().atMost(Duration.ofMinutes(3)).ignoreExceptions().until(() -> caughtUp(admin, kafka));
            }
        }
    }

    /** Whether dispatch's consumer group has committed every record on its topic. */
    private static boolean caughtUp(Admin admin, KafkaConfiguration kafka) throws Exception {
        Set<TopicPartition> partitions = admin.describeTopics(Set.of(kafka.getTopic())).allTopicNames().get().get(kafka.getTopic())
                .partitions().stream().map(p -> new TopicPartition(kafka.getTopic(), p.partition())).collect(Collectors.toSet());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(partitions.stream()
                .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(kafka.getGroupId())
                .partitionsToOffsetAndMetadata().get();
        return partitions.stream().allMatch(p -> ends.get(p).offset() == 0
                || (committed.get(p) != null && committed.get(p).offset() >= ends.get(p).offset()));
    }
}
