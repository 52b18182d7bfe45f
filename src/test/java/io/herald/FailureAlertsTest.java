package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Quiescence;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Failures reach the ops webhook within a poll or two, grouped: an outage is one alert, not thousands. */
class FailureAlertsTest extends HeraldIntegrationTest {

    private static final String CONSOLE = "http://localhost:8080/console";

    @Autowired
    CamelContext camel;

    @Test
    void aBurstOfFailuresIsOneGroupedAlertTheOngoingOutageIsNotRepeatedAndANewFailureIsAlerted() throws Exception {
        // The tests before it send to the same sample customer, one message at a time per channel: one of their SMS still
        // waiting would fail with the broken template too and join the burst's alert (seen: 11 deliveries instead of 10).
        Quiescence.awaitNothingInFlight(camel, jdbc);
        OpsAlerts.quiet(camel, jdbc);
        // Someone adds a variable to the SMS template that payment-failed events do not carry: every SMS fails.
        Path template = TEMPLATES.resolve("billing.payment_failed").resolve("sms.text.en.mustache");
        String original = Files.readString(template);
        List<String> burst = new ArrayList<>();
        try {
            Files.writeString(template, original.strip() + " {{unsubscribeLink}}");
            camel.getRouteController().stopRoute("failure-alerts");   // the burst lands between two polls
            try {
                for (int i = 0; i < 10; i++) {
                    burst.add(postPaymentFailedNow());
                }
                awaitSms(burst, "FAILED");
            } finally {
                camel.getRouteController().startRoute("failure-alerts");
            }

            // One alert: how many, what it means, one example, where to look. No customer's address or number.
            String alert = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), "unsubscribeLink"),
                    found -> !found.isEmpty()).get(0);
            assertThat(alert).startsWith("Herald: ")
                    .contains("SMS not sent - a message template is missing or could not be filled: 10 deliveries")
                    .contains("Example: sms not sent: template ", "cannot be filled", "unsubscribeLink")
                    .contains("Console: " + CONSOLE + "/failures?state=FAILED&amp;channel=sms")
                    .doesNotContain("jenny.rosen@example.org", "+447700900123", "7700900123");
            // Marked once the post's transaction commits, just after the webhook answered.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(alerted(burst)).as("every failure of the burst is marked alerted").containsOnly(true));

            // The outage goes on: its new failures are counted, not announced again.
            List<String> more = List.of(postPaymentFailedNow(), postPaymentFailedNow(), postPaymentFailedNow());
            awaitSms(more, "FAILED");
            await().atMost(Duration.ofSeconds(30)).until(() -> alerted(more), marked -> marked.stream().allMatch(b -> b));
            assertThat(OpsAlerts.accepted(infra.providers(), "unsubscribeLink")).hasSize(1);
            assertThat(jdbc.queryForObject("SELECT unannounced FROM alert_group WHERE example LIKE '%unsubscribeLink%'", Integer.class))
                    .isEqualTo(3);
        } finally {
            Files.writeString(template, original);
        }

        // A new, different failure: an event for a customer Herald does not know is quarantined, and alerted on its own.
        // Its id carries Slack markup, quoted in the alert as text: it must not notify the whole channel.
        String unique = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", "cus_Unknown" + unique + "<!channel>"))
                .statusCode()).isEqualTo(202);
        long quarantined = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source_event_id = ? AND outcome = 'QUARANTINED'", Long.class, "evt_test" + unique),
                ids -> ids.size() == 1).get(0);
        String quarantineAlert = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(),
                "evt_test" + unique), found -> !found.isEmpty()).get(0);
        assertThat(quarantineAlert).contains("Billing events quarantined at step identity", ": 1 event (at ",
                "cus_Unknown" + unique + "&lt;!channel&gt;", "Console: " + CONSOLE + "/quarantine/" + quarantined)
                .doesNotContain("unsubscribeLink").doesNotContain("<!channel>");

        // The repeat period passes: one reminder sums up what happened since the announcement.
        jdbc.update("UPDATE alert_group SET last_alerted_at = now() - interval '31 minutes' WHERE example LIKE '%unsubscribeLink%'");
        String reminder = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), "Still failing"),
                found -> found.stream().anyMatch(t -> t.contains("a message template is missing"))).stream()
                .filter(t -> t.contains("a message template is missing")).findFirst().orElseThrow();
        assertThat(reminder).contains("SMS not sent - a message template is missing or could not be filled: 3 more deliveries since ",
                "Console: " + CONSOLE + "/failures?state=FAILED&amp;channel=sms");   // Slack shows &amp; as &
        // Reset once the reminder's transaction commits, just after the webhook answered.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(jdbc.queryForObject(
                "SELECT unannounced FROM alert_group WHERE example LIKE '%unsubscribeLink%'", Integer.class)).isZero());
    }

    @Test
    void whileTheOpsWebhookIsDownTheAlertWaitsAndArrivesOnceItIsBack() throws Exception {
        OpsAlerts.quiet(camel, jdbc);
        // Tests before it in this JVM may have had dead letters alerted too (HangingProviderTest, GuaranteesTest, ...): only
        // the posts from here on are this test's.
        int earlier = OpsAlerts.posts(infra.providers()).size();
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching("/services/.*")).atPriority(1)
                .withHeader("Idempotency-Key", matching("herald-alert:.*")).willReturn(aResponse().withStatus(503)));
        String garbage = "{\"idempotencyKey\": \"alert-" + UUID.randomUUID() + "\", \"type\": 7";
        try {
            publish("herald.notifications", "cus_RkT4aB7cD9eF1g", garbage);
            long deadLetter = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                    "SELECT id FROM dead_letter WHERE payload = ?", Long.class, garbage), ids -> ids.size() == 1).get(0);
            // Refused at one poll and tried again at the next: still unalerted meanwhile, nothing lost.
            await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.posts(infra.providers()).stream().skip(earlier)
                    .filter(p -> p.status() == 503 && p.text().contains("dead letters")).count() >= 2);
            assertThat(jdbc.queryForObject("SELECT alerted_at FROM dead_letter WHERE id = ?", java.sql.Timestamp.class, deadLetter)).isNull();
            infra.providers().removeStub(down);

            String alert = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.posts(infra.providers()).stream().skip(earlier)
                    .filter(p -> p.status() / 100 == 2 && p.text().contains("dead letters")).map(OpsAlerts.Post::text).toList(),
                    found -> !found.isEmpty()).get(0);
            assertThat(alert).contains("Messages Herald could not process at all (stage dispatch) - kept as dead letters: 1 message",
                    "Console: " + CONSOLE + "/failures?state=DEAD_LETTER");
            await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject(
                    "SELECT alerted_at FROM dead_letter WHERE id = ?", java.sql.Timestamp.class, deadLetter) != null);
        } finally {
            infra.providers().removeStub(down);
        }
    }

    /** A payment-failed event that happened just now (so it is well within its send window); returns its key. */
    private String postPaymentFailedNow() throws Exception {
        String unique = newTicketId();
        String event = Samples.paymentFailed(unique).replace("\"created\": 1763719200", "\"created\": " + Instant.now().getEpochSecond());
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        return Samples.paymentFailedKey(unique);
    }

    private void awaitSms(List<String> keys, String state) {
        await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n"
                + " ON n.id = d.notification_id WHERE d.channel = 'sms' AND n.idempotency_key IN (" + marks(keys) + ")",
                String.class, keys.toArray()), states -> states.size() == keys.size() && states.stream().allMatch(state::equals));
    }

    private List<Boolean> alerted(List<String> keys) {
        return jdbc.queryForList("SELECT d.alerted_at IS NOT NULL FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE d.channel = 'sms' AND n.idempotency_key IN (" + marks(keys) + ")", Boolean.class, keys.toArray());
    }

    private static String marks(List<String> keys) {
        return keys.stream().map(k -> "?").collect(Collectors.joining(","));
    }
}
