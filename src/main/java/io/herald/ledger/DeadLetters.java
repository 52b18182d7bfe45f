package io.herald.ledger;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The dead-letter store: a message that cannot be processed at all is kept in dead_letter with
 * its original payload, stage and reason, and the exchange body becomes the dead-letter record
 * the route then publishes to the dead-letters topic. Nothing is only logged.
 */
@Component
public class DeadLetters {

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
    /** A dead-letter record longer than this (characters; up to 4 bytes each) is published with its payload's start only. */
    static final int TOPIC_RECORD_CHARS = 256 * 1024;
    static final int PAYLOAD_START_CHARS = 64 * 1024;

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public DeadLetters(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    /** Exchange properties: the Kafka record a dead letter was read from ({@link #readFrom}). */
    static final String FROM_TOPIC = "heraldDeadLetterTopic";
    static final String FROM_PARTITION = "heraldDeadLetterPartition";
    static final String FROM_OFFSET = "heraldDeadLetterOffset";
    /** Exchange property set by {@link #record}: true when this record's dead letter is kept and published already. */
    public static final String DONE_BEFORE = "heraldDeadLetterDoneBefore";
    private static final String ID = "heraldDeadLetterId";

    /** Names the Kafka record the dead letter comes from, so that reading it again keeps no second row and publishes no second record. */
    public static void readFrom(Exchange letter, Exchange record) {
        if (record != null && record.getMessage().getHeader(KafkaConstants.OFFSET) != null) {
            letter.setProperty(FROM_TOPIC, record.getMessage().getHeader(KafkaConstants.TOPIC, String.class));
            letter.setProperty(FROM_PARTITION, record.getMessage().getHeader(KafkaConstants.PARTITION, Integer.class));
            letter.setProperty(FROM_OFFSET, record.getMessage().getHeader(KafkaConstants.OFFSET, Long.class));
        }
    }

    public void record(Exchange exchange, String stage) throws JsonProcessingException {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = StoredText.label(stage + " failed: " + readable(cause), 2000);
        String payload = exchange.getProperty("heraldRaw", String.class);
        if (payload == null) {
            payload = exchange.getMessage().getBody(String.class);
        }
        payload = payload == null ? "" : StoredText.kept(payload);
        String topic = exchange.getProperty(FROM_TOPIC, String.class);
        Integer partition = exchange.getProperty(FROM_PARTITION, Integer.class);
        Long offset = exchange.getProperty(FROM_OFFSET, Long.class);
        Long id = jdbc.query("""
                INSERT INTO dead_letter (stage, reason, payload, source_topic, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_topic, source_partition, source_offset) WHERE source_offset IS NOT NULL DO NOTHING RETURNING id""",
                (rows, n) -> rows.getLong(1), stage, reason, payload, topic, partition, offset).stream().findFirst().orElse(null);
        if (id == null) {
            // The same record read again (a consumer group rebalance, or its batch tried again after the broker refused the
            // dead-letter record): its row is there; published already, nothing more to do, else it is published now.
            Map<String, Object> kept = jdbc.queryForMap("SELECT id, published_at FROM dead_letter"
                    + " WHERE source_topic = ? AND source_partition = ? AND source_offset = ?", topic, partition, offset);
            id = ((Number) kept.get("id")).longValue();
            if (kept.get("published_at") != null) {
                exchange.setProperty(DONE_BEFORE, true);
                log.info("Dead letter {} at stage {}: its record ({} partition {} offset {}) was read again; kept and published already",
                        id, stage, topic, partition, offset);
                return;
            }
        }
        exchange.setProperty(ID, id);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("deadLetterId", id);
        record.put("stage", stage);
        record.put("reason", reason);
        record.put("payload", payload);
        String text = json.writeValueAsString(record);
        if (text.length() > TOPIC_RECORD_CHARS) {
            // Written out (quotes escaped) a payload near the topic's limit is over it, and the broker refused the record at every
            // try: the dispatch batch behind it was read again for ever. The topic gets its start; dead_letter keeps it whole.
            record.put("payload", payload.substring(0, Math.min(payload.length(), PAYLOAD_START_CHARS)));
            record.put("payloadCut", "the payload is " + payload.length() + " characters; its first " + PAYLOAD_START_CHARS
                    + " are here, all of it in Herald's dead_letter table (id " + id + ")");
            text = json.writeValueAsString(record);
        }
        exchange.getMessage().removeHeaders("*", "CamelKafkaManualCommit");
        exchange.getMessage().setHeader("kafka.KEY", stage + "-" + id);
        exchange.getMessage().setBody(text);
        log.error("Dead letter {} at stage {}: {}", id, stage, reason, cause);
    }

    /** Its record is on the dead-letters topic: reading the same source record again publishes no second one. */
    public void published(Exchange exchange) {
        jdbc.update("UPDATE dead_letter SET published_at = now() WHERE id = ?", exchange.getProperty(ID, Long.class));
    }

    /**
     * The reason in words. Herald's own refusals (thrown by io.herald code with a sentence) are kept as
     * they are; an unreadable message and anything unexpected get a sentence that says what to do, the
     * technical detail going to the log only.
     */
    static String readable(Throwable cause) {
        if (cause == null) {
            return "the message could not be processed and no cause was recorded; Herald's log has the detail";
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JsonProcessingException) {
                return "the message is not a readable canonical notification (malformed JSON or a field of the wrong type);"
                        + " it was not sent to anyone. Check what published it to the notifications topic";
            }
        }
        if (ownSentence(cause)) {
            return cause.getMessage();
        }
        return "an unexpected problem stopped it (not a known data rule); it was not sent to anyone."
                + " Herald's log has the technical detail for the engineers";
    }

    /** A message Herald wrote for people: thrown from Herald's own code, plain words. */
    private static boolean ownSentence(Throwable t) {
        String message = t.getMessage();
        StackTraceElement[] frames = t.getStackTrace();
        return message != null && !message.isBlank() && frames.length > 0 && frames[0].getClassName().startsWith("io.herald.")
                && (t instanceof IllegalStateException || t instanceof IllegalArgumentException || t.getClass().getName().startsWith("io.herald."));
    }
}
