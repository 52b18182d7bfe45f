package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.UtcDays;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * What of an erased customer could be left behind or come back, and what retention keeps (found by an audit on 2026-12-06).
 * The disabled tests show gaps not closed yet, each named in the README's "Retention and erasure".
 */
class ErasureEdgesTest extends HeraldIntegrationTest {

    @Autowired
    DataSource dataSource;

    /**
     * An event for the customer arrives while their erasure is running (its directory delete written, not committed).
     * Admission holds the customer's directory row, so it waits for the erasure, finds the customer gone and quarantines the
     * event as erased: nothing of it is sent or kept. Before, it was admitted and mailed, and its payload and rendered
     * message outlived the erasure.
     */
    @Test
    void anEventArrivingWhileTheErasureRunsWaitsForItAndIsQuarantinedAsErased() throws Exception {
        String unique = newTicketId();
        String customer = "cus_inflight" + unique;
        String email = "in.flight" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Ivy Inflight', ?)", customer, email);
        // A quarantined event naming the customer: the erasure clears it late in its transaction, and the test holds it there.
        long quarantined = jdbc.queryForObject("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload)
                VALUES ('billing', ?, 'QUARANTINED', 'validation', 'amount_due is missing', ?) RETURNING id""", Long.class,
                "evt_hold" + unique, "{\"data\": {\"object\": {\"customer\": \"" + customer + "\"}}}");
        HttpResponse<String> erased;
        try (Connection test = dataSource.getConnection()) {
            test.setAutoCommit(false);
            try (PreparedStatement hold = test.prepareStatement("SELECT 1 FROM unrouted_event WHERE id = ? FOR UPDATE")) {
                hold.setLong(1, quarantined);
                hold.executeQuery().close();
            }
            CompletableFuture<HttpResponse<String>> erasure = CompletableFuture.supplyAsync(() -> {
                try {
                    return apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=race", null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> waiting("UPDATE unrouted_event SET raw_payload%") == 1);
            // The erasure has its tombstone and the directory's delete written, not committed: an event arrives now, and its
            // admission waits on the customer's row.
            assertThat(postSignedBilling(eventFor(unique, customer, email)).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
                    .until(() -> waiting("SELECT customer_id FROM customer WHERE customer_id = ANY%") == 1);
            test.commit();
            erased = erasure.get(60, TimeUnit.SECONDS);
        }
        assertThat(erased.statusCode()).isEqualTo(200);
        String reason = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList(
                "SELECT reason FROM unrouted_event WHERE source_event_id = ? AND outcome = 'QUARANTINED'", String.class, "evt_test" + unique),
                found -> !found.isEmpty()).get(0);
        assertThat(reason).contains("was erased from Herald");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Integer.class,
                Samples.paymentFailedKey(unique))).isZero();
        assertThat(mailsFor(Samples.paymentFailedKey(unique))).isEmpty();

        assertThat(jdbc.queryForList("""
                SELECT p.raw_payload FROM notification_payload p JOIN notification n ON n.id = p.notification_id
                WHERE n.customer_id = ?""", String.class, customer)).as("payloads of the erased customer").isEmpty();
        assertThat(jdbc.queryForList("""
                SELECT c.rendered_body FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id
                JOIN notification n ON n.id = d.notification_id WHERE n.customer_id = ?""", String.class, customer))
                .as("rendered messages of the erased customer").isEmpty();
    }

    /**
     * An operator resends the customer's email with a comment naming the customer's address (as ProofOfDeliveryTest does).
     * After the erasure the resend row's comment still held the address (delivery_resend.comment), and the proof of
     * delivery showed it to an admin in the resend.
     */
    @Test
    void aResendCommentNamingTheAddressIsErasedToo() throws Exception {
        Resent resent = resentWithACommentThenErased();
        String comment = jdbc.queryForObject("SELECT comment FROM delivery_resend WHERE delivery_id = ?", String.class, resent.delivery());
        assertThat(comment).as("delivery_resend.comment after erasure").doesNotContain(resent.email());
        com.fasterxml.jackson.databind.JsonNode proof = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                apiAs(ADMIN, "GET", "/api/notifications/" + resent.notification() + "/proof", null).body());
        assertThat(proof.path("deliveries").toString()).as("the proof's deliveries and resends after erasure").doesNotContain(resent.email());
    }

    /**
     * The same resend's audit entry (operator_action.comment, RESEND) quoted the address: the erasure removes it from the
     * comment, the action stays (who, when, what), and the proof of delivery's operatorActions no longer show it.
     */
    @Test
    void theProofAfterErasureQuotesNoAddressFromAnOperatorsComment() throws Exception {
        Resent resent = resentWithACommentThenErased();
        assertThat(apiAs(ADMIN, "GET", "/api/notifications/" + resent.notification() + "/proof", null).body())
                .as("proof of delivery after erasure (admin)").doesNotContain(resent.email());
        assertThat(jdbc.queryForList("SELECT comment FROM operator_action WHERE notification_id = ? AND action = 'RESEND'", String.class,
                resent.notification())).as("the resend's audit entry stays, its address removed").containsExactly("(erased) asked for a copy");
    }

    private record Resent(long notification, long delivery, String email) {
    }

    private Resent resentWithACommentThenErased() throws Exception {
        String unique = newTicketId();
        String customer = "cus_rscomment" + unique;
        String email = "resend.me" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Rita Resend', ?)", customer, email);
        assertThat(postSignedBilling(eventFor(unique, customer, email)).statusCode()).isEqualTo(202);
        awaitMailFor(Samples.paymentFailedKey(unique));
        Map<String, Object> sent = await().atMost(Duration.ofSeconds(30)).until(() -> delivery(Samples.paymentFailedKey(unique), "email"),
                row -> "SENT".equals(row.get("state")));
        long deliveryId = ((Number) sent.get("id")).longValue();
        long notification = ((Number) sent.get("notification_id")).longValue();
        HttpResponse<String> resend = apiJson("POST", "/api/deliveries/" + deliveryId + "/resend",
                "{\"confirm\": true, \"comment\": \"" + email + " asked for a copy\"}");
        assertThat(resend.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT outcome FROM delivery_resend WHERE delivery_id = ?", String.class, deliveryId), "SENT"::equals);
        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=request", null).statusCode()).isEqualTo(200);
        return new Resent(notification, deliveryId, email);
    }

    /**
     * A viewer's proof masks the customer's names in the rendered message. After a CRM contact change renames the customer,
     * the name the message was sent with is masked too: the directory keeps the names a contact change replaced
     * (customer.former_names). Before, only the current names were masked and "Hello Octavia" showed in clear.
     */
    @Test
    void aViewerReadsNoNameInTheProofAfterTheCustomerWasRenamed() throws Exception {
        String unique = newTicketId();
        String customer = "cus_renamed" + unique;
        String email = "renamed" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, first_name, email) VALUES (?, 'Octavia Before', 'Octavia', ?)",
                customer, email);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("jenny.rosen@example.com", email).replace("Jenny Rosen", "Octavia Before")).statusCode()).isEqualTo(202);
        awaitMailFor(Samples.paymentFailedKey(unique));
        Map<String, Object> sent = await().atMost(Duration.ofSeconds(30)).until(() -> delivery(Samples.paymentFailedKey(unique), "email"),
                row -> "SENT".equals(row.get("state")));
        long notification = ((Number) sent.get("notification_id")).longValue();
        assertThat(apiAs(ADMIN, "GET", "/api/notifications/" + notification + "/proof", null).body()).as("what was sent").contains("Octavia");

        // The CRM renames the customer: a contact change through the CRM outbox, as the CRM writes it.
        String contact = Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("0015g00000XyZ1AAA", "0015r" + unique + "NNN").replace("jenny.rosen@example.org", email)
                .replace("\"firstName\": \"Jenny\"", "\"firstName\": \"Tavi\"").replace("\"lastName\": \"Rosen\"", "\"lastName\": \"After\"")
                .replace("2026-11-21T08:15:00Z", java.time.Instant.now().toString());
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)", contact);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT first_name FROM customer WHERE customer_id = ?",
                String.class, customer), "Tavi"::equals);

        String viewer = apiAs(VIEWER, "GET", "/api/notifications/" + notification + "/proof", null).body();
        String page = apiAs(VIEWER, "GET", "/console/notifications/" + notification + "/proof", null).body();
        assertThat(viewer).as("viewer's proof after a rename").doesNotContain("Octavia");
        assertThat(page).as("viewer's printable proof after a rename").doesNotContain("Octavia");
        assertThat(jdbc.queryForObject("SELECT array_to_string(former_names, ',') FROM customer WHERE customer_id = ?", String.class, customer))
                .isEqualTo("Octavia Before,Octavia");
    }

    /**
     * A notification of 200 days ago (payload in the default partition, past herald.retention.payloads) whose delivery was
     * sent but has an operator's resend PARKED (waiting for the provider): the resend is in progress and renders the
     * notification again from its payload when it is re-driven. Retention removes the payload all the same.
     */
    @Test
    void retentionKeepsThePayloadOfANotificationWithAResendInProgress() throws Exception {
        String key = "audit-parked-resend-" + newTicketId();
        long id = jdbc.queryForObject("""
                INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                          received_at, occurred_at, updated_at)
                VALUES (?, 'billing', ?, 'billing.payment_failed', 'cus_RkT4aB7cD9eF1g', 'ROUTED', CAST(? AS JSONB),
                        now() - interval '200 days', now() - interval '200 days', now() - interval '200 days') RETURNING id""", Long.class,
                key, "evt_" + key, "{\"idempotencyKey\": \"" + key + "\", \"data\": {}}");
        jdbc.update("""
                INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
                SELECT id, received_at, '{"id": "evt"}', '{"amountDue": 4200, "currency": "eur", "invoiceId": "in_x"}'
                FROM notification WHERE id = ?""", id);
        long delivery = jdbc.queryForObject("""
                INSERT INTO delivery (notification_id, channel, state, recipient_masked, provider_message_id, attempts, created_at, updated_at)
                VALUES (?, 'email', 'SENT', 'j***@example.com', ?, 1, now() - interval '200 days', now() - interval '200 days')
                RETURNING id""", Long.class, id, "msg-" + key);
        long resend = jdbc.queryForObject("""
                INSERT INTO delivery_resend (delivery_id, requested_by, comment, outcome, reason, next_attempt_at)
                VALUES (?, 'operator', 'customer asked', 'PARKED', 'provider unavailable; parked', now() + interval '1 hour')
                RETURNING id""", Long.class, delivery);

        camel.sendBody("direct:retention", null);

        Map<String, Object> after = jdbc.queryForMap("SELECT payload_removed_by, (SELECT count(*) FROM notification_payload p"
                + " WHERE p.notification_id = n.id) AS payloads FROM notification n WHERE id = ?", id);
        jdbc.update("UPDATE delivery_resend SET outcome = 'FAILED', next_attempt_at = NULL WHERE id = ?", resend);   // settled: clean-up
        assertThat(((Number) after.get("payloads")).intValue()).as("payload of a notification whose resend is parked").isOne();
    }

    /**
     * A CRM outbox row for the customer whose payload is not valid JSON is quarantined (step outbox) with the payload kept as
     * a JSON string inside the raw event: the customer id there reads \"cus_…\", which the erasure's pattern ("cus_…" as a
     * JSON value) does not find, so the quarantined copy with the customer's address, name and phone stays.
     */
    @Test
    void aQuarantinedCrmRowWhosePayloadIsNotJsonIsClearedByTheErasure() throws Exception {
        String unique = newTicketId();
        String customer = "cus_crmraw" + unique;
        String email = "crm.raw" + unique + "@example.org";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Cora Crm', ?)", customer, email);
        String broken = Samples.text("crm/contact.updated.json").replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("0015g00000XyZ1AAA", "0015g" + unique + "CCC").replace("jenny.rosen@example.org", email)
                .replace("\"updatedAt\"", "\"updatedAt\" ");
        broken = broken.substring(0, broken.lastIndexOf('}'));   // the closing brace lost: not JSON
        long row = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)"
                + " RETURNING id", Long.class, broken);
        long quarantined = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'crm' AND source_event_id = ?", Long.class, "crm-outbox-" + row),
                ids -> ids.size() == 1).get(0);
        String before = jdbc.queryForObject("SELECT raw_payload FROM unrouted_event WHERE id = ?", String.class, quarantined);
        assertThat(before).contains(email);

        HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=request", null);
        assertThat(erased.statusCode()).isEqualTo(200);
        String after = jdbc.queryForObject("SELECT raw_payload FROM unrouted_event WHERE id = ?", String.class, quarantined);
        assertThat(after).as("unrouted_event.raw_payload of the quarantined CRM row after erasure").doesNotContain(email);
    }

    /**
     * A billing event that names its customer only by email (a guest checkout) is quarantined, and an operator assigns it to
     * the customer, who gets it. The quarantined copy names no customer id, so the erasure did not find it: after the erasure
     * an auditor still read the raw event with the guest's email and name, and its reason quoted the masked email. Now the
     * erasure also clears the events an operator's action tied to one of the customer's notifications.
     */
    @Test
    void anEventAnOperatorAssignedToTheCustomerIsClearedByTheirErasure() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String unique = newTicketId();
        String customer = "cus_assigned" + unique;
        String guest = "guest" + unique + "@example.com";
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Asha Assigned', ?)", customer,
                "asha" + unique + "@example.com");
        String event = Samples.paymentFailed(unique).replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": null")
                .replace("jenny.rosen@example.com", guest).replace("Jenny Rosen", "Asha Assigned");
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        long quarantined = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source_event_id = ? AND outcome = 'QUARANTINED'", Long.class, "evt_test" + unique),
                ids -> ids.size() == 1).get(0);
        HttpResponse<String> assigned = apiJson("POST", "/api/quarantine/" + quarantined + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"the guest is Asha, she called support\"}");
        assertThat(assigned.statusCode()).as(assigned.body()).isEqualTo(200);
        awaitMailFor(Samples.paymentFailedKey(unique));
        await().atMost(Duration.ofSeconds(30)).until(() -> delivery(Samples.paymentFailedKey(unique), "email"),
                row -> "SENT".equals(row.get("state")));
        assertThat(jdbc.queryForObject("SELECT raw_payload FROM unrouted_event WHERE id = ?", String.class, quarantined)).contains(guest);

        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=request", null).statusCode()).isEqualTo(200);
        Map<String, Object> after = jdbc.queryForMap("SELECT raw_payload, reason, redrive_outcome FROM unrouted_event WHERE id = ?",
                quarantined);
        assertThat(after.get("raw_payload")).as("the assigned event's raw payload after the erasure")
                .isIn(UtcDays.texts(started, "payload removed by erasure of the customer on ", ""));
        assertThat(after.toString()).as("the assigned event after the erasure").doesNotContain(guest, "g***@", "Asha");
        assertThat(jdbc.queryForObject("SELECT comment FROM operator_action WHERE target = 'quarantine' AND target_id = ?", String.class,
                quarantined)).isEqualTo("the guest is (erased), she called support");
    }

    /**
     * An admin pastes the customer's id with a space after it (copied from a ticket or a spreadsheet). The erasure answered
     * 404 "no customer cus_x  in Herald's directory or ledger": the space cannot be seen, so the request read as "Herald holds
     * nothing of this customer" while their entry, addresses and messages stayed. Nothing is erased on a guess, but the answer
     * names the spaces and the customer Herald does hold.
     */
    @Test
    void anErasureOfAnIdWithASpaceAfterItSaysSoAndNamesTheCustomerHeraldHolds() throws Exception {
        String customer = "cus_pasted" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Pia Pasted', ?)", customer,
                customer + "@example.com");
        try {
            HttpResponse<String> erased = apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "%20?comment=request", null);
            assertThat(erased.statusCode()).isEqualTo(404);
            assertThat(erased.body()).contains("no customer '" + customer + " ' (with spaces around it) in Herald's directory or"
                    + " ledger; customer ids are matched exactly, and Herald holds customer " + customer + ": erase that id");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Integer.class, customer)).isEqualTo(1);
        } finally {
            jdbc.update("DELETE FROM customer WHERE customer_id = ?", customer);
        }
    }

    /**
     * A customer texted STOP to Herald's number (a suppression caused by no delivery of theirs) and an admin lifted it with a
     * comment quoting their name and number. After their erasure the suppression row stays (its key, the number's hash, and
     * masked copy: the record of the number's consent), but its lift comment and the LIFT's audit entry (comment, outcome) no
     * longer name them. Before, only suppressions caused by a receipt of one of their deliveries were cleared: these kept
     * "Sven Stoppard called from +1558..." for an auditor to read.
     */
    @Test
    void aSuppressionFromTheirStopBySmsAndItsLiftKeepNoNameOrNumberAfterTheErasure() throws Exception {
        String unique = newTicketId();
        String customer = "cus_stopper" + unique;
        int n = Math.abs(customer.hashCode()) % 10_000_000;
        String phone = String.format("+1 558 %03d %04d", n / 10_000, n % 10_000);
        String e164 = phone.replace(" ", "");
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Sven Stoppard', ?, ?)", customer,
                "sven" + unique + "@example.com", phone);
        String sid = "SMer" + unique;
        assertThat(inboundSms(e164, "STOP", sid).statusCode()).isEqualTo(200);
        long suppression = jdbc.queryForObject("SELECT s.id FROM suppression s JOIN delivery_receipt r ON r.id = s.receipt_id"
                + " WHERE r.provider_message_id = ? AND s.lifted_at IS NULL", Long.class, sid);
        String why = "Sven Stoppard called from " + e164 + ", wants reminders by text again";
        assertThat(apiAs(ADMIN, "POST", "/api/suppressions/" + suppression + "/lift", "{\"comment\": \"" + why + "\"}").statusCode())
                .isEqualTo(200);
        String hash = jdbc.queryForObject("SELECT address_hash FROM suppression WHERE id = ?", String.class, suppression);

        assertThat(apiAs(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=request", null).statusCode()).isEqualTo(200);

        String masked = io.herald.logging.Masking.phone(e164);
        Map<String, Object> kept = jdbc.queryForMap("SELECT address_hash, address_masked, reason, lift_comment FROM suppression WHERE id = ?",
                suppression);
        assertThat(kept).as("the suppression stays, keyed by the number").containsEntry("address_hash", hash).containsEntry("address_masked", masked);
        assertThat(kept.get("lift_comment")).as("the admin's lift comment after the erasure")
                .isEqualTo("(erased) called from (erased), wants reminders by text again");
        Map<String, Object> audit = jdbc.queryForMap("SELECT comment, outcome FROM operator_action WHERE target = 'suppression'"
                + " AND target_id = ? AND action = 'LIFT'", suppression);
        assertThat(audit.get("comment")).as("the LIFT's audit comment").isEqualTo("(erased) called from (erased), wants reminders by text again");
        assertThat(audit.toString()).as("the LIFT's audit entry").doesNotContain(e164, masked, "Sven", "Stoppard");
    }

    /** A text to Herald's number as Twilio posts it, signed with the demo auth token (Twilio's algorithm, as DeliveryReceiptsTest). */
    private HttpResponse<String> inboundSms(String from, String text, String sid) throws Exception {
        Map<String, String> fields = new java.util.TreeMap<>(Map.of("MessageSid", sid, "SmsSid", sid, "AccountSid", "ACdemo",
                "From", from, "To", "+15005550006", "Body", text));
        StringBuilder signed = new StringBuilder("http://localhost:" + port + "/webhooks/sms/inbound");
        StringBuilder body = new StringBuilder();
        fields.forEach((name, value) -> {
            signed.append(name).append(value);
            body.append(body.isEmpty() ? "" : "&").append(name).append('=')
                    .append(java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8));
        });
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
        mac.init(new javax.crypto.spec.SecretKeySpec("local-demo-sms-token".getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA1"));
        String signature = java.util.Base64.getEncoder().encodeToString(mac.doFinal(signed.toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        return post("/webhooks/sms/inbound", "application/x-www-form-urlencoded",
                body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of("X-Twilio-Signature", signature));
    }

    @Autowired
    org.apache.camel.ProducerTemplate camel;

    private int waiting(String statement) {
        return jdbc.queryForObject("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ?",
                Integer.class, statement);
    }

    private static String eventFor(String unique, String customer, String email) {
        return Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer).replace("jenny.rosen@example.com", email)
                .replace("Jenny Rosen", "Ivy Inflight");
    }
}
