package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.apache.camel.CamelContext;
import org.apache.camel.component.kafka.KafkaConsumer;

/**
 * Holds the dispatch route's Kafka consumer for a test, so notifications are admitted but not yet dispatched, and lets it go
 * again. The consumer is suspended (its partitions paused), not stopped: it stays in its consumer group, so letting it go
 * involves no rebalance. A stopped and restarted consumer has to rejoin its group, and the coordinator may wait for the old
 * member for as long as max.poll.interval.ms (5 minutes); on a busy CI machine that once took over 2 minutes.
 */
public final class DispatchHold {

    private static final String ROUTE = "dispatch";

    private DispatchHold() {
    }

    /** Suspends dispatch and returns once its consumer has paused (a poll in progress is dispatched first). */
    public static void hold(CamelContext camel) throws Exception {
        camel.getRouteController().suspendRoute(ROUTE);
        KafkaConsumer consumer = (KafkaConsumer) camel.getRoute(ROUTE).getConsumer();
        await().atMost(Duration.ofSeconds(30)).until(consumer::isKafkaPaused);
    }

    /** Lets dispatch take notifications again, from where it was held. */
    public static void release(CamelContext camel) throws Exception {
        camel.getRouteController().resumeRoute(ROUTE);
    }
}
