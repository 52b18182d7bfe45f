package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** One customer's CRM rows share one Kafka key, so they keep their order whichever of the account's ids a row carries. */
class CrmOutboxKeyTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aContactChangeAndAnOrderOfOneAccountShareTheirKey() throws Exception {
        JsonNode contact = JSON.readTree("{\"account\": {\"externalId\": \"cus_A\", \"crmId\": \"001\"}, \"email\": \"a@example.org\"}");
        JsonNode order = JSON.readTree("{\"account\": {\"crmId\": \"001\"}, \"orderId\": \"ORD-1\"}");
        assertThat(CrmOutboxRows.customerKey(10, contact)).isEqualTo("001").isEqualTo(CrmOutboxRows.customerKey(11, order));
        // A CRM that names only Herald's customer id keys by it; a row naming no account by itself.
        assertThat(CrmOutboxRows.customerKey(12, JSON.readTree("{\"account\": {\"externalId\": \"cus_A\"}}"))).isEqualTo("cus_A");
        assertThat(CrmOutboxRows.customerKey(13, JSON.readTree("{\"orderId\": \"ORD-2\"}"))).isEqualTo("crm-outbox-13");
        // A payload the CRM encoded twice (a JSON string holding the object) is keyed by the object inside, not by its row.
        JsonNode twice = JSON.readTree(JSON.writeValueAsString(JSON.writeValueAsString(order)));
        assertThat(twice.isTextual()).isTrue();
        assertThat(CrmOutboxRows.customerKey(14, CrmOutboxRows.inner(JSON, twice))).isEqualTo("001");
    }
}
