package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.retention.MonthlyPartitions;
import io.herald.testsupport.HeraldIntegrationTest;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Retention (issue 16 point 3) on the embedded stack: one run of the retention route removes payloads past
 * herald.retention.payloads (30 days) while the rows stay, keeps the payload of a notification still being delivered,
 * clears refused-request excerpts past 7 days, deletes ledger rows past 400 days and drops the attempts' monthly
 * partitions past it; and the console, the proof of delivery, a re-drive and a retry say "payload removed by retention".
 */
class RetentionTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    ProducerTemplate camel;

    @Test
    void oldPayloadsGoRowsStayAndOldMonthsAreDropped() throws Exception {
        String run = newTicketId();
        long old = notification("ret-old-" + run, "40 days", "SENT");
        long oldFailed = notification("ret-failed-" + run, "40 days", "FAILED");
        long oldParked = notification("ret-parked-" + run, "40 days", "PARKED");
        try {
            oldPayloadsGoRowsStayAndOldMonthsAreDropped(run, old, oldFailed, oldParked);
        } finally {
            // The stand-in for a delivery still in progress is settled afterwards, so the shared Herald's later tests
            // (Quiescence) see nothing in flight.
            jdbc.update("UPDATE delivery SET state = 'SENT', next_attempt_at = NULL WHERE notification_id = ?", oldParked);
        }
    }

    private void oldPayloadsGoRowsStayAndOldMonthsAreDropped(String run, long old, long oldFailed, long oldParked) throws Exception {
        long recent = notification("ret-recent-" + run, "1 day", "SENT");
        long ancient = notification("ret-ancient-" + run, "500 days", "SENT");
        long quarantined = jdbc.queryForObject("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload, created_at, updated_at)
                VALUES ('billing', ?, 'QUARANTINED', 'identity', 'names customer cus_x, who is not in the directory',
                        '{"id": "evt_ret", "customer_email": "old.customer@example.com"}', now() - interval '40 days', now() - interval '40 days')
                RETURNING id""", Long.class, "evt_ret_" + run);
        long oldExcerpt = rejection("8 days");
        long newExcerpt = rejection("1 day");
        // Attempts of 500 days ago live in their own month, as a year and more of production would have them.
        YearMonth ancientMonth = YearMonth.from(LocalDate.now(ZoneOffset.UTC).minusDays(500));
        jdbc.queryForObject("SELECT herald_month_partitions('delivery_attempt', CAST(now() - interval '500 days' AS DATE), 0)", Integer.class);
        jdbc.update("INSERT INTO delivery_attempt (delivery_id, outcome, reason, attempted_at) SELECT id, 'SENT', 'accepted', now() - interval '500 days'"
                + " FROM delivery WHERE notification_id = ?", ancient);
        String ancientPartition = MonthlyPartitions.nameOf("delivery_attempt", ancientMonth);
        assertThat(partitions()).contains(ancientPartition);

        camel.sendBody("direct:retention", null);

        // 40 days old and settled: payloads gone, the record of what happened kept.
        Map<String, Object> gone = jdbc.queryForMap("SELECT state, raw_payload, canonical::text AS canonical, payload_removed_by"
                + " FROM notification WHERE id = ?", old);
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        assertThat(gone.get("raw_payload")).isEqualTo("payload removed by retention on " + today);
        assertThat((String) gone.get("canonical")).doesNotContain("jenny").contains("\"data\": {}", "ret-old-" + run);
        assertThat(gone.get("state")).isEqualTo("ROUTED");
        Map<String, Object> delivery = jdbc.queryForMap("SELECT state, rendered_body, subject, recipient_masked, attempts FROM delivery"
                + " WHERE notification_id = ?", old);
        assertThat(delivery.get("rendered_body")).isNull();
        assertThat(delivery.get("subject")).isNull();
        assertThat(delivery).containsEntry("state", "SENT").containsEntry("recipient_masked", "j***@example.com").containsEntry("attempts", 1);
        // Still being delivered: keeps its payload whatever its age. Recent: untouched.
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification WHERE id = ?", String.class, oldParked)).contains("jenny");
        assertThat(jdbc.queryForObject("SELECT rendered_body FROM delivery WHERE notification_id = ?", String.class, oldParked)).isNotNull();
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification WHERE id = ?", String.class, recent)).contains("jenny");
        assertThat(jdbc.queryForObject("SELECT rendered_body FROM delivery WHERE notification_id = ?", String.class, recent)).isNotNull();
        // Past the ledger's 400 days: the rows are gone, and the attempts' month with them.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE id = ?", Integer.class, ancient)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery WHERE notification_id = ?", Integer.class, ancient)).isZero();
        assertThat(partitions()).doesNotContain(ancientPartition)
                .contains(MonthlyPartitions.nameOf("delivery_attempt", YearMonth.now(ZoneOffset.UTC).plusMonths(3)));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt WHERE attempted_at < now() - interval '450 days'", Integer.class))
                .isZero();
        // Refused requests: the excerpt goes after 7 days, the row stays.
        assertThat(jdbc.queryForObject("SELECT body_excerpt FROM inbound_rejection WHERE id = ?", String.class, oldExcerpt)).isNull();
        assertThat(jdbc.queryForObject("SELECT body_excerpt FROM inbound_rejection WHERE id = ?", String.class, newExcerpt)).contains("evt_");

        // What an operator sees instead of a failure.
        HttpResponse<String> redrive = api("POST", "/api/quarantine/" + quarantined + "/redrive");
        assertThat(redrive.statusCode()).isEqualTo(409);
        assertThat(redrive.body()).contains("payload removed by retention on " + today).doesNotContain("Exception");
        long failedDelivery = jdbc.queryForObject("SELECT id FROM delivery WHERE notification_id = ?", Long.class, oldFailed);
        HttpResponse<String> retry = apiJson("POST", "/api/deliveries/" + failedDelivery + "/retry", "{\"comment\": \"customer asked\"}");
        assertThat(retry.statusCode()).isEqualTo(409);
        assertThat(retry.body()).contains("cannot be retried: its notification's payload removed by retention on " + today);
        assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, failedDelivery)).isEqualTo("FAILED");

        JsonNode proof = JSON.readTree(api("GET", "/api/notifications/" + old + "/proof").body());
        assertThat(proof.get("payloadRemoved").asText()).isEqualTo("payload removed by retention on " + today);
        assertThat(proof.get("deliveries").get(0).get("state").asText()).isEqualTo("SENT");
        assertThat(proof.get("deliveries").get(0).get("providerMessageId").asText()).isEqualTo("msg-ret-old-" + run);
        assertThat(proof.get("notes").get(0).asText()).startsWith("payload removed by retention on " + today);
        HttpResponse<String> printable = apiAs(OPERATOR, "GET", "/console/notifications/" + old + "/proof", null);
        assertThat(printable.statusCode()).isEqualTo(200);
        assertThat(printable.body()).contains("payload removed by retention on " + today);
        HttpResponse<String> timeline = apiAs(OPERATOR, "GET", "/console/notifications/" + old, null);
        assertThat(timeline.statusCode()).isEqualTo(200);
        assertThat(timeline.body()).contains("payload removed by retention on " + today);
    }

    /** A notification received that long ago with one email delivery in that state, as the engine writes them. */
    private long notification(String key, String age, String state) {
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical, raw_payload,
                                          received_at, occurred_at, updated_at)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_RkT4aB7cD9eF1g', 'ROUTED',
                        CAST(? AS JSONB), '{"id": "evt", "customer_email": "jenny.rosen@example.com"}',
                        now() - CAST(? AS INTERVAL), now() - CAST(? AS INTERVAL), now() - CAST(? AS INTERVAL)) RETURNING id""", Long.class,
                key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": {\"customerName\": \"jenny rosen\"}}", age, age, age);
        jdbc.update("""
                INSERT INTO delivery (notification_id, channel, state, recipient_masked, subject, rendered_body, provider_message_id,
                                      attempts, created_at, updated_at, failed_at, next_attempt_at)
                VALUES (?, 'email', ?, 'j***@example.com', 'Payment failed', 'Dear Jenny Rosen, your payment failed.', ?, 1,
                        now() - CAST(? AS INTERVAL), now() - CAST(? AS INTERVAL), CASE WHEN ? = 'FAILED' THEN now() - CAST(? AS INTERVAL) END,
                        CASE WHEN ? = 'PARKED' THEN now() + interval '1 hour' END)""",
                id, state, "msg-" + key, age, age, state, age, state);
        return id;
    }

    private long rejection(String age) {
        return jdbc.queryForObject("""
                INSERT INTO inbound_rejection (source, http_status, reason, body_bytes, body_excerpt, received_at)
                VALUES ('billing', 401, 'signature does not match', 40, '{"id": "evt_refused", "email": "x@example.com"}',
                        now() - CAST(? AS INTERVAL)) RETURNING id""", Long.class, age);
    }

    private java.util.List<String> partitions() {
        return jdbc.queryForList("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                + " WHERE i.inhparent = 'delivery_attempt'::regclass", String.class);
    }
}
