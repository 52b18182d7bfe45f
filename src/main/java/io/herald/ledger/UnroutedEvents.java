package io.herald.ledger;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Source events that did not become notifications, kept whole with the step and the reason. */
@Component
public class UnroutedEvents {

    private final JdbcTemplate jdbc;

    public UnroutedEvents(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void quarantined(String source, String sourceEventId, String step, String reason, String rawPayload) {
        insert(source, sourceEventId, "QUARANTINED", step, reason, rawPayload);
    }

    public void ignored(String source, String sourceEventId, String reason, String rawPayload) {
        insert(source, sourceEventId, "IGNORED", "mapping", reason, rawPayload);
    }

    private void insert(String source, String sourceEventId, String outcome, String step, String reason, String rawPayload) {
        jdbc.update("INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload) VALUES (?, ?, ?, ?, ?, ?)",
                source, sourceEventId, outcome, step, reason, rawPayload == null ? "" : rawPayload.replace("\u0000", ""));
    }
}
