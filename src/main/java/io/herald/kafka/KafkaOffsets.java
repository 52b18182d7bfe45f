package io.herald.kafka;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.apache.camel.component.kafka.consumer.KafkaManualCommit;
import org.springframework.stereotype.Component;

/**
 * Commits a consumed record's offset once the event is safely recorded (routed, ignored,
 * quarantined or delivered). Consumers run with allowManualCommit=true and autoCommitEnable=false,
 * so a crash before this step re-reads the record and the ledger's dedup absorbs it. The commit is
 * sent asynchronously, after the poll (see AsyncOffsetCommits).
 */
@Component
public class KafkaOffsets {

    /**
     * A batch (camel-kafka batching: the body is the poll's record exchanges) is recorded: commit the
     * last record of each partition it holds.
     */
    public void commitBatch(Exchange batch) {
        Object body = batch.getMessage().getBody();
        if (!(body instanceof List<?> records)) {
            commit(batch);
            return;
        }
        Map<Object, Exchange> lastPerPartition = new LinkedHashMap<>();
        for (Object record : records) {
            Exchange exchange = (Exchange) record;
            lastPerPartition.put(exchange.getMessage().getHeader(KafkaConstants.PARTITION), exchange);
        }
        lastPerPartition.values().forEach(this::commit);
    }

    public void commit(Exchange exchange) {
        KafkaManualCommit manual = exchange.getMessage().getHeader(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
        if (manual == null) {
            manual = exchange.getProperty(KafkaConstants.MANUAL_COMMIT, KafkaManualCommit.class);
        }
        if (manual != null) {
            manual.commit();
        }
    }
}
