package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Makes a route's Kafka consumers read a record again, as a consumer group rebalance or a crash before the offset commit
 * does: once the group has committed past the record, the route is stopped, the group's offset set back to it, and the
 * route started again.
 */
public final class ReadAgain {

    private ReadAgain() {
    }

    public static void fromOffset(CamelContext camel, AdminClient admin, String routeId, String group, TopicPartition partition,
                                  long offset) throws Exception {
        await().atMost(Duration.ofSeconds(20)).until(() -> committed(admin, group, partition) > offset);
        camel.getRouteController().stopRoute(routeId);
        try {
            // Once the stopped consumers have left the group: at once when they say so on closing; a consumer whose close
            // timed out on a busy machine stays a member until herald.kafka.session-timeout-ms (45 s) has passed.
            await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> {
                admin.alterConsumerGroupOffsets(group, Map.of(partition, new OffsetAndMetadata(offset))).all().get();
                return true;
            });
        } finally {
            camel.getRouteController().startRoute(routeId);
        }
    }

    /** The group's committed offset on the partition; -1 when it has none. */
    public static long committed(AdminClient admin, String group, TopicPartition partition) throws Exception {
        OffsetAndMetadata offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(partition);
        return offset == null ? -1 : offset.offset();
    }
}
