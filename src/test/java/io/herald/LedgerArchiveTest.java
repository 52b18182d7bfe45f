package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.LedgerArchive;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.RefusedPushOrders;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The ledger's working set and its archive by month (issue 16 point 3, V76): a settled notification past
 * herald.retention.archive-after moves with its deliveries to its month's partitions, where the console, the API and the
 * proof still find it; its source event sent again is still a duplicate (not admitted, not mailed again, counted on the
 * archived row); a late provider receipt and an operator's retry bring it back to the working set, where the engine
 * finishes the job. The notifications are made by the real path (signed webhook, Kafka, dispatch, SMTP or the push
 * provider's sandbox) and then made 40 days old; the move is LedgerArchive's, as the retention route runs it, with a
 * cutoff 35 days back so that their payloads are still there (retention would also have removed those after 30 days).
 */
class LedgerArchiveTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    LedgerArchive archive;

    @Test
    void anArchivedNotificationIsStillShownItsEventSentAgainIsNotMailedAgainAndALateBounceIsApplied() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        // A customer of its own: the bounce below suppresses their address, which no other test mails.
        String customer = "cus_archived" + unique;
        String email = "archived" + unique + "@example.net";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Ada Archive', ?)", customer, email);
        String event = Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer);
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        String messageId = awaitMailFor(key).getMessageID();
        long notification = settled(key);
        String month = madeFortyDaysOld(notification);

        archiveWhatIsPastTheCutoff();

        assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification_a" + month);
        assertThat(jdbc.queryForList("SELECT DISTINCT tableoid::regclass::text FROM delivery_all WHERE notification_id = ?", String.class,
                notification)).containsExactly("delivery_a" + month);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE id = ?", Integer.class, notification)).isZero();
        // What an operator reads: the timeline, the proof, the customer's history.
        JsonNode shown = JSON.readTree(api("GET", "/api/notifications/" + notification).body());
        assertThat(shown.get("timeline").findValuesAsText("what")).anyMatch(what -> what.startsWith("SENT"));
        JsonNode proof = JSON.readTree(api("GET", "/api/notifications/" + notification + "/proof").body());
        assertThat(proof.get("deliveries").findValuesAsText("channel")).contains("email");
        HttpResponse<String> page = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(key);

        // Stripe sends the same event again, 40 days on: still one notification, one mail; the repeat is counted.
        assertThat(postSignedBilling(event).statusCode()).isBetween(200, 299);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT duplicates_suppressed FROM notification_all WHERE id = ?", Integer.class, notification) == 1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE idempotency_key = ?", Integer.class, key)).isOne();
        assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification_a" + month);
        assertThat(mailsFor(key)).hasSize(1);

        // The mailbox provider bounces it weeks later: the receipt finds the archived send and applies it in the working set.
        String bounce = "[{\"email\": \"" + email + "\", \"timestamp\": 1763720060, \"smtp-id\": \"" + messageId + "\","
                + " \"event\": \"bounce\", \"type\": \"bounce\", \"status\": \"5.1.1\", \"reason\": \"550 5.1.1 no such user\","
                + " \"sg_event_id\": \"archived-bounce-" + unique + "\"}]";
        assertThat(postEmailEvents(bounce).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForMap("SELECT state, tableoid::regclass::text AS place FROM delivery_all WHERE notification_id = ?"
                + " AND channel = 'email'", notification)).containsEntry("state", "BOUNCED").containsEntry("place", "delivery");
        assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification");
    }

    /**
     * The repeat arrives while its notification is being moved (the move's transaction held open after its statements, as
     * LedgerArchive.archive runs them): its admission waits for the move (the lock the move takes, which inserts share),
     * then finds the key in the archive. Without that lock it would find the key in neither place (the move's delete of the
     * working-set row not committed, its insert into the archive not visible) and admit it again.
     */
    @Test
    void anEventRepeatedWhileItsNotificationMovesIsStillOneNotification() throws Exception {
        String unique = newTicketId();
        String customer = "cus_archrace" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Rae Race', ?)", customer,
                "archrace" + unique + "@example.net");
        String key = Samples.paymentFailedKey(unique);
        String event = Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer);
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        awaitMailFor(key);
        long notification = settled(key);
        String month = madeFortyDaysOld(notification);
        int archivedMonth = Integer.parseInt(month.replace("_", ""));

        try (java.sql.Connection move = jdbc.getDataSource().getConnection(); java.sql.Statement sql = move.createStatement()) {
            move.setAutoCommit(false);
            sql.execute("SELECT pg_advisory_xact_lock(hashtext('herald.ledger-archive'))");
            sql.execute("SELECT herald_archive_month(" + archivedMonth + ")");
            sql.executeUpdate("UPDATE notification_all SET archived_month = " + archivedMonth + " WHERE id = " + notification);
            sql.executeUpdate("UPDATE delivery_all SET archived_month = " + archivedMonth + " WHERE notification_id = " + notification);

            assertThat(postSignedBilling(event).statusCode()).isBetween(200, 299);
            // The admission of the repeat is held by the move (on the move's lock; without it, on the working-set row the
            // move is deleting, to go on once the move commits and find the key in neither place).
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO notification%'", Integer.class) > 0);
            move.commit();
        }

        // Its admission is over once no admission waits any more: then one notification, one mail, the repeat counted.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity"
                + " WHERE wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO notification%'", Integer.class) == 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE idempotency_key = ?",
                Integer.class, key) > 1 || jdbc.queryForObject("SELECT duplicates_suppressed FROM notification_all WHERE id = ?", Integer.class,
                notification) == 1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_all WHERE idempotency_key = ?", Integer.class, key)).isOne();
        assertThat(jdbc.queryForObject("SELECT duplicates_suppressed FROM notification_all WHERE id = ?", Integer.class, notification)).isOne();
        assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification_a" + month);
        assertThat(mailsFor(key)).hasSize(1);
    }

    @Test
    void anOperatorRetriesAnArchivedFailedDeliveryAndItIsSentFromTheWorkingSet() throws Exception {
        RefusedPushOrders scene = new RefusedPushOrders(jdbc, infra.providers(), "cus_archived" + newTicketId());
        try {
            String order = scene.order(newTicketId());
            String key = RefusedPushOrders.key(order);
            long push = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.id FROM delivery d JOIN notification n"
                    + " ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'push' AND d.state = 'FAILED'", Long.class, key),
                    ids -> ids.size() == 1).get(0);
            long notification = settled(key);
            String month = madeFortyDaysOld(notification);

            archiveWhatIsPastTheCutoff();

            assertThat(partitionOf("delivery_all", "id", push)).isEqualTo("delivery_a" + month);
            // The failures view still lists it, by its order.
            JsonNode found = JSON.readTree(api("GET", "/api/failures?orderId=" + order).body());
            assertThat(found.findValuesAsText("id")).containsExactly(String.valueOf(push));

            scene.tokenFixed();
            HttpResponse<String> retried = apiJson("POST", "/api/deliveries/" + push + "/retry", "{\"comment\": \"new token registered\"}");
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(60)).until(() -> "SENT".equals(jdbc.queryForObject(
                    "SELECT state FROM delivery_all WHERE id = ?", String.class, push)));
            assertThat(partitionOf("delivery_all", "id", push)).isEqualTo("delivery");
            assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification");
            assertThat(jdbc.queryForObject("SELECT action FROM operator_action WHERE target = 'delivery' AND target_id = ?", String.class, push))
                    .isEqualTo("RETRY");
        } finally {
            scene.tokenFixed();
        }
    }

    @Test
    void erasingACustomerReachesTheirArchivedNotifications() throws Exception {
        String unique = newTicketId();
        String customer = "cus_archerase" + unique;
        String email = "archerase" + unique + "@example.net";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Elsa Erase', ?)", customer, email);
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        awaitMailFor(key);
        long notification = settled(key);
        String month = madeFortyDaysOld(notification);
        archiveWhatIsPastTheCutoff();
        assertThat(partitionOf("notification_all", "id", notification)).isEqualTo("notification_a" + month);

        HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=GDPR%20request", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);

        // Erased where it lies: payload and rendered message gone, the masked address gone, the record (state) kept.
        assertThat(jdbc.queryForMap("SELECT payload_removed_by, tableoid::regclass::text AS place FROM notification_all WHERE id = ?",
                notification)).containsEntry("payload_removed_by", "erasure").containsEntry("place", "notification_a" + month);
        assertThat(jdbc.queryForList("SELECT recipient_masked FROM delivery_all WHERE notification_id = ?", String.class, notification))
                .isNotEmpty().containsOnlyNulls();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification_payload WHERE notification_id = ?", Integer.class, notification)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery_content c JOIN delivery_all d ON d.id = c.delivery_id"
                + " WHERE d.notification_id = ?", Integer.class, notification)).isZero();
        assertThat(jdbc.queryForList("SELECT state FROM delivery_all WHERE notification_id = ? AND channel = 'email'", String.class, notification))
                .containsExactly("SENT");
    }

    /** The notification's id once none of its deliveries is in progress any more (the move takes only settled ones). */
    private long settled(String key) {
        return await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("""
                SELECT n.id FROM notification n WHERE n.idempotency_key = ? AND n.state = 'ROUTED'
                  AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.notification_id = n.id
                                  AND d.state IN ('PENDING', 'SENDING', 'RETRYING', 'PARKED', 'DIGEST_WAITING'))""", Long.class, key),
                ids -> ids.size() == 1).get(0);
    }

    /**
     * Received 40 days ago, as if it had come then: its payload and rendered messages move with it (their partitions are by
     * the notification's received_at). Returns its month, as the archive's partitions name it (YYYY_MM).
     */
    private String madeFortyDaysOld(long notification) {
        Instant then = jdbc.queryForObject("SELECT received_at - interval '40 days' FROM notification WHERE id = ?", java.sql.Timestamp.class,
                notification).toInstant();
        jdbc.update("UPDATE notification SET received_at = ? WHERE id = ?", java.sql.Timestamp.from(then), notification);
        jdbc.update("UPDATE notification_payload SET received_at = ? WHERE notification_id = ?", java.sql.Timestamp.from(then), notification);
        jdbc.update("UPDATE delivery_content SET received_at = ? WHERE delivery_id IN (SELECT id FROM delivery WHERE notification_id = ?)",
                java.sql.Timestamp.from(then), notification);
        YearMonth month = YearMonth.from(then.atOffset(ZoneOffset.UTC));
        return String.format("%04d_%02d", month.getYear(), month.getMonthValue());
    }

    /** What retention's archive step does (RetentionJob.archiveSettled), with a cutoff of 35 days. */
    private void archiveWhatIsPastTheCutoff() {
        Instant cutoff = Instant.now().minus(Duration.ofDays(35));
        while (archive.archive(cutoff, 1000, 2000) > 0) {
            // batches until nothing is left to move
        }
    }

    private String partitionOf(String table, String column, long id) {
        List<String> places = jdbc.queryForList("SELECT tableoid::regclass::text FROM " + table + " WHERE " + column + " = ?", String.class, id);
        assertThat(places).hasSize(1);
        return places.get(0);
    }
}
