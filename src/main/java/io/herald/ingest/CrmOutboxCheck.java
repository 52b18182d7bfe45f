package io.herald.ingest;

import java.util.Set;

import io.herald.config.CrmSettings;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Fails startup, naming the setting, when the CRM poller is on but its outbox table cannot be
 * read, its payload column is of a type the poller cannot read, or its processed_at cannot be set, rather than starting a
 * poller that fails every half second.
 */
@Component
public class CrmOutboxCheck implements InitializingBean {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CrmOutboxCheck.class);

    /** The payload column types the poller reads (V52's size and start functions take text, json, jsonb and bytea). */
    static final Set<String> READABLE_PAYLOADS = Set.of("text", "character varying", "character", "json", "jsonb", "bytea");

    private final JdbcTemplate jdbc;
    private final boolean enabled;
    private final String table;

    public CrmOutboxCheck(JdbcTemplate jdbc, CrmSettings crm) {
        this.jdbc = jdbc;
        this.enabled = crm.enabled();
        this.table = crm.outboxTable();
    }

    @Override
    public void afterPropertiesSet() {
        if (!enabled) {
            return;
        }
        if (!table.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
            throw new IllegalStateException("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE) '" + table + "' is not a table name");
        }
        try {
            jdbc.queryForList("SELECT id, event_type, payload, created_at, processed_at FROM " + table + " WHERE false");
        } catch (DataAccessException e) {
            throw new IllegalStateException("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): the CRM outbox table '" + table
                    + "' cannot be read from Herald's database (" + e.getMostSpecificCause().getMessage().lines().findFirst().orElse("")
                    + "). Expose the CRM outbox there, or set HERALD_CRM_ENABLED=false where there is no CRM.", e);
        }
        // A payload of another type (xml, an array, a number) would fail every poll: PostgreSQL has no size function for it.
        String payloadType = jdbc.queryForObject("""
                SELECT format_type(coalesce(nullif(t.typbasetype, 0), t.oid), NULL) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = CAST(? AS regclass) AND a.attname = 'payload' AND NOT a.attisdropped""", String.class, table);
        if (!READABLE_PAYLOADS.contains(payloadType)) {
            throw new IllegalStateException("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): the CRM outbox table '" + table
                    + "' has a payload column of type " + payloadType + "; Herald reads the event's JSON from a payload of type text,"
                    + " varchar, json, jsonb or bytea (UTF-8). Expose the outbox through a view whose payload is one of those"
                    + " (e.g. payload::text), or set HERALD_CRM_ENABLED=false where there is no CRM.");
        }
        // A created_at without a time zone says nothing of the zone it was written in: read as UTC (CrmOutboxRows.createdAt),
        // said once here, so that a CRM writing local times knows to expose the outbox with its zone.
        String createdAtType = jdbc.queryForObject("""
                SELECT format_type(coalesce(nullif(t.typbasetype, 0), t.oid), NULL) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = CAST(? AS regclass) AND a.attname = 'created_at' AND NOT a.attisdropped""", String.class, table);
        if ("timestamp without time zone".equals(createdAtType)) {
            log.info("herald.crm.outbox-table: the CRM outbox table '{}' has a created_at without a time zone (timestamp without time"
                    + " zone); Herald reads those times as UTC. If the CRM writes them in another zone, expose the outbox through a view"
                    + " whose created_at has it (created_at AT TIME ZONE 'Europe/Berlin'), or make the column timestamptz", table);
        }
        // Herald marks each queued row processed: without the right to, the first row would be queued again every poll and
        // nothing after it ever (the failed UPDATE undoes the claim, and it is no outage to wait out).
        Boolean mayMark = jdbc.queryForObject("SELECT has_column_privilege(?, 'processed_at', 'UPDATE')", Boolean.class, table);
        if (!Boolean.TRUE.equals(mayMark)) {
            throw new IllegalStateException("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): Herald's database user may read the CRM"
                    + " outbox table '" + table + "' but not set its processed_at, which marks a row queued: GRANT UPDATE (processed_at)"
                    + " ON " + table + " to Herald's user, or set HERALD_CRM_ENABLED=false where there is no CRM.");
        }
    }
}
