package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.retention.MonthlyPartitions;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Polls;
import io.herald.testsupport.UtcDays;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Retention (issue 16 point 3) on the embedded stack: one run of the retention route drops the monthly partitions of
 * payloads (notification_payload, delivery_content) whose month is past herald.retention.payloads (30 days) while the
 * ledger rows stay, carries the payload of a notification of that month still being delivered to the default partition,
 * removes payloads in the default partition past the period row by row, clears refused-request excerpts past 7 days,
 * deletes ledger rows past 400 days and drops the attempts' monthly partitions past it, drops the receipts' months past
 * herald.retention.receipts keeping the receipts a suppression names; and the console, the proof of delivery, a re-drive
 * and a retry say "payload removed by retention".
 */
class RetentionTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    ProducerTemplate camel;

    /**
     * The shared Herald runs retention itself herald.retention.first-run-delay-ms (5 s) after it starts: a test here that ran
     * first in its JVM met that run, which dropped the month of receipts the test had just made, before the test counted its
     * rows ("relation delivery_receipt_p2025_07 does not exist"). The tests run the job themselves once that run is over.
     */
    @BeforeEach
    void afterHeraldsOwnFirstRun() {
        Polls.afterFirstRetentionRun(camel.getCamelContext());
    }

    @Test
    void oldPayloadsGoRowsStayAndOldMonthsAreDropped() throws Exception {
        String run = newTicketId();
        // Every age below counts back from this one instant, and the months are those of these instants: rows written a
        // moment apart, on either side of midnight at a month's end, would otherwise land in a month other than the one
        // the test made partitions for or names.
        Instant started = Instant.now();
        // 70 days old: in a month that ended more than 30 days ago, whatever today's date. Its payloads get their month's
        // partitions, as they would have had when they arrived.
        for (String table : MonthlyPartitions.PAYLOAD_TABLES) {
            jdbc.queryForObject("SELECT herald_month_partitions(?, ?, 0)", Integer.class, table,
                    java.sql.Date.valueOf(monthOf(started, 70).atDay(1)));
        }
        long old = notification("ret-old-" + run, started, 70, "SENT");
        long oldFailed = notification("ret-failed-" + run, started, 70, "FAILED");
        long oldParked = notification("ret-parked-" + run, started, 70, "PARKED");
        try {
            oldPayloadsGoRowsStayAndOldMonthsAreDropped(run, started, old, oldFailed, oldParked);
        } finally {
            // The stand-in for a delivery still in progress is settled afterwards, so the shared Herald's later tests
            // (Quiescence) see nothing in flight.
            jdbc.update("UPDATE delivery SET state = 'SENT', next_attempt_at = NULL WHERE notification_id = ?", oldParked);
        }
    }

    private void oldPayloadsGoRowsStayAndOldMonthsAreDropped(String run, Instant started, long old, long oldFailed, long oldParked)
            throws Exception {
        long recent = notification("ret-recent-" + run, started, 1, "SENT");
        long ancient = notification("ret-ancient-" + run, started, 500, "SENT");
        // 200 days old, in a month without partitions: its payload is in the default partition.
        long defaulted = notification("ret-default-" + run, started, 200, "SENT");
        // Its in-app message and an operator's resend's (a row of its own, named by the resend: V74).
        long ancientDelivery = jdbc.queryForObject("SELECT id FROM delivery WHERE notification_id = ? ORDER BY id LIMIT 1", Long.class, ancient);
        long ancientResend = jdbc.queryForObject("INSERT INTO delivery_resend (delivery_id, requested_by) VALUES (?, 'ops') RETURNING id",
                Long.class, ancientDelivery);
        jdbc.update("INSERT INTO inbox_message (customer_id, delivery_id, type, title, body) VALUES ('cus_ret', ?, 't', 'T', 'B')", ancientDelivery);
        jdbc.update("INSERT INTO inbox_message (customer_id, resend_id, type, title, body) VALUES ('cus_ret', ?, 't', 'T', 'B again')", ancientResend);
        YearMonth oldMonth = monthOf(started, 70);
        String oldPayloads = MonthlyPartitions.nameOf("notification_payload", oldMonth);
        String oldContent = MonthlyPartitions.nameOf("delivery_content", oldMonth);
        assertThat(partitionsOf("notification_payload")).contains(oldPayloads);
        assertThat(partitionsOf("delivery_content")).contains(oldContent);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM " + oldPayloads, Integer.class)).isEqualTo(3);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload_default WHERE notification_id = ?", Integer.class,
                defaulted)).isOne();
        long quarantined = jdbc.queryForObject("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload, created_at, updated_at)
                VALUES ('billing', ?, 'QUARANTINED', 'identity', 'names customer cus_x, who is not in the directory',
                        '{"id": "evt_ret", "customer_email": "old.customer@example.com"}', now() - interval '40 days', now() - interval '40 days')
                RETURNING id""", Long.class, "evt_ret_" + run);
        long oldExcerpt = rejection("8 days");
        long newExcerpt = rejection("1 day");
        // Attempts of 500 days ago live in their own month, as a year and more of production would have them.
        YearMonth ancientMonth = monthOf(started, 500);
        jdbc.queryForObject("SELECT herald_month_partitions('delivery_attempt', ?, 0)", Integer.class,
                java.sql.Date.valueOf(ancientMonth.atDay(1)));
        jdbc.update("INSERT INTO delivery_attempt (delivery_id, outcome, reason, attempted_at) SELECT id, 'SENT', 'accepted', ?"
                + " FROM delivery WHERE notification_id = ?", daysBefore(started, 500), ancient);
        String ancientPartition = MonthlyPartitions.nameOf("delivery_attempt", ancientMonth);
        assertThat(partitions()).contains(ancientPartition);

        // The run's month and date: this one's or, past midnight, a later one.
        YearMonth runMonth = YearMonth.now(ZoneOffset.UTC);
        LocalDate runDay = UtcDays.today();
        camel.sendBody("direct:retention", null);

        // The month of 70 days ago: both its payload partitions dropped whole (the catalog no longer lists them), and the
        // month recorded; the ledger rows of that month stay.
        assertThat(partitionsOf("notification_payload")).doesNotContain(oldPayloads)
                .contains(MonthlyPartitions.nameOf("notification_payload", runMonth.plusMonths(3)));
        assertThat(partitionsOf("delivery_content")).doesNotContain(oldContent)
                .contains(MonthlyPartitions.nameOf("delivery_content", runMonth));
        assertThat(jdbc.queryForObject("SELECT to_regclass(?) IS NULL", Boolean.class, oldPayloads)).isTrue();
        assertThat(jdbc.queryForList("SELECT month FROM payload_month_dropped", java.sql.Date.class))
                .extracting(java.sql.Date::toLocalDate).contains(oldMonth.atDay(1));
        // Settled: payloads gone, the record of what happened kept.
        Map<String, Object> gone = jdbc.queryForMap("SELECT state, herald_canonical(id, received_at, canonical)::text AS canonical"
                + " FROM notification_all WHERE id = ?", old);
        assertThat((String) gone.get("canonical")).doesNotContain("jenny").contains("\"data\": {}", "ret-old-" + run);
        assertThat(gone.get("state")).isEqualTo("ROUTED");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id IN (?, ?)", Integer.class,
                old, oldFailed)).isZero();
        Map<String, Object> delivery = jdbc.queryForMap("SELECT d.state, c.rendered_body, c.subject, d.recipient_masked, d.attempts"
                + " FROM delivery_all d LEFT JOIN delivery_content c ON c.delivery_id = d.id WHERE d.notification_id = ?", old);
        assertThat(delivery.get("rendered_body")).isNull();
        assertThat(delivery.get("subject")).isNull();
        assertThat(delivery).containsEntry("state", "SENT").containsEntry("recipient_masked", "j***@example.com").containsEntry("attempts", 1);
        // In the default partition and past the period: removed row by row, its notification marked.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id = ?", Integer.class, defaulted)).isZero();
        assertThat(body(defaulted)).isNull();
        assertThat(jdbc.queryForObject("SELECT payload_removed_by FROM notification_all WHERE id = ?", String.class, defaulted))
                .isEqualTo("retention");
        // Still being delivered: keeps its payload whatever its age, now in the default partitions. Recent: untouched.
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification_payload_default WHERE notification_id = ?", String.class,
                oldParked)).contains("jenny");
        assertThat(jdbc.queryForObject("SELECT herald_canonical(id, received_at, canonical)::text FROM notification WHERE id = ?",
                String.class, oldParked)).contains("jenny rosen");
        assertThat(jdbc.queryForObject("SELECT c.rendered_body FROM delivery_content_default c JOIN delivery d ON d.id = c.delivery_id"
                + " WHERE d.notification_id = ?", String.class, oldParked)).contains("Jenny Rosen");
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM notification_payload WHERE notification_id = ?", String.class, recent))
                .contains("jenny");
        assertThat(body(recent)).isNotNull();
        // Past the ledger's 400 days: the rows are gone, and the attempts' month with them.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE id = ?", Integer.class, ancient)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_all WHERE notification_id = ?", Integer.class, ancient)).isZero();
        assertThat(partitionsOf("notification_all")).doesNotContain(archived("notification", ancientMonth));
        assertThat(partitionsOf("delivery_all")).doesNotContain(archived("delivery", ancientMonth));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_resend WHERE id = ?", Integer.class, ancientResend)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_content WHERE delivery_id = ?", Integer.class, ancientDelivery)).isZero();
        // Settled and past herald.retention.archive-after (30 days): moved, with their deliveries, to their month of the
        // archive; still in progress (parked) or recent: in the engine's working set.
        for (long archived : new long[] {old, oldFailed, defaulted}) {
            assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification_all WHERE id = ?", String.class, archived))
                    .startsWith("notification_a");
            assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM delivery_all WHERE notification_id = ?", String.class, archived))
                    .startsWith("delivery_a");
        }
        assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification_all WHERE id = ?", String.class, old))
                .isEqualTo(archived("notification", oldMonth));
        for (long working : new long[] {oldParked, recent}) {
            assertThat(jdbc.queryForObject("SELECT tableoid::regclass::text FROM notification_all WHERE id = ?", String.class, working))
                    .isEqualTo("notification");
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbox_message WHERE delivery_id = ? OR resend_id = ?", Integer.class,
                ancientDelivery, ancientResend)).isZero();
        assertThat(partitions()).doesNotContain(ancientPartition)
                .contains(MonthlyPartitions.nameOf("delivery_attempt", runMonth.plusMonths(3)));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_attempt WHERE attempted_at < now() - interval '450 days'", Integer.class))
                .isZero();
        // Refused requests: the excerpt goes after 7 days, the row stays.
        assertThat(jdbc.queryForObject("SELECT body_excerpt FROM inbound_rejection WHERE id = ?", String.class, oldExcerpt)).isNull();
        assertThat(jdbc.queryForObject("SELECT body_excerpt FROM inbound_rejection WHERE id = ?", String.class, newExcerpt)).contains("evt_");

        // What an operator sees instead of a failure.
        HttpResponse<String> redrive = api("POST", "/api/quarantine/" + quarantined + "/redrive");
        assertThat(redrive.statusCode()).isEqualTo(409);
        assertThat(redrive.body()).containsAnyOf(UtcDays.textArray(runDay, "payload removed by retention on ", ""))
                .doesNotContain("Exception");
        // The date the run dropped the month of 70 days ago on, read once from the proof and then expected everywhere else.
        JsonNode proof = JSON.readTree(api("GET", "/api/notifications/" + old + "/proof").body());
        String today = UtcDays.dayNamedIn(proof.get("payloadRemoved").asText(), "payload removed by retention on ", "", runDay);
        long failedDelivery = jdbc.queryForObject("SELECT id FROM delivery_all WHERE notification_id = ?", Long.class, oldFailed);
        HttpResponse<String> retry = apiJson("POST", "/api/deliveries/" + failedDelivery + "/retry", "{\"comment\": \"customer asked\"}");
        assertThat(retry.statusCode()).isEqualTo(409);
        assertThat(retry.body()).contains("cannot be retried: its notification's payload removed by retention on " + today);
        // Refused, so left where it was: in the archive, FAILED.
        assertThat(jdbc.queryForMap("SELECT state, tableoid::regclass::text AS place FROM delivery_all WHERE id = ?", failedDelivery))
                .containsEntry("state", "FAILED").containsEntry("place", archived("delivery", oldMonth));

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

    /** What customers texted to Herald's number goes after the ledger period, like the rest of the ledger. */
    @Test
    void textsToHeraldsNumberGoAfterTheLedgerPeriod() {
        String run = newTicketId();
        jdbc.update("""
                INSERT INTO inbound_sms (message_sid, from_masked, customer_id, keyword, action, outcome, reason, excerpt, received_at)
                VALUES (?, '+447…0123', 'cus_ret_sms', NULL, 'NONE', 'RECORDED', 'kept', 'see you at 10', now() - interval '500 days'),
                       (?, '+447…0123', 'cus_ret_sms', 'STOP', 'OPT_OUT', 'CONSENT_OFF', 'off', 'STOP', now() - interval '3 days')""",
                "SMold" + run, "SMnew" + run);

        camel.sendBody("direct:retention", null);

        assertThat(jdbc.queryForList("SELECT message_sid FROM inbound_sms WHERE message_sid IN (?, ?)", String.class, "SMold" + run,
                "SMnew" + run)).containsExactly("SMnew" + run);
    }

    @Test
    void incidentsAndWhoTheyNamedGoAfterTheLedgerPeriodUnlessStillFiring() {
        String run = newTicketId();
        // Resolved 500 days ago, with the customer its firing named: both go.
        long old = incident("old-" + run, "resolved", "520 days", "500 days");
        named(old, null, "cus_ret_old", "500 days");
        // Firing for 500 days (Alertmanager never resolved it): its current firing's record stays, so a resolution can
        // still follow up; the record of an earlier firing of the same group goes.
        long longFiring = incident("firing-" + run, "firing", "500 days", "450 days");
        named(longFiring, null, "cus_ret_current", "450 days");
        named(longFiring, "600 days", "cus_ret_earlier", "580 days");
        // Resolved recently: kept whole.
        long recent = incident("recent-" + run, "resolved", "3 days", "1 day");
        named(recent, null, "cus_ret_recent", "1 day");

        camel.sendBody("direct:retention", null);

        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident WHERE id = ?", Integer.class, old)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident_notice WHERE incident_id = ?", Integer.class, old)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident WHERE id = ?", Integer.class, longFiring)).isOne();
        assertThat(jdbc.queryForList("SELECT customer_id FROM incident_notice WHERE incident_id = ?", String.class, longFiring))
                .containsExactly("cus_ret_current");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident WHERE id = ?", Integer.class, recent)).isOne();
        assertThat(jdbc.queryForList("SELECT customer_id FROM incident_notice WHERE incident_id = ?", String.class, recent))
                .containsExactly("cus_ret_recent");
        // The audit trail of an incident stays (operator_action is kept always).
    }

    @Test
    void receiptMonthsPastTheirPeriodAreDroppedWholeAndTheReceiptASuppressionNamesIsKept() {
        String run = newTicketId();
        // Receipts of 500 days ago live in their own month (past herald.retention.receipts, 400 days), as a year and more of
        // production would have them (that month only: other tests' receipts moved back in time are in the default
        // partition, and a partition for their month could not be created); those of 600 days ago in the default partition.
        // The ages count back from one instant, whose months these are (see oldPayloadsGoRowsStayAndOldMonthsAreDropped).
        Instant started = Instant.now();
        YearMonth month = monthOf(started, 500);
        String oldMonth = MonthlyPartitions.nameOf(MonthlyPartitions.RECEIPTS, month);
        jdbc.execute("CREATE TABLE IF NOT EXISTS " + oldMonth + " PARTITION OF delivery_receipt FOR VALUES FROM ('" + month.atDay(1)
                + " 00:00Z') TO ('" + month.plusMonths(1).atDay(1) + " 00:00Z')");
        long old = receipt("old-" + run, started, 500);
        long named = receipt("named-" + run, started, 500);
        long recent = receipt("recent-" + run, started, 1);
        long defaulted = receipt("default-" + run, started, 600);
        long defaultedNamed = receipt("default-named-" + run, started, 600);
        suppression(named, run + "a");
        suppression(defaultedNamed, run + "b");
        assertThat(partitionsOf(MonthlyPartitions.RECEIPTS)).contains(oldMonth);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM " + oldMonth + " WHERE id IN (?, ?)", Integer.class, old, named)).isEqualTo(2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt_default WHERE id IN (?, ?)", Integer.class,
                defaulted, defaultedNamed)).isEqualTo(2);

        YearMonth runMonth = YearMonth.now(ZoneOffset.UTC);   // the run's month: this one or, past midnight, a later one
        camel.sendBody("direct:retention", null);

        // The month of 500 days ago is gone whole, the coming months are there; the receipt a suppression names is kept,
        // unchanged, in the default partition, and the suppression still finds its cause.
        assertThat(partitionsOf(MonthlyPartitions.RECEIPTS)).doesNotContain(oldMonth)
                .contains(MonthlyPartitions.nameOf(MonthlyPartitions.RECEIPTS, runMonth.plusMonths(3)));
        assertThat(jdbc.queryForObject("SELECT to_regclass(?) IS NULL", Boolean.class, oldMonth)).isTrue();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE id = ?", Integer.class, old)).isZero();
        assertThat(jdbc.queryForMap("SELECT r.status, r.reason, r.provider_message_id FROM suppression s"
                + " JOIN delivery_receipt_default r ON r.id = s.receipt_id WHERE s.receipt_id = ?", named))
                .containsEntry("status", "undelivered").containsEntry("provider_message_id", "SM-named-" + run)
                .containsEntry("reason", "the number cannot receive SMS (30006)");
        // In the default partition: past the period and named by no suppression, deleted; named, kept. Recent: untouched.
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE id = ?", Integer.class, defaulted)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE id = ?", Integer.class, defaultedNamed)).isOne();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_receipt WHERE id = ?", Integer.class, recent)).isOne();
    }

    /** A provider receipt (an SMS status callback that matched nothing) received {@code days} days before {@code from}. */
    private long receipt(String name, Instant from, int days) {
        return jdbc.queryForObject("""
                INSERT INTO delivery_receipt (channel, provider_message_id, provider_event_id, status, error_code, outcome, reason, received_at)
                VALUES ('sms', ?, ?, 'undelivered', '30006', 'UNMATCHED', 'the number cannot receive SMS (30006)', ?)
                RETURNING id""", Long.class, "SM-" + name, "evt-" + name, daysBefore(from, days));
    }

    /** The instant {@code days} whole days (of 24 hours) before {@code from}. */
    private static Timestamp daysBefore(Instant from, int days) {
        return Timestamp.from(from.minus(Duration.ofDays(days)));
    }

    /** The UTC month of that instant, which is the month whose partition holds a row received then. */
    private static YearMonth monthOf(Instant from, int daysBefore) {
        return YearMonth.from(from.minus(Duration.ofDays(daysBefore)).atOffset(ZoneOffset.UTC));
    }

    /** A suppression (lifted since, so it suppresses nothing in the shared Herald) whose cause is the receipt. */
    private void suppression(long receipt, String address) {
        jdbc.update("""
                INSERT INTO suppression (channel, address_hash, address_masked, reason, receipt_id, lifted_at, lifted_by, lift_comment)
                VALUES ('sms', encode(sha256(convert_to(?, 'UTF8')), 'hex'), '+1555***0000', 'the number cannot receive SMS', ?,
                        now(), 'admin', 'test')""", address, receipt);
    }

    /** An alert group as IncidentAlerts records it: its current (or last) firing began {@code firedAge} ago, last changed {@code updatedAge} ago. */
    private long incident(String name, String status, String firedAge, String updatedAge) {
        String digest = String.format("%064x", new java.math.BigInteger(1, name.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .substring(0, 64);
        return jdbc.queryForObject("""
                INSERT INTO incident (group_digest, group_key, receiver, status, title, alerts_digest, alert_count, fired_at, resolved_at, updated_at)
                VALUES (?, ?, 'herald-ops', ?, ?, repeat('a', 64), 1, date_trunc('second', now() - CAST(? AS INTERVAL)),
                        CASE WHEN ? = 'resolved' THEN now() - CAST(? AS INTERVAL) END, now() - CAST(? AS INTERVAL)) RETURNING id""", Long.class,
                digest, "{}:{alertname=\"" + name + "\"}", status, "alertname=" + name, firedAge, status, updatedAge, updatedAge);
    }

    /** A customer named in the firing that began {@code episodeAge} ago (null: the incident's current firing), its record last changed {@code updatedAge} ago. */
    private void named(long incident, String episodeAge, String customer, String updatedAge) {
        jdbc.update("""
                INSERT INTO incident_notice (incident_id, episode, customer_id, outcome, reason, named_at, updated_at)
                SELECT id, coalesce(date_trunc('second', now() - CAST(? AS INTERVAL)), fired_at), ?, 'UNKNOWN',
                       'not in the customer directory: not notified', now() - CAST(? AS INTERVAL), now() - CAST(? AS INTERVAL)
                FROM incident WHERE id = ?""", episodeAge, customer, updatedAge, updatedAge, incident);
    }

    /**
     * A notification received that long ago with one email delivery in that state, as the engine writes them: the ledger
     * rows, the raw event and canonical data (notification_payload) and the rendered message (delivery_content).
     */
    private long notification(String key, Instant from, int days, String state) {
        Timestamp at = daysBefore(from, days);
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                          received_at, occurred_at, updated_at)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_RkT4aB7cD9eF1g', 'ROUTED', CAST(? AS JSONB), ?, ?, ?) RETURNING id""",
                Long.class, key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": {}}", at, at, at);
        jdbc.update("""
                INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
                SELECT id, received_at, '{"id": "evt", "customer_email": "jenny.rosen@example.com"}', '{"customerName": "jenny rosen"}'
                FROM notification WHERE id = ?""", id);
        jdbc.update("""
                INSERT INTO delivery (notification_id, channel, state, recipient_masked, provider_message_id,
                                      attempts, created_at, updated_at, failed_at, next_attempt_at)
                VALUES (?, 'email', ?, 'j***@example.com', ?, 1, ?, ?, CASE WHEN ? = 'FAILED' THEN CAST(? AS TIMESTAMPTZ) END,
                        CASE WHEN ? = 'PARKED' THEN now() + interval '1 hour' END)""",
                id, state, "msg-" + key, at, at, state, at, state);
        jdbc.update("""
                INSERT INTO delivery_content (delivery_id, received_at, subject, rendered_body)
                SELECT d.id, n.received_at, 'Payment failed', 'Dear Jenny Rosen, your payment failed.'
                FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.id = ?""", id);
        return id;
    }

    /** The rendered body of the notification's delivery, or null once removed. */
    private String body(long notification) {
        return jdbc.queryForList("SELECT c.rendered_body FROM delivery_content c JOIN delivery_all d ON d.id = c.delivery_id"
                + " WHERE d.notification_id = ?", String.class, notification).stream().findFirst().orElse(null);
    }

    private long rejection(String age) {
        return jdbc.queryForObject("""
                INSERT INTO inbound_rejection (source, http_status, reason, body_bytes, body_excerpt, received_at)
                VALUES ('billing', 401, 'signature does not match', 40, '{"id": "evt_refused", "email": "x@example.com"}',
                        now() - CAST(? AS INTERVAL)) RETURNING id""", Long.class, age);
    }

    /** The archive's partition of the table for that month (V76). */
    private static String archived(String table, YearMonth month) {
        return String.format("%s_a%04d_%02d", table, month.getYear(), month.getMonthValue());
    }

    private java.util.List<String> partitions() {
        return partitionsOf("delivery_attempt");
    }

    /** The table's partitions as PostgreSQL's catalog lists them. */
    private java.util.List<String> partitionsOf(String table) {
        return jdbc.queryForList("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                + " WHERE i.inhparent = CAST(? AS regclass)", String.class, table);
    }
}
