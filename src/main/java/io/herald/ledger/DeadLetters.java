package io.herald.ledger;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
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

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public DeadLetters(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    public void record(Exchange exchange, String stage) throws JsonProcessingException {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String reason = stage + " failed: " + (cause == null ? "unknown error" : cause.getClass().getSimpleName() + ": " + cause.getMessage());
        String payload = exchange.getProperty("heraldRaw", String.class);
        if (payload == null) {
            payload = exchange.getMessage().getBody(String.class);
        }
        payload = payload == null ? "" : payload.replace("\u0000", "");
        Long id = jdbc.queryForObject("INSERT INTO dead_letter (stage, reason, payload) VALUES (?, ?, ?) RETURNING id",
                Long.class, stage, reason, payload);
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("deadLetterId", id);
        record.put("stage", stage);
        record.put("reason", reason);
        record.put("payload", payload);
        exchange.getMessage().removeHeaders("*", "CamelKafkaManualCommit");
        exchange.getMessage().setHeader("kafka.KEY", stage + "-" + id);
        exchange.getMessage().setBody(json.writeValueAsString(record));
        log.error("Dead letter {} at stage {}: {}", id, stage, reason);
    }
}
