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
 * <p>
 * Beware: with this factory camel-kafka's commit manager also notes the offset of every record whose
 * exchange ended, handled or not, and commits it after the partition's batch. A record that failed
 * unhandled would be committed past; so every consumer runs with breakOnFirstError=true (the failed
 * record is not noted, the offset before it is committed, and the consumer re-reads from it), and
 * an infrastructure fault (InfrastructureFaults) never ends the exchange at all: the failed step is
 * retried in place until the database or broker is back, holding that consumer thread's partitions
 * (each of herald.kafka.consumers threads has its own). An outage longer than the consumer's
 * max.poll.interval.ms (5 minutes) makes it leave the group: its partitions are read again from the
 * last committed offset, and the ledger's dedup absorbs the repeats.
 * <p>
 * Not for batching consumers (dispatch and the three ingest consumers all batch now): camel-kafka
 * 4.17's batching consumer never sends the offsets this factory only notes, so those routes set
 * DefaultKafkaManualCommitFactory and commit synchronously once per batch (KafkaOffsets.commitBatch).
 * This factory stays the default for any per-record consumer.
 */
@Configuration
public class AsyncOffsetCommits {

    @Bean
    KafkaManualCommitFactory asyncManualCommits() {
        return new DefaultKafkaManualAsyncCommitFactory();
    }
}
