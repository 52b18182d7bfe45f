package io.herald.kafka;

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
