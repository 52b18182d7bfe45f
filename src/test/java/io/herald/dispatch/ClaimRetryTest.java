package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.ParkedSms;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A claim retried after its COMMIT acknowledgement was lost (Camel redelivers the prepare step, with the attempt's claim
 * token) decides afresh, and what it decides is recorded: the row the lost claim left SENDING under the token waits again
 * first. Here the message is no longer to be sent (the customer's preferences no longer name SMS for billing): it is
 * SKIPPED with that reason, instead of staying SENDING until the stale sweep called it cut off.
 */
class ClaimRetryTest extends HeraldIntegrationTest {

    @Autowired
    ChannelDelivery channelDelivery;
    @Autowired
    DeliveryLedger ledger;
    @Autowired
    CustomerDirectory directory;
    @Autowired
    CamelContext camel;
    @Autowired
    ObjectMapper json;

    @Test
    void aRetriedClaimThatNowDecidesNotToSendRecordsWhyInsteadOfLeavingTheRowSending() throws Exception {
        String run = "claimretry" + newTicketId();
        String customer = "cus_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, preferences) VALUES (?, 'Rhea Retry', ?,"
                + " '+447700900123', '{\"billing\": [\"email\"]}'::jsonb)", customer, customer + "@example.com");
        // Parked a day ahead, so the shared Herald's senders leave it to this test.
        String key = ParkedSms.insert(jdbc, run, customer, 1, 0, "now() + interval '1 day'").get(0);
        Map<String, Object> notification = jdbc.queryForMap("SELECT id, canonical::text AS canonical FROM notification WHERE idempotency_key = ?", key);
        long notificationId = ((Number) notification.get("id")).longValue();
        UUID attempt = DeliveryLedger.newClaimToken();
        // The claim that committed while its acknowledgement was lost: SENDING under the attempt's token.
        assertThat(ledger.claimForSending(notificationId, "sms", "+447…0123", null, "text", attempt)).isPresent();

        Exchange retry = new DefaultExchange(camel);
        retry.setProperty(DispatchPlanner.NOTIFICATION, json.readValue((String) notification.get("canonical"), CanonicalNotification.class));
        retry.setProperty(DispatchPlanner.NOTIFICATION_ID, notificationId);
        retry.setProperty(DispatchPlanner.CUSTOMER, directory.find(customer).orElseThrow());
        retry.setProperty(ChannelDelivery.CLAIM_TOKEN, attempt);
        channelDelivery.prepare(retry, "sms");

        String reason = "customer " + customer + " opted out of sms for billing";
        assertThat(retry.getProperty(ChannelDelivery.SKIP, String.class)).isEqualTo(reason);
        assertThat(jdbc.queryForMap("SELECT state, reason, claim_token FROM delivery WHERE notification_id = ? AND channel = 'sms'",
                notificationId)).containsEntry("state", "SKIPPED").containsEntry("reason", reason).containsEntry("claim_token", null);
    }
}
