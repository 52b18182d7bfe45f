package io.herald.receipts;

import static io.herald.receipts.DeliveryReceiptsTest.form;
import static io.herald.receipts.DeliveryReceiptsTest.twilioSignature;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.IsoWeeks;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Polls;
import io.herald.testsupport.Prometheus;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** What operators see of receipts: the weekly review's counts, the Prometheus counter, a spike alert on the ops webhook. */
class ReceiptsReportingTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The private half of the DEMO verification key in config/application-local.yaml. Test code only. */
    private static final String DEMO_PRIVATE_KEY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzZA3G1HE9+rptSmeBrWQWaNpRsDrCRMougfbyoaJgoGhRANCAARNo4oDp9x7+mtjPBVYLOuOYzJy8rkNs+kQ0wee2O9tXxE6sNyXrhW6sR19tvWv6+CEFVQH65yvY6CLrvxiS5/g";

    @Test
    void theWeeklyReviewCountsEachChannelsReceiptsAndPrometheusCountsEveryReceipt() throws Exception {
        // This week and the next: past midnight from Sunday to Monday, the receipts below are counted in the next one.
        List<String> weeks = IsoWeeks.thisAndNext();
        Map<String, Long> weekBefore = weekly(weeks);
        Prometheus before = scrape();
        String happy = notify(newCustomer("happy"), "happy");
        String sad = notify(newCustomer("sad"), "sad");

        // SMS: one delivered (and Twilio retries that callback), one undelivered.
        String happySid = (String) delivery(happy, "sms").get("provider_message_id");
        assertThat(smsStatus(form("MessageSid", happySid, "MessageStatus", "delivered")).statusCode()).isEqualTo(200);
        assertThat(smsStatus(form("MessageSid", happySid, "MessageStatus", "delivered")).statusCode()).isEqualTo(200);
        assertThat(smsStatus(form("MessageSid", (String) delivery(sad, "sms").get("provider_message_id"), "MessageStatus", "undelivered",
                "ErrorCode", "30003")).statusCode()).isEqualTo(200);
        // Email: one delivered then reported as spam, one bounced; SendGrid's retry of an event is not counted again.
        String happyMail = awaitMailFor(happy).getMessageID();
        String sadMail = awaitMailFor(sad).getMessageID();
        String events = "[" + event(emailOf(happy), happyMail, "delivered", "d-" + happy) + ","
                + event(emailOf(happy), happyMail, "spamreport", "s-" + happy) + "," + event(emailOf(sad), sadMail, "bounce", "b-" + sad) + "]";
        assertThat(emailEvents(events).statusCode()).isEqualTo(200);
        assertThat(emailEvents(events).statusCode()).isEqualTo(200);
        assertThat(delivery(happy, "email")).containsEntry("state", "COMPLAINED");
        assertThat(delivery(sad, "email")).containsEntry("state", "BOUNCED");

        // The weekly review counts messages: each delivery once per state it was reported in.
        assertThat(delta(weekBefore, weekly(weeks))).containsExactlyInAnyOrderEntriesOf(Map.of("sms delivered", 1L, "sms undelivered", 1L,
                "email delivered", 1L, "email complained", 1L, "email bounced", 1L));
        // The CSV of a week says what its review says (of each week with receipts: the receipts above are in one or both).
        int weeksWithReceipts = 0;
        for (String each : weeks) {
            Map<String, Long> week = weekly(List.of(each));
            if (week.containsKey("email bounced") && week.containsKey("sms undelivered")) {
                weeksWithReceipts++;
                String csv = api("GET", "/api/reports/weekly.csv?week=" + each).body();
                assertThat(csv).contains("receipts email,bounced," + week.get("email bounced"), "receipts sms,undelivered," + week.get("sms undelivered"));
            }
        }
        assertThat(weeksWithReceipts).isPositive();
        String page = apiAs(VIEWER, "GET", "/console/report", null).body();
        assertThat(page).contains("id=\"receipts\"", "data-channel=\"sms\"", "Delivery receipts");

        // Prometheus counts receipts as they came: the retried SMS callback twice (it carries no event id), SendGrid's replay not.
        Prometheus after = scrape();
        assertThat(delta(before, after, "channel", "sms", "outcome", "delivered")).isEqualTo(2);
        assertThat(delta(before, after, "channel", "sms", "outcome", "undelivered")).isEqualTo(1);
        assertThat(delta(before, after, "channel", "email", "outcome", "delivered")).isEqualTo(1);
        assertThat(delta(before, after, "channel", "email", "outcome", "complained")).isEqualTo(1);
        assertThat(delta(before, after, "channel", "email", "outcome", "bounced")).isEqualTo(1);

        // The notification's timeline shows the receipts and the suppression the bounce caused.
        long notification = ((Number) delivery(sad, "email").get("notification_id")).longValue();
        String timeline = apiAs(OPERATOR, "GET", "/console/notifications/" + notification, null).body();
        assertThat(timeline).contains("SMS not delivered: the handset is unreachable", "the email bounced", "Address suppressed",
                "later email messages to it are skipped");
    }

    @Test
    void aSpikeOfUndeliveredSmsIsAlertedOnceWhenItStartsAndOnceWhenItEnds() throws Exception {
        int threshold = 20;   // herald.receipts.spike.threshold's default; the test runs with the shipped settings
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < threshold; i++) {
            String unique = "spike" + i + "-" + newTicketId();
            String customer = newCustomer(unique);
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            keys.add(Samples.paymentFailedKey(unique));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> keys.stream().allMatch(key -> "SENT".equals(delivery(key, "sms").get("state"))));
        List<String> sids = keys.stream().map(key -> (String) delivery(key, "sms").get("provider_message_id")).toList();
        int startsBefore = OpsAlerts.accepted(infra.providers(), "A spike of undelivered SMS").size();
        for (String sid : sids) {   // the carrier starts filtering Herald's sender number
            assertThat(smsStatus(form("MessageSid", sid, "MessageStatus", "undelivered", "ErrorCode", "30007")).statusCode()).isEqualTo(200);
        }

        String alert = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), "A spike of undelivered SMS"),
                alerts -> alerts.size() > startsBefore).get(startsBefore);
        assertThat(alert).containsPattern("A spike of undelivered SMS: \\d+ in the last 15 min \\(since \\d{2}:\\d{2} UTC\\), at or above"
                + " herald.receipts.spike.threshold \\(20\\)").contains("Last reason: SMS not delivered: the carrier filtered the message as spam"
                + " (carrier error 30007)", "/console/report");
        // Several polls later it has not been announced again (three run here, one after the other, on top of the timer's,
        // each the route the timer runs).
        Polls.runNow(camel, "direct:receipt-spike-alert", 3);
        assertThat(OpsAlerts.accepted(infra.providers(), "A spike of undelivered SMS")).hasSize(startsBefore + 1);

        // The window moves on past these receipts: the end is announced once.
        int endsBefore = OpsAlerts.accepted(infra.providers(), "The spike of undelivered SMS is over").size();
        jdbc.update("UPDATE delivery_receipt SET received_at = received_at - interval '1 hour' WHERE provider_message_id = ANY(?)",
                (Object) sids.toArray(new String[0]));
        String over = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), "The spike of undelivered SMS is over"),
                alerts -> alerts.size() > endsBefore).get(endsBefore);
        assertThat(over).containsPattern("fewer than 20 in the last 15 min at \\d{2}:\\d{2} UTC \\(it began at \\d{2}:\\d{2} UTC\\)");
        Polls.runNow(camel, "direct:receipt-spike-alert", 3);
        assertThat(OpsAlerts.accepted(infra.providers(), "The spike of undelivered SMS is over")).hasSize(endsBefore + 1);
        assertThat(OpsAlerts.accepted(infra.providers(), "A spike of undelivered SMS")).hasSize(startsBefore + 1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM receipt_spike WHERE channel = 'sms'", Integer.class)).isZero();
    }

    private String newCustomer(String label) {
        String customer = "cus_rr_" + label + "_" + newTicketId();
        String phone = "+1561" + String.format("%07d", Math.abs(customer.hashCode()) % 10_000_000);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Reporting Test', ?, ?)",
                customer, customer.replace('_', '.') + "@reporting.example.net", phone);
        return customer;
    }

    /** A payment-failed event for this customer; its key once its SMS and email are SENT. */
    private String notify(String customer, String label) throws Exception {
        String unique = "rr-" + label + newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        String key = Samples.paymentFailedKey(unique);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state"))
                && "SENT".equals(delivery(key, "email").get("state")));
        return key;
    }

    /** The receipt counts of these weeks from the API, added up: "sms delivered" to count. */
    private Map<String, Long> weekly(List<String> weeks) throws Exception {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (String week : weeks) {
            HttpResponse<String> answer = api("GET", "/api/reports/weekly?week=" + week);
            assertThat(answer.statusCode()).isEqualTo(200);
            for (JsonNode channel : JSON.readTree(answer.body()).get("receipts")) {
                for (String state : List.of("delivered", "bounced", "undelivered", "complained")) {
                    counts.merge(channel.get("channel").asText() + " " + state, channel.get(state).asLong(), Long::sum);
                }
            }
        }
        return counts;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> delta = new java.util.TreeMap<>();
        after.forEach((key, count) -> {
            long change = count - before.getOrDefault(key, 0L);
            if (change != 0) {
                delta.put(key, change);
            }
        });
        return delta;
    }

    private static double delta(Prometheus before, Prometheus after, String... labels) {
        return after.value("herald_receipts_total", labels) - before.value("herald_receipts_total", labels);
    }

    private Prometheus scrape() throws Exception {
        HttpResponse<String> scrape = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/prometheus"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(scrape.statusCode()).isEqualTo(200);
        return new Prometheus(scrape.body());
    }

    private String emailOf(String key) {
        return jdbc.queryForObject("SELECT c.email FROM customer c JOIN notification n ON n.customer_id = c.customer_id"
                + " WHERE n.idempotency_key = ?", String.class, key);
    }

    private static String event(String email, String messageId, String kind, String eventId) {
        return "{\"email\": \"" + email + "\", \"timestamp\": 1763720042, \"smtp-id\": \"" + messageId + "\", \"event\": \"" + kind
                + "\", " + ("bounce".equals(kind) ? "\"type\": \"bounce\", \"status\": \"5.1.1\", \"reason\": \"550 5.1.1 no such user\", " : "")
                + "\"sg_event_id\": \"" + eventId + "\"}";
    }

    private HttpResponse<String> smsStatus(String body) throws Exception {
        return post("/webhooks/sms/status", "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8),
                Map.of("X-Twilio-Signature", twilioSignature("http://localhost:" + port + "/webhooks/sms/status", body)));
    }

    private HttpResponse<String> emailEvents(String body) throws Exception {
        String timestamp = String.valueOf(java.time.Instant.now().getEpochSecond());
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(DEMO_PRIVATE_KEY)));
        Signature ecdsa = Signature.getInstance("SHA256withECDSA");
        ecdsa.initSign(key);
        ecdsa.update((timestamp + body).getBytes(StandardCharsets.UTF_8));
        return post("/webhooks/email/events", "application/json", body.getBytes(StandardCharsets.UTF_8), Map.of(
                "X-Twilio-Email-Event-Webhook-Signature", Base64.getEncoder().encodeToString(ecdsa.sign()),
                "X-Twilio-Email-Event-Webhook-Timestamp", timestamp));
    }
}
