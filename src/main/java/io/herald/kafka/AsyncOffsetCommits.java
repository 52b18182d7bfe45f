package io.herald.kafka;

import org.apache.camel.component.kafka.consumer.DefaultKafkaManualAsyncCommitFactory;
import org.apache.camel.component.kafka.consumer.KafkaManualCommitFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * How the offsets the routes commit (bean kafkaOffsets, once an event is recorded) reach Kafka:
 * asynchronously (camel.component.kafka.kafka-manual-commit-factory=#asyncManualCommits). A commit
 * notes the record's offset; the consumer sends the latest noted offset per partition after each
 * poll without waiting for the broker, instead of a synchronous round trip per message. Only
 * offsets of recorded events are ever sent; one lost in a crash means the event is read again,
 * and the ledger's dedup absorbs it, exactly as for a crash before the commit.
 */
@Configuration
public class AsyncOffsetCommits {

    @Bean
    KafkaManualCommitFactory asyncManualCommits() {
        return new DefaultKafkaManualAsyncCommitFactory();
    }
}
