package io.herald.ingest;

import io.herald.config.CrmSettings;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Fails startup, naming the setting, when the CRM poller is on but its outbox table cannot be
 * read, or its processed_at cannot be set, rather than starting a poller that fails every half second.
 */
@Component
public class CrmOutboxCheck implements InitializingBean {

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
