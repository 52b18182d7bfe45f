package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.herald.ledger.DeliveryLedger;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.ParkedSms;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A sender that waited (for the database) between its claim and its provider call: it renews a claim it still holds, so the
 * stale sweep leaves it alone while it calls; one the sweep settled meanwhile is not sent, and the ledger says so.
 */
class ClaimKeptTest extends HeraldIntegrationTest {

    private static final long TEN_MINUTES_NANOS = Duration.ofMinutes(10).toNanos();

    @Autowired
    ClaimKept claimKept;
    @Autowired
    DeliveryLedger ledger;
    @Autowired
    CamelContext camel;

    @Test
    void aClaimHeldLongIsRenewedBeforeTheCall() {
        DeliveryLedger.Claim claim = claimedLongAgo("renew");
        Exchange exchange = exchangeWith(claim);

        claimKept.beforeCall(exchange);

        Map<String, Object> row = jdbc.queryForMap("SELECT state, claim_token, updated_at > now() - interval '1 minute' AS renewed"
                + " FROM delivery WHERE id = ?", claim.deliveryId());
        assertThat(row).containsEntry("state", "SENDING").containsEntry("claim_token", claim.token()).containsEntry("renewed", true);
        // The sweep, which takes rows not changed for the sending timeout, leaves it to its sender now.
        assertThat(ledger.settleStale(Duration.ofMinutes(5), Set.of(), "herald.local")).extracting(r -> r.get("id")).doesNotContain(claim.deliveryId());
        DeliveryLedger.Claim renewed = exchange.getProperty(ChannelDelivery.CLAIM, DeliveryLedger.Claim.class);
        assertThat(renewed.token()).isEqualTo(claim.token());
        assertThat(System.nanoTime() - renewed.claimedAtNanos()).isLessThan(TEN_MINUTES_NANOS);
        // Its sender would now call and record the outcome; this test stands in for it, so the shared Herald has nothing in flight.
        assertThat(ledger.failed(renewed, "test: the call this claim was kept for", null)).isTrue();
    }

    @Test
    void aClaimTheSweepSettledMeanwhileIsNotSentAndTheLedgerSaysSo() {
        DeliveryLedger.Claim claim = claimedLongAgo("withdrawn");
        assertThat(ledger.settleStale(Duration.ofHours(12), Set.of(), "herald.local")).extracting(r -> r.get("id")).contains(claim.deliveryId());

        assertThatThrownBy(() -> claimKept.beforeCall(exchangeWith(claim))).isInstanceOf(ClaimWithdrawn.class)
                .hasMessageStartingWith("not sent: its sender waited 600 s (for the database or a rate-limit permit)");

        Map<String, Object> row = jdbc.queryForMap("SELECT state, reason FROM delivery WHERE id = ?", claim.deliveryId());
        assertThat(row).containsEntry("state", "FAILED");
        assertThat(row.get("reason").toString()).isEqualTo("not sent: its sender waited 600 s (for the database or a rate-limit permit), longer than"
                + " herald.delivery.sending-timeout, and the delivery was settled meanwhile as cut off; nothing reached the provider,"
                + " so it is FAILED, not UNCERTAIN: retry it if the customer still needs it");
        List<String> outcomes = jdbc.queryForList("SELECT outcome FROM delivery_attempt WHERE delivery_id = ? ORDER BY id", String.class,
                claim.deliveryId());
        assertThat(outcomes).endsWith("UNCERTAIN", "FAILED");
    }

    @Test
    void aYoungClaimCostsNothing() {
        DeliveryLedger.Claim claim = claimedLongAgo("young");
        jdbc.update("UPDATE delivery SET state = 'UNCERTAIN', claim_token = NULL WHERE id = ?", claim.deliveryId());
        DeliveryLedger.Claim young = new DeliveryLedger.Claim(claim.deliveryId(), null, claim.token());
        claimKept.beforeCall(exchangeWith(young));   // not looked at: no statement, no exception
        assertThat(jdbc.queryForObject("SELECT state FROM delivery WHERE id = ?", String.class, claim.deliveryId())).isEqualTo("UNCERTAIN");
    }

    @Autowired
    org.springframework.transaction.support.TransactionTemplate transaction;

    /**
     * The sweep's reason says when Herald stopped in UTC, as every other reason does, whatever zone the PostgreSQL session
     * is in (the driver sets it from the JVM's, i.e. the container's TZ). Before, it was the session's:
     * "at 2026-04-01 13:15:00+13:45" with TZ=Pacific/Chatham.
     */
    @Test
    void aSweptDeliverySaysWhenHeraldStoppedInUtcWhateverTheSessionsZone() {
        DeliveryLedger.Claim claim = claimedLongAgo("utc");
        jdbc.update("UPDATE delivery SET updated_at = TIMESTAMPTZ '2026-03-31 23:30:00+00' WHERE id = ?", claim.deliveryId());

        transaction.executeWithoutResult(status -> {
            jdbc.execute("SET LOCAL TIME ZONE 'Pacific/Chatham'");
            ledger.settleStale(Duration.ofHours(12), Set.of(), "herald.local");
        });

        assertThat(jdbc.queryForObject("SELECT reason FROM delivery WHERE id = ?", String.class, claim.deliveryId()))
                .startsWith("sms outcome unknown: Herald stopped while calling the provider at 2026-03-31 23:30:00 UTC;");
    }

    /** An SMS delivery claimed for sending (its row SENDING, changed a day ago), its claim taken ten minutes ago by the clock. */
    private DeliveryLedger.Claim claimedLongAgo(String name) {
        String run = "claimkept" + name + newTicketId();
        String customer = "cus_" + run;
        // Parked far ahead, so the shared Herald's senders leave it to this test.
        String key = ParkedSms.insert(jdbc, run, customer, 1, 0, "now() + interval '1 day'").get(0);
        long notificationId = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        DeliveryLedger.Claim claim = ledger.claimForSending(notificationId, "sms", "+447…0777", null, "text").orElseThrow();
        jdbc.update("UPDATE delivery SET updated_at = now() - interval '1 day' WHERE id = ?", claim.deliveryId());
        return new DeliveryLedger.Claim(claim.deliveryId(), null, claim.token(), System.nanoTime() - TEN_MINUTES_NANOS);
    }

    private Exchange exchangeWith(DeliveryLedger.Claim claim) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.setProperty(ChannelDelivery.CLAIM, claim);
        return exchange;
    }
}
