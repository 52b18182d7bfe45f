package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herald.config.CrmSettings;
import io.herald.local.EmbeddedInfrastructure;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * A database user that may read the CRM outbox but not mark its rows processed stops startup, naming the grant: it would
 * have queued the first row again at every poll and nothing after it, for ever.
 */
class CrmOutboxCheckTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();

    @Test
    void aUserWhoMayReadTheOutboxButNotMarkItsRowsStopsStartupNamingTheGrant() {
        String url = infra.database("crm_outbox_check");
        JdbcTemplate owner = new JdbcTemplate(new DriverManagerDataSource(url, "postgres", "postgres"));
        owner.execute("CREATE TABLE IF NOT EXISTS crm_outbox (id BIGSERIAL PRIMARY KEY, event_type TEXT, payload TEXT,"
                + " created_at TIMESTAMPTZ DEFAULT now(), processed_at TIMESTAMPTZ)");
        owner.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_reader') THEN"
                + " CREATE ROLE crm_reader LOGIN PASSWORD 'reader'; END IF; END $$");
        owner.execute("REVOKE ALL ON crm_outbox FROM crm_reader");
        owner.execute("GRANT SELECT ON crm_outbox TO crm_reader");
        CrmSettings crm = new CrmSettings(true, "crm_outbox", 500, 200, 1_000_000);
        JdbcTemplate reader = new JdbcTemplate(new DriverManagerDataSource(url, "crm_reader", "reader"));

        assertThatThrownBy(() -> new CrmOutboxCheck(reader, crm).afterPropertiesSet()).isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): Herald's database user may read the CRM outbox table"
                        + " 'crm_outbox' but not set its processed_at, which marks a row queued: GRANT UPDATE (processed_at) ON crm_outbox"
                        + " to Herald's user, or set HERALD_CRM_ENABLED=false where there is no CRM.");

        owner.execute("GRANT UPDATE (processed_at) ON crm_outbox TO crm_reader");
        new CrmOutboxCheck(reader, crm).afterPropertiesSet();
        assertThat(reader.queryForObject("SELECT has_column_privilege('crm_outbox', 'processed_at', 'UPDATE')", Boolean.class)).isTrue();
    }

    /** An outbox whose payload the poller cannot read (here XML) stops startup naming the setting and the type, not every poll. */
    @Test
    void anOutboxWhosePayloadIsNotTextJsonOrBytesStopsStartupNamingTheType() {
        JdbcTemplate owner = new JdbcTemplate(new DriverManagerDataSource(infra.database("crm_outbox_check"), "postgres", "postgres"));
        owner.execute("CREATE TABLE IF NOT EXISTS crm_outbox_xml (id BIGSERIAL PRIMARY KEY, event_type TEXT, payload XML,"
                + " created_at TIMESTAMPTZ DEFAULT now(), processed_at TIMESTAMPTZ)");
        owner.execute("CREATE TABLE IF NOT EXISTS crm_outbox_jsonb (id BIGSERIAL PRIMARY KEY, event_type TEXT, payload JSONB,"
                + " created_at TIMESTAMPTZ DEFAULT now(), processed_at TIMESTAMPTZ)");

        assertThatThrownBy(() -> new CrmOutboxCheck(owner, new CrmSettings(true, "crm_outbox_xml", 500, 200, 1_000_000)).afterPropertiesSet())
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): the CRM outbox table 'crm_outbox_xml' has a payload column"
                        + " of type xml; Herald reads the event's JSON from a payload of type text, varchar, json, jsonb or bytea (UTF-8)."
                        + " Expose the outbox through a view whose payload is one of those (e.g. payload::text), or set"
                        + " HERALD_CRM_ENABLED=false where there is no CRM.");
        new CrmOutboxCheck(owner, new CrmSettings(true, "crm_outbox_jsonb", 500, 200, 1_000_000)).afterPropertiesSet();
    }
}
