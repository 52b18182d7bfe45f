package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMailUtil;
import io.herald.ledger.NotificationLedger;
import io.herald.ledger.NotificationLedger.Admission;
import io.herald.notification.CanonicalNotification;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.ReadAgain;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import io.herald.testsupport.TopicRecords;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** Billing events, from the billing Kafka topic and from the Stripe-signed webhook, to the customer's inbox. */
class BillingSourceTest extends HeraldIntegrationTest {

    private static final String TOPIC = "herald.billing.events";

    @Autowired
    CamelContext camel;
    @Autowired
    NotificationLedger ledger;

    @Test
    void aBillingEventOnKafkaReachesTheCustomerMatchedByIdNotByEmail() throws Exception {
        String unique = newTicketId();
        publish(TOPIC, "cus_RkT4aB7cD9eF1g", Samples.paymentFailed(unique));

        MimeMessage mail = awaitMailFor(Samples.paymentFailedKey(unique));
        assertThat(mail.getSubject()).isEqualTo("Your payment of US$49.00 did not go through");
        // The event carries customer_email jenny.rosen@example.com; the directory entry for the id wins.
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        assertThat(GreenMailUtil.getBody(mail)).contains("invoice A1B2C3D4-0007", "We will try again on Monday, 24 November 2025, 10:00 GMT",
                "https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8x");
        await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT d.state FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email'", String.class, Samples.paymentFailedKey(unique)),
                "SENT"::equals);
    }

    /**
     * A renewal whose bank asks the customer to confirm the payment (3-D Secure, SCA): Stripe sends
     * invoice.payment_action_required and waits for the customer on the invoice's page. Herald ignored it, so the customer
     * was never asked and the payment was never taken; now they are mailed the amount, the invoice and the link to confirm it.
     */
    @Test
    void aPaymentTheCustomerMustConfirmIsMailedWithTheLinkToConfirmIt() throws Exception {
        String unique = newTicketId();
        String event = Samples.text("billing/invoice.payment_action_required.json")
                .replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique)
                .replace("evt_1QxR3aLkdIwHu7ixP7q8R9s0", "evt_sca" + unique);
        HttpResponse<String> accepted = postSignedBilling(event);
        assertThat(accepted.statusCode()).isEqualTo(202);
        // The answer carries no header of Herald's own workings (the Kafka key, the customer id, was sent back).
        assertThat(accepted.headers().map().keySet()).noneMatch(name -> name.toLowerCase(java.util.Locale.ROOT).startsWith("kafka"));

        String key = "billing:invoice.payment_action_required:in_test" + unique + ":attempt-1";
        MimeMessage mail = awaitMailFor(key);
        assertThat(mail.getSubject()).isEqualTo("Please confirm your payment of US$49.00");
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
        assertThat(GreenMailUtil.getBody(mail)).contains("Your bank asks you to confirm the payment of US$49.00 for invoice A1B2C3D4-0007",
                "Confirm the payment here:", "https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8x");
        await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject("SELECT d.state FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email'", String.class, key),
                "SENT"::equals);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source_event_id = ?", Integer.class, "evt_sca" + unique)).isZero();
    }

    /**
     * The request to confirm a payment cancels the failure notice of the same invoice (email and SMS): a customer Herald can
     * reach by text only (no email address) was told nothing at all, neither that the payment failed nor to confirm it. The
     * request now goes by text too, like the notice it replaces.
     */
    @Test
    void aCustomerReachedByTextOnlyIsAskedToConfirmThePaymentByText() throws Exception {
        String unique = newTicketId();
        String customer = "cus_smsonly" + unique;
        jdbc.update("INSERT INTO customer (customer_id, display_name, phone) VALUES (?, 'Sam Textonly', '+15550108181')", customer);
        long now = java.time.Instant.now().getEpochSecond();
        String confirm = Samples.text("billing/invoice.payment_action_required.json")
                .replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique).replace("evt_1QxR3aLkdIwHu7ixP7q8R9s0", "evt_scasms" + unique)
                .replace("cus_RkT4aB7cD9eF1g", customer).replace("\"created\": 1763719200", "\"created\": " + now);
        assertThat(postSignedBilling(confirm).statusCode()).isEqualTo(202);
        String confirmKey = "billing:invoice.payment_action_required:in_test" + unique + ":attempt-1";
        String failedKey = Samples.paymentFailedKey(unique);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?",
                Integer.class, confirmKey) == 1);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("\"created\": 1763719200", "\"created\": " + now)
                .replace("\"next_payment_attempt\": 1763978400", "\"next_payment_attempt\": " + (now + 3 * 24 * 3600))).statusCode()).isEqualTo(202);

        String sms = "SELECT d.state FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?"
                + " AND d.channel = 'sms'";
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList("SELECT d.channel || ' ' || d.state FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel <> 'ops_webhook'", String.class,
                failedKey), states -> !states.isEmpty() && states.stream().allMatch(state -> state.endsWith(" CANCELLED")));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(sms, String.class, confirmKey), List.of("SENT")::equals);
        assertThat(jdbc.queryForObject("SELECT c.rendered_body FROM delivery_content c JOIN delivery d ON d.id = c.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'sms'", String.class, confirmKey))
                .isEqualTo("Your bank asks you to confirm the payment of $49.00 for invoice A1B2C3D4-0007; nothing is charged until you do."
                        + " Confirm it here: https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8x");
    }

    /**
     * A body that starts with a UTF-8 byte order mark (EF BB BF), signed as sent, from the webhook or written straight to the
     * topic: an ordinary notification (it was answered 202 and then quarantined as "not valid JSON (line 1, column 1)").
     */
    @Test
    void anEventStartingWithAByteOrderMarkIsAnOrdinaryNotification() throws Exception {
        String viaWebhook = newTicketId();
        String viaTopic = newTicketId();
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        byte[] event = Samples.paymentFailed(viaWebhook).getBytes(StandardCharsets.UTF_8);
        byte[] signed = new byte[bom.length + event.length];
        System.arraycopy(bom, 0, signed, 0, bom.length);
        System.arraycopy(event, 0, signed, bom.length, event.length);
        HttpResponse<String> answer = post("/webhooks/billing", "application/json", signed,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), signed, BILLING_SECRET)));
        assertThat(answer.statusCode()).isEqualTo(202);
        publish(TOPIC, "cus_RkT4aB7cD9eF1g", "\uFEFF" + Samples.paymentFailed(viaTopic));

        for (String unique : List.of(viaWebhook, viaTopic)) {
            assertThat(awaitMailFor(Samples.paymentFailedKey(unique)).getAllRecipients()).extracting(Object::toString)
                    .containsExactly("jenny.rosen@example.org");
            assertThat(jdbc.queryForObject("SELECT source_event_id FROM notification WHERE idempotency_key = ?", String.class,
                    Samples.paymentFailedKey(unique))).isEqualTo("evt_test" + unique);
        }
    }

    @Test
    void theSignedWebhookAcceptsAnyCurrentV1SignatureDuringRotationAndRefusesStaleOnes() throws Exception {
        String unique = newTicketId();
        byte[] event = Samples.paymentFailed(unique).getBytes(StandardCharsets.UTF_8);
        long now = Instant.now().getEpochSecond();

        HttpResponse<String> stale = post("/webhooks/billing", "application/json", event,
                Map.of("Stripe-Signature", Signatures.stripe(now - 600, event, BILLING_SECRET)));
        HttpResponse<String> wrong = post("/webhooks/billing", "application/json", event,
                Map.of("Stripe-Signature", Signatures.stripe(now, event, "whsec_old")));
        HttpResponse<String> rotated = post("/webhooks/billing", "application/json", event,
                Map.of("Stripe-Signature", Signatures.stripe(now, event, "whsec_old", BILLING_SECRET)));

        assertThat(stale.statusCode()).isEqualTo(401);
        assertThat(stale.body()).contains("stale signature: signed ").contains(" s ago, tolerance is ");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("no v1 signature matches");
        assertThat(rotated.statusCode()).isEqualTo(202);
        MimeMessage mail = awaitMailFor(Samples.paymentFailedKey(unique));
        assertThat(mail.getAllRecipients()).extracting(Object::toString).containsExactly("jenny.rosen@example.org");
    }

    /**
     * A consumer group rebalance (an instance starting or stopping) or a crash before the offset commit makes intake read
     * again records it had already admitted: here the billing consumer is stopped and its group's committed offset set back
     * to the event's record, as a rebalance leaves it. That is Herald reading the same record twice, not Stripe sending the
     * event again: the operator is not told of a repeat for it, and nothing is sent again. Stripe retrying the webhook (a new
     * record) is still a repeat, counted once.
     */
    @Test
    void theSameRecordReadAgainIsNotARepeatButTheWebhookPostedAgainIs() throws Exception {
        String unique = newTicketId();
        String event = Samples.paymentFailed(unique);
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        awaitMailFor(key);
        ConsumerRecord<String, String> record = TopicRecords.all(infra.kafkaBrokers(), TOPIC).stream()
                .filter(r -> r.value().contains("in_test" + unique)).findFirst().orElseThrow();
        TopicPartition partition = new TopicPartition(TOPIC, record.partition());
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            ReadAgain.fromOffset(camel, admin, "billing-ingest", "herald.billing-ingest", partition, record.offset());
            // Stripe retries the webhook: the same event, a new record after the one read again (one customer, one partition).
            assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
            long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
            await().atMost(Duration.ofSeconds(60)).until(() -> ReadAgain.committed(admin, "herald.billing-ingest", partition) >= end);
        }

        long id = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
        assertThat(repeatsShown(id)).isEqualTo(1);
        assertThat(mailsFor(key)).hasSize(1);
    }

    /**
     * The same at the ledger, for a batch holding the event twice (Stripe's retry arrived in the same poll): the batch read
     * again after a rebalance counts neither copy again, while a later record of it (another retry) and one from another
     * partition are repeats. A notification not yet routed is still forwarded again each time.
     */
    @Test
    void aBatchReadAgainCountsNoRepeatOfItsOwnRecords() throws Exception {
        String key = "billing:test.reread:" + newTicketId();
        CanonicalNotification event = new CanonicalNotification(key, "billing", "evt_" + key, "billing.payment_failed",
                "cus_RkT4aB7cD9eF1g", Instant.now(), Map.of(), Map.of(), "normal");
        try {
            List<NotificationLedger.ToAdmit> batch = List.of(read(event, TOPIC + "/0", 5), read(event, TOPIC + "/0", 9));
            assertThat(ledger.admitAll(batch)).containsExactly(Admission.NEW, Admission.DUPLICATE);
            long id = jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
            assertThat(repeatsShown(id)).isEqualTo(1);

            assertThat(ledger.admitAll(batch)).containsExactly(Admission.NOT_YET_ROUTED, Admission.DUPLICATE);
            assertThat(ledger.admitAll(List.of(read(event, TOPIC + "/0", 9)))).containsExactly(Admission.NOT_YET_ROUTED);
            assertThat(repeatsShown(id)).isEqualTo(1);

            assertThat(ledger.admitAll(List.of(read(event, TOPIC + "/0", 12)))).containsExactly(Admission.NOT_YET_ROUTED);
            assertThat(ledger.admitAll(List.of(read(event, TOPIC + "/1", 3)))).containsExactly(Admission.NOT_YET_ROUTED);
            assertThat(ledger.admitAll(List.of(read(event, TOPIC + "/1", 3)))).containsExactly(Admission.NOT_YET_ROUTED);
            assertThat(repeatsShown(id)).isEqualTo(3);
        } finally {
            ledger.withdraw(key);   // still RECEIVED: nothing waits for it
        }
    }

    /** The event as intake hands it to the ledger when read from this partition at this offset. */
    private static NotificationLedger.ToAdmit read(CanonicalNotification event, String partition, long offset) {
        return new NotificationLedger.ToAdmit(event, "{}", "{}", event.occurredAt().plus(Duration.ofDays(1)), null,
                new NotificationLedger.SourceRecord(partition, offset));
    }

    /** What the console shows of a notification's repeats: the count, and the timeline's sentence saying so. */
    private int repeatsShown(long id) throws Exception {
        JsonNode view = new ObjectMapper().readTree(api("GET", "/api/notifications/" + id).body());
        int repeats = view.get("duplicatesSuppressed").asInt();
        assertThat(view.get("timeline").findValuesAsText("detail"))
                .contains(repeats + " repeat(s) of this event arrived later and were not sent again");
        return repeats;
    }

    @Test
    void theSameSourceEventDeliveredTwiceSendsOneMessageAndCountsTheDuplicate() throws Exception {
        String unique = newTicketId();
        String event = Samples.paymentFailed(unique);
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        assertThat(postSignedBilling(event).statusCode()).isEqualTo(202);
        String key = Samples.paymentFailedKey(unique);

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> jdbc.queryForObject(
                "SELECT duplicates_suppressed FROM notification WHERE idempotency_key = ?", Integer.class, key) == 1);
        awaitMailFor(key);
        assertThat(mailsFor(key)).hasSize(1);
        // One delivery per channel of the catalog entry (email, sms, ops_webhook), never two.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(jdbc.queryForList("SELECT d.channel FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.state = 'SENT'", String.class, key))
                .containsExactlyInAnyOrder("email", "sms", "ops_webhook"));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/2010-04-01/Accounts/.*"))
                .withHeader("Idempotency-Key", equalTo(key + ":sms")))).hasSize(1);
    }

    @Test
    void badRequestsGetAClearStatusAreKeptAndStopNothing() throws Exception {
        String marker = "bad-input-" + newTicketId();
        byte[] notJson = ("this is not json " + marker).getBytes(StandardCharsets.UTF_8);
        byte[] truncated = ("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\", \"data\": {\"object\": {").getBytes(StandardCharsets.UTF_8);
        byte[] huge = new byte[5 * 1024 * 1024];
        Arrays.fill(huge, (byte) ' ');
        byte[] marked = ("{\"marker\": \"" + marker + "\"}").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(marked, 0, huge, 0, marked.length);

        long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
        assertThat(signedPost("application/json", notJson).statusCode()).isEqualTo(400);
        assertThat(signedPost("application/json", truncated).statusCode()).isEqualTo(400);
        assertThat(signedPost("application/json", huge).statusCode()).isEqualTo(413);
        HttpResponse<String> wrongType = signedPost("text/plain", marked);
        assertThat(wrongType.statusCode()).isEqualTo(415);
        assertThat(wrongType.body()).contains("expected application/json");

        List<Map<String, Object>> kept = jdbc.queryForList("SELECT http_status, reason, body_bytes, body_excerpt FROM inbound_rejection"
                + " WHERE source = 'billing' AND id > ? ORDER BY id", before);
        assertThat(kept).extracting(row -> row.get("http_status")).containsExactly(400, 400, 413, 415);
        assertThat(kept.get(0).get("reason").toString()).startsWith("body is not valid JSON");
        assertThat(kept.get(1).get("reason").toString()).startsWith("body is not valid JSON");
        // The oversized body was refused from its Content-Length, before a byte of it was read.
        assertThat(kept.get(2).get("reason").toString()).contains("the limit is 1048576 bytes").contains("without being read");
        assertThat(kept.get(2).get("body_bytes")).isEqualTo(5L * 1024 * 1024);
        assertThat(kept).extracting(row -> String.valueOf(row.get("body_excerpt")))
                .satisfiesExactly(e -> assertThat(e).contains(marker), e -> assertThat(e).contains(marker),
                        e -> assertThat(e).isEqualTo("null"), e -> assertThat(e).contains(marker));

        // The next good event goes through.
        String good = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(good)).statusCode()).isEqualTo(202);
        awaitMailFor(Samples.paymentFailedKey(good));
    }

    /**
     * The team running the broker sets the billing topic's max.message.bytes below Herald's webhook body limit: a body within
     * herald.ingest.max-body-bytes is refused by the broker for its size. The sender is told it is Herald's fault (500, so Stripe
     * retries), in words naming the topic, its setting and the command that fixes it; the request is kept whole for an operator
     * to send again; the next event goes through. It used to be 413 "keep webhook bodies below herald.ingest.max-body-bytes"
     * (which it was) with only the body's first 16 KiB kept.
     */
    @Test
    void aWebhookBodyTheTopicRefusesForItsSizeIsKeptWholeAndTheRefusalNamesTheTopicSetting() throws Exception {
        String unique = newTicketId();
        String event = Samples.paymentFailed(unique).replaceFirst("\\{", "{\"padding\": \"" + "x".repeat(300_000) + "\",");
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, TOPIC);
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers()))) {
            String original = admin.describeConfigs(List.of(topic)).all().get().get(topic).get("max.message.bytes").value();
            setMaxMessageBytes(admin, topic, "100000");
            long before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
            HttpResponse<String> refused;
            try {
                refused = postSignedBilling(event);
            } finally {
                setMaxMessageBytes(admin, topic, original);
            }
            assertThat(refused.statusCode()).isEqualTo(500);
            assertThat(refused.body()).contains("herald.billing.events", "max.message.bytes", "herald.ingest.kafka-max-request-size",
                    "kafka-configs.sh --alter --entity-type topics --entity-name herald.billing.events --add-config max.message.bytes=2097152");
            Map<String, Object> kept = jdbc.queryForMap("SELECT http_status, body_excerpt FROM inbound_rejection"
                    + " WHERE source = 'billing' AND id > ? ORDER BY id LIMIT 1", before);
            assertThat(kept.get("http_status")).isEqualTo(500);
            assertThat(kept.get("body_excerpt")).isEqualTo(event);
        }
        String good = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(good)).statusCode()).isEqualTo(202);
        awaitMailFor(Samples.paymentFailedKey(good));
    }

    private static void setMaxMessageBytes(AdminClient admin, ConfigResource topic, String bytes) throws Exception {
        admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", bytes),
                AlterConfigOp.OpType.SET)))).all().get();
        await().atMost(Duration.ofSeconds(10)).until(() -> bytes.equals(
                admin.describeConfigs(List.of(topic)).all().get().get(topic).get("max.message.bytes").value()));
    }

    @Test
    void aMixedBatchQuarantinesEachBadEventAloneAndDeliversEveryGoodOne() throws Exception {
        String first = newTicketId();
        String second = newTicketId();
        String noCustomer = newTicketId();
        String unknownCustomer = newTicketId();
        String unknownType = newTicketId();
        publish(TOPIC, "mixed-batch",
                Samples.paymentFailed(first),
                "{\"id\": \"evt_truncated_" + first + "\", \"type\": \"invoice.paid\", ",
                Samples.paymentFailed(noCustomer).replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": null")
                        .replace("\"customer_email\": \"jenny.rosen@example.com\"", "\"customer_email\": null"),
                Samples.paymentFailed(unknownCustomer).replace("cus_RkT4aB7cD9eF1g", "cus_nobody" + unknownCustomer),
                Samples.paymentFailed(unknownType).replace("\"type\": \"invoice.payment_failed\"", "\"type\": \"invoice.finalized\""),
                Samples.paymentFailed(second));

        awaitMailFor(Samples.paymentFailedKey(first));
        awaitMailFor(Samples.paymentFailedKey(second));
        // The mail can reach the inbox a moment before the sender's outcome is committed: wait for the ledger too.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(jdbc.queryForList(
                "SELECT n.idempotency_key FROM notification n JOIN delivery d ON d.notification_id = n.id"
                        + " WHERE d.state = 'SENT' AND d.channel = 'email' AND n.idempotency_key IN (?, ?)", String.class,
                Samples.paymentFailedKey(first),
                Samples.paymentFailedKey(second))).hasSize(2));

        Map<String, Object> missingCustomer = unrouted("%evt_test" + noCustomer + "%");
        assertThat(missingCustomer).containsEntry("outcome", "QUARANTINED").containsEntry("step", "mapping");
        assertThat(missingCustomer.get("reason").toString())
                .contains("billing event evt_test" + noCustomer + " has no customer: data.object.customer is null");
        Map<String, Object> nobody = unrouted("%cus_nobody" + unknownCustomer + "%");
        assertThat(nobody).containsEntry("outcome", "QUARANTINED").containsEntry("step", "identity");
        assertThat(nobody.get("reason").toString()).contains("cus_nobody" + unknownCustomer + ", who is not in Herald's customer directory");
        Map<String, Object> truncated = unrouted("%evt_truncated_" + first + "%");
        assertThat(truncated).containsEntry("outcome", "QUARANTINED").containsEntry("step", "mapping");
        Map<String, Object> ignored = unrouted("%evt_test" + unknownType + "%");
        assertThat(ignored).containsEntry("outcome", "IGNORED");
        assertThat(ignored.get("reason").toString()).contains("billing event type invoice.finalized is not a customer notification");
    }

    /**
     * A record read again (a redelivery after a rebalance, as the full suite met once) is the same event: an unreadable one
     * has no id to find its row by, so its payload does. One row per event, however often it is read; another unreadable
     * event is a row of its own.
     */
    @Test
    void anUnreadableEventReadTwiceIsKeptOnce() throws Exception {
        String unique = newTicketId();
        String truncated = "{\"id\": \"evt_twice_" + unique + "\", \"type\": \"invoice.paid\", ";
        String noId = Samples.paymentFailed(unique).replace("\"id\": \"evt_test" + unique + "\",", "");
        assertThat(noId).doesNotContain("evt_test" + unique);
        String other = "{\"id\": \"evt_twice_" + unique + "\", \"type\": \"invoice.paid\" ";
        publish(TOPIC, "read-twice", truncated, noId, truncated, noId, other);
        // The next event on the same key is handled after all of them.
        publish(TOPIC, "read-twice", Samples.paymentFailed(unique + "b"));
        awaitMailFor(Samples.paymentFailedKey(unique + "b"));

        assertThat(unrouted("%evt_twice_" + unique + "\", \"type\": \"invoice.paid\", ")).containsEntry("step", "mapping");
        assertThat(unrouted("%evt_twice_" + unique + "\", \"type\": \"invoice.paid\" ")).containsEntry("step", "mapping");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'billing' AND raw_payload = ?",
                Integer.class, noId)).isEqualTo(1);
    }

    @Test
    void aRefundOfAGuestChargeIsQuarantinedSayingItCarriesOnlyAnEmailEvenWhenOneCustomerHasIt() throws Exception {
        String known = newTicketId();
        String unknown = newTicketId();
        // Real Stripe: a guest charge has no customer; the buyer's email is in billing_details.email. Anyone can type
        // another person's email at a checkout, so Herald does not match by it (herald.identity.match-by-email: false).
        publish(TOPIC, "jenny.rosen@example.org", guestRefund(known, "Jenny.Rosen@Example.org"));
        publish(TOPIC, "guest.buyer@example.net", guestRefund(unknown, "Guest.Buyer@example.net"));

        // One directory entry has the first email (case aside), none the second: both are quarantined at identity, saying
        // so in words, the email masked, for an operator to assign (QuarantineApiTest) or dismiss.
        for (String[] guest : new String[][] {{known, "J***@Example.org"}, {unknown, "G***@example.net"}}) {
            Map<String, Object> held = unrouted("%evt_guest" + guest[0] + "%");
            assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "identity");
            assertThat(held.get("reason").toString()).isEqualTo("billing event evt_guest" + guest[0] + " carries no customer id, only the email "
                    + guest[1] + "; Herald matches customers by stable ids only. If you know whose it is, assign it to the customer"
                    + " from the event page in the console (it is sent to them once; nothing is linked), or dismiss it");
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id IN (?, ?)", Integer.class,
                "evt_guest" + known, "evt_guest" + unknown)).isZero();
        assertThat(mailsFor("billing:charge.refunded:ch_guest" + known + ":12999")).isEmpty();
    }

    /**
     * Stripe's event destinations can send thin events (object v2.core.event): the type prefixed with "v1.", the object only
     * named in related_object, no data.object. One for a payment failure used to be recorded as IGNORED "billing event type
     * v1.invoice.payment_failed is not a customer notification": the customer was never told, and the operator was told there
     * was nothing to tell. It is quarantined saying what to change at Stripe; a thin event of a type Herald does not send
     * stays ignored. Shapes: stripe-python tests/test_v2_event.py and stripe-go webhook tests (v1.billing.meter.error_report_triggered,
     * created as an ISO time), type names from stripe-ruby lib/stripe/events/v1_invoice_payment_failed_event.rb and
     * v1_charge_refunded_event.rb; https://docs.stripe.com/event-destinations ("thin events for API v1 resources").
     */
    @Test
    void aThinEventOfAHandledTypeIsQuarantinedSayingToSendSnapshotsNotIgnored() throws Exception {
        String unique = newTicketId();
        String thinPaymentFailed = "{\"id\": \"evt_thin" + unique + "\", \"object\": \"v2.core.event\", \"type\": \"v1.invoice.payment_failed\","
                + " \"livemode\": false, \"created\": \"2026-12-06T09:12:45.330Z\", \"context\": null,"
                + " \"related_object\": {\"id\": \"in_thin" + unique + "\", \"type\": \"invoice\", \"url\": \"/v1/invoices/in_thin" + unique + "\"},"
                + " \"reason\": null}";
        String thinMeter = "{\"id\": \"evt_thinmeter" + unique + "\", \"object\": \"v2.core.event\","
                + " \"type\": \"v1.billing.meter.error_report_triggered\", \"livemode\": true, \"created\": \"2022-02-15T00:27:45.330Z\","
                + " \"related_object\": {\"id\": \"mtr_123\", \"type\": \"billing.meter\", \"url\": \"/v1/billing/meters/mtr_123\"}}";

        assertThat(postSignedBilling(thinPaymentFailed).statusCode()).isEqualTo(202);
        assertThat(postSignedBilling(thinMeter).statusCode()).isEqualTo(202);

        Map<String, Object> held = unrouted("%evt_thin" + unique + "\"%");
        assertThat(held).containsEntry("outcome", "QUARANTINED").containsEntry("step", "mapping");
        assertThat(held.get("reason").toString()).contains("billing event evt_thin" + unique + " is a Stripe thin event",
                "v1.invoice.payment_failed", "in_thin" + unique, "no data.object", "snapshot");
        Map<String, Object> meter = unrouted("%evt_thinmeter" + unique + "%");
        assertThat(meter).containsEntry("outcome", "IGNORED");
        assertThat(meter.get("reason").toString()).contains("v1.billing.meter.error_report_triggered is not a customer notification");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE source_event_id = ?", Integer.class,
                "evt_thin" + unique)).isZero();
    }

    /** Stripe's charge.refunded for a guest charge: no customer, the buyer's email in billing_details, no receipt email. */
    static String guestRefund(String unique, String email) {
        return Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_guest" + unique)
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", "ch_guest" + unique)
                .replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": null, \"billing_details\": {\"email\": \"" + email + "\"}")
                .replace("\"receipt_email\": \"jenny.rosen@example.com\"", "\"receipt_email\": null");
    }

    private Map<String, Object> unrouted(String rawLike) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT outcome, step, reason FROM unrouted_event WHERE source = 'billing' AND raw_payload LIKE ?", rawLike),
                rows -> rows.size() == 1).get(0);
    }

    private HttpResponse<String> signedPost(String contentType, byte[] body) throws Exception {
        return post("/webhooks/billing", contentType, body,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), body, BILLING_SECRET)));
    }
}
