package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Events with hostile content (ids of any length, NUL and broken characters, numbers and dates out of
 * any range, wrongly typed fields, amounts and dates no customer should see), put on the billing topic,
 * posted to the webhook and queued in the CRM outbox as real senders would. Each ends in exactly one row
 * with its raw payload kept, nothing of a refused one reaches a customer, and every stored reason reads
 * as a sentence for people: no exception names, engine, parser or database texts.
 */
class HostileEventsTest extends HeraldIntegrationTest {

    private static final String TOPIC = "herald.billing.events";
    private static final String SMS_PATH = "/2010-04-01/Accounts/[^/]+/Messages.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a reason for people never contains. */
    static final List<Pattern> TECHNICAL = List.of(
            Pattern.compile("\\b[A-Z][A-Za-z]*(Exception|Error)\\b"),
            Pattern.compile("Error:"),
            Pattern.compile("\\b(java|javax|jakarta|com|org|io|scala|ujson|sjsonnet)\\.[a-z]\\w*\\."),
            Pattern.compile("(?i)\\bSQL\\b"),
            Pattern.compile("(?i)varchar|character varying"),
            Pattern.compile("(?i)internal error"),
            Pattern.compile("(?i)binary operation"),
            Pattern.compile("(?i)wrong parameter type"),
            Pattern.compile("0x00"),
            Pattern.compile("(?i)invalid byte sequence"),
            Pattern.compile("(?i)long overflow"),
            Pattern.compile("(?i)unexpected (end-of-input|character|token)"),
            Pattern.compile("at line \\d+ column \\d+"),
            Pattern.compile("\\n\\s*at "),
            Pattern.compile("(?i)stack ?trace"),
            Pattern.compile("(?i)null ?pointer"));

    @Test
    void everyHostileEventEndsInExactlyOneRowWithItsRawPayloadAndNothingRefusedReachesACustomer() throws Exception {
        String run = newTicketId();
        long unroutedBefore = maxId("unrouted_event");
        long deadBefore = maxId("dead_letter");
        Map<String, String> events = new LinkedHashMap<>();
        // ids and types of any length, NUL and broken characters
        events.put("long-event-id", paymentFailed(run, "long-event-id", e -> e.put("id", "evt_" + "x".repeat(300))));
        events.put("nul-in-id", paymentFailed(run, "nul-in-id", e -> e.put("id", "evt_nul\u0000" + run)));
        events.put("nul-in-type", paymentFailed(run, "nul-in-type", e -> e.put("type", "invoice.payment_failed\u0000")));
        // A lone surrogate as JSON senders write it (an escape: a serializer would turn the char itself into '?').
        events.put("lone-surrogate-customer", paymentFailed(run, "lone-surrogate-customer", e -> data(e).put("customer", "cus_LONE_SURROGATEx"))
                .replace("LONE_SURROGATE", "\\ud800"));
        events.put("long-customer-id", paymentFailed(run, "long-customer-id", e -> data(e).put("customer", "cus_" + "y".repeat(100))));
        events.put("long-type", paymentFailed(run, "long-type", e -> e.put("type", "t".repeat(5000))));
        // wrongly typed fields and numbers out of any range
        events.put("customer-is-a-number", paymentFailed(run, "customer-is-a-number", e -> data(e).put("customer", 12345)));
        events.put("amount-is-text", paymentFailed(run, "amount-is-text", e -> data(e).put("amount_due", "49.00")));
        events.put("amount-1e300", paymentFailed(run, "amount-1e300", e -> data(e).put("amount_due", 1e300)));
        events.put("created-beyond-9999", paymentFailed(run, "created-beyond-9999", e -> e.put("created", 1e15)));
        events.put("refund-amount-is-text", refund(run, "refund-amount-is-text", e -> data(e).put("amount_refunded", "12999")));
        // sense before send: values no customer should see
        events.put("negative-money", paymentFailed(run, "negative-money", e -> data(e).put("amount_due", -1)));
        events.put("currency-xxx", paymentFailed(run, "currency-xxx", e -> data(e).put("currency", "xxx")));
        events.put("created-0001", paymentFailed(run, "created-0001", e -> e.put("created", -62135596800L)));
        events.put("created-9999", paymentFailed(run, "created-9999", e -> e.put("created", 253402300799L)));
        events.put("draft-invoice", paymentFailed(run, "draft-invoice", e -> {
            data(e).putNull("number");
            data(e).put("status", "draft");
        }));
        events.put("trial-ends-0001", edit(Samples.text("billing/customer.subscription.trial_will_end.json"), run, "trial-ends-0001",
                e -> data(e).put("trial_end", -62135596800L)));
        // a text no message needs (rendering or masking it would cost without bound); a link that long is not one a customer
        // is offered (herald.webLinkOrNull: at most 2,000 characters), so the invoice number carries it here
        events.put("text-100k", paymentFailed(run, "text-100k",
                e -> data(e).put("number", "A" + "z".repeat(100_000))));
        // content that is odd but harmless: made storable and sent
        events.put("nul-and-long-text-in-data", paymentFailed(run, "nul-and-long-text-in-data", e -> {
            data(e).put("number", "A1\u0000B2");
            data(e).put("hosted_invoice_url", "https://invoice.example/" + "z".repeat(900));
            data(e).put("customer_name", "n".repeat(100_000));
        }));
        // nested far deeper than any event (JSON readers stop at 1,000 levels): it was quarantined as "empty or unreadable"
        events.put("nested-5000", paymentFailed(run, "nested-5000", e -> { }).replaceFirst("\\{", "{\"deep\": " + "[".repeat(5000) + "]".repeat(5000) + ", "));
        publish(TOPIC, "hostile-" + run, events.values().toArray(String[]::new));
        // Not JSON at all: a literal NUL byte and invalid UTF-8.
        String literalNul = "{\"id\": \"evt_raw\u0000" + run + "\", \"marker\": \"" + marker(run, "literal-nul") + "\"";
        publish(TOPIC, "hostile-" + run, literalNul);
        byte[] invalidUtf8 = ("{\"marker\": \"" + marker(run, "invalid-utf8") + "\", \"id\": \"evt_\u00ff")
                .getBytes(StandardCharsets.ISO_8859_1);
        publishBytes(TOPIC, invalidUtf8);
        // Through the signed webhook: a NUL in the id (answered 202, then quarantined, not lost).
        String viaWebhook = paymentFailed(run, "webhook-nul-in-id", e -> e.put("id", "evt_hook\u0000" + run));
        assertThat(postSignedBilling(viaWebhook).statusCode()).isEqualTo(202);
        String deepViaWebhook = paymentFailed(run, "webhook-nested-5000", e -> { })
                .replaceFirst("\\{", "{\"deep\": " + "[".repeat(5000) + "]".repeat(5000) + ", ");
        HttpResponse<String> deepRefused = postSignedBilling(deepViaWebhook);
        assertThat(deepRefused.statusCode()).isEqualTo(400);
        assertThat(deepRefused.body()).contains("body nests objects or arrays more than 1,000 levels deep, or has a number or text longer"
                + " than any event's; an event is a few levels deep");
        // A CRM contact change with an email longer than any address (was "value too long for type character varying(320)").
        String contact = Samples.text("crm/contact.updated.json")
                .replace("jenny.rosen@example.org", "j".repeat(400) + "@example.org")
                .replace("cus_RkT4aB7cD9eF1g", "cus_hostile" + run)
                .replace("\"firstName\"", "\"marker\": \"" + marker(run, "crm-long-email") + "\", \"firstName\"");
        long contactRow = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)"
                + " RETURNING id", Long.class, contact);
        // A CRM contact change with a time zone and a locale no one has (every time in its messages read as UTC).
        String contactZone = Samples.text("crm/contact.updated.json")
                .replace("Europe/London", "Mars/Olympus_Mons").replace("\"en-GB\"", "\"english please\"")
                .replace("cus_RkT4aB7cD9eF1g", "cus_zone" + run)
                .replace("\"firstName\"", "\"marker\": \"" + marker(run, "crm-unknown-zone") + "\", \"firstName\"");
        long zoneRow = jdbc.queryForObject("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)"
                + " RETURNING id", Long.class, contactZone);
        // A CRM contact whose email field lists two addresses (the customer's messages would go to both) and whose phone
        // is a national number; and one whose email carries a name in angle brackets.
        String contactList = Samples.text("crm/contact.updated.json")
                .replace("jenny.rosen@example.org", "jenny.rosen@example.org, someone.else@example.net")
                .replace("+44 7700 900123", "07700 900123")
                .replace("cus_RkT4aB7cD9eF1g", "cus_list" + run)
                .replace("\"firstName\"", "\"marker\": \"" + marker(run, "crm-address-list") + "\", \"firstName\"");
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)", contactList);
        String contactNamed = Samples.text("crm/contact.updated.json")
                .replace("\"jenny.rosen@example.org\"", "\"Jenny Rosen <jenny.rosen@example.org>\"")
                .replace("cus_RkT4aB7cD9eF1g", "cus_named" + run)
                .replace("\"firstName\"", "\"marker\": \"" + marker(run, "crm-named-address") + "\", \"firstName\"");
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)", contactNamed);
        // One whose address has a letter outside ASCII before the @ (it would need SMTPUTF8).
        String contactAccented = Samples.text("crm/contact.updated.json")
                .replace("\"jenny.rosen@example.org\"", "\"jöhn.rosen@example.org\"")
                .replace("cus_RkT4aB7cD9eF1g", "cus_accented" + run)
                .replace("\"firstName\"", "\"marker\": \"" + marker(run, "crm-accented-address") + "\", \"firstName\"");
        jdbc.update("INSERT INTO crm_outbox (aggregate, event_type, payload) VALUES ('contact', 'contact.updated', ?)", contactAccented);
        // A message on the notifications topic that is not a notification: a dead letter.
        String garbage = "{\"idempotencyKey\": \"" + marker(run, "dead-letter") + "\", \"type\": 42";
        publish("herald.notifications", "hostile-" + run, garbage);

        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("long-event-id", "QUARANTINED validation");
        expected.put("nul-in-id", "QUARANTINED validation");
        expected.put("nul-in-type", "IGNORED mapping");
        expected.put("lone-surrogate-customer", "QUARANTINED validation");
        expected.put("long-customer-id", "QUARANTINED validation");
        expected.put("long-type", "IGNORED mapping");
        expected.put("customer-is-a-number", "QUARANTINED mapping");
        expected.put("amount-is-text", "QUARANTINED mapping");
        expected.put("amount-1e300", "QUARANTINED mapping");
        expected.put("created-beyond-9999", "QUARANTINED mapping");
        expected.put("refund-amount-is-text", "QUARANTINED mapping");
        expected.put("negative-money", "QUARANTINED validation");
        expected.put("currency-xxx", "QUARANTINED validation");
        expected.put("created-0001", "QUARANTINED validation");
        expected.put("created-9999", "QUARANTINED validation");
        expected.put("draft-invoice", "QUARANTINED validation");
        expected.put("trial-ends-0001", "QUARANTINED validation");
        expected.put("text-100k", "QUARANTINED validation");
        expected.put("nul-and-long-text-in-data", "NOTIFICATION");
        expected.put("literal-nul", "QUARANTINED mapping");
        expected.put("invalid-utf8", "QUARANTINED mapping");
        expected.put("webhook-nul-in-id", "QUARANTINED validation");
        expected.put("crm-long-email", "QUARANTINED validation");
        expected.put("crm-unknown-zone", "QUARANTINED validation");
        expected.put("crm-address-list", "QUARANTINED validation");
        expected.put("crm-named-address", "QUARANTINED validation");
        expected.put("crm-accented-address", "QUARANTINED validation");
        expected.put("dead-letter", "DEAD_LETTER dispatch");
        expected.put("nested-5000", "QUARANTINED mapping");

        for (Map.Entry<String, String> each : expected.entrySet()) {
            String marker = marker(run, each.getKey());
            List<String> rows = await().atMost(Duration.ofSeconds(60)).until(() -> rowsFor(marker), r -> !r.isEmpty());
            assertThat(rows).as("rows for %s", each.getKey()).containsExactly(each.getValue());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> jdbc.queryForObject(
                "SELECT processed_at IS NOT NULL FROM crm_outbox WHERE id = ?", Boolean.class, contactRow));
        assertThat(reason(marker(run, "crm-unknown-zone"))).contains("the time zone 'Mars/Olympus_Mons' is not a time zone Herald knows"
                + " (an IANA id such as Europe/Berlin)").contains("the locale 'english please' is not a language tag (such as de-DE or en)")
                .endsWith("The directory was not changed; correct the contact in the CRM");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id = ?", Long.class, "cus_zone" + run)).isZero();
        assertThat(zoneRow).isPositive();
        assertThat(reason(marker(run, "crm-address-list")))
                .contains("the email cannot be sent to: it lists several addresses; Herald sends a customer's messages to exactly one")
                .contains("the mobile phone cannot be sent to: it is not an international number (a plus, the country code, then the"
                        + " number, such as +44 7700 900123)")
                .doesNotContain("someone.else@example.net")
                .endsWith("The directory was not changed; correct the contact in the CRM");
        assertThat(reason(marker(run, "crm-named-address"))).contains("the email cannot be sent to: it has a name, quotes or angle"
                + " brackets around the address; keep only the address, such as jenny@example.org");
        assertThat(reason(marker(run, "crm-accented-address"))).contains("the email cannot be sent to: the part before the @ has letters"
                + " outside plain ASCII (such as ö), which Herald's mail sending cannot address; ask the customer for an address without them");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM customer WHERE customer_id IN (?, ?, ?)", Long.class,
                "cus_list" + run, "cus_named" + run, "cus_accented" + run)).isZero();

        // The raw payload is kept as received; NUL (refused by PostgreSQL) as a visible escape.
        assertThat(raw(marker(run, "literal-nul"))).isEqualTo(literalNul.replace("\u0000", "\\u0000"));
        assertThat(raw(marker(run, "nul-in-id"))).isEqualTo(events.get("nul-in-id"));
        assertThat(raw(marker(run, "long-event-id"))).contains("x".repeat(300));
        assertThat(jdbc.queryForObject("SELECT source_event_id FROM unrouted_event WHERE raw_payload LIKE ?", String.class,
                "%" + marker(run, "long-event-id") + "%")).hasSize(200);

        // Reasons name the field and what to do, in words.
        assertThat(reason(marker(run, "draft-invoice"))).contains("invoice in_" + marker(run, "draft-invoice")
                + " has no invoice number yet (it is a draft); Stripe sends payment notices for finalised invoices");
        assertThat(reason(marker(run, "negative-money"))).contains("the amount due is negative (-0.01 USD)");
        assertThat(reason(marker(run, "currency-xxx"))).contains("the currency XXX of the amount due is not money");
        assertThat(reason(marker(run, "created-0001"))).contains("the event time 0001-01-01T00:00:00Z is not plausible");
        assertThat(reason(marker(run, "created-9999"))).contains("the event time 9999-12-31T23:59:59Z is not plausible");
        assertThat(reason(marker(run, "trial-ends-0001"))).contains("the trial end 0001-01-01T00:00:00Z is not plausible");
        assertThat(reason(marker(run, "long-event-id"))).contains("the event id is 304 characters long; Herald keeps at most 200");
        assertThat(reason(marker(run, "long-customer-id"))).contains("the customer id is 104 characters long; Herald keeps at most 64");
        assertThat(reason(marker(run, "nul-in-id"))).contains("the event id contains a control or broken character");
        // What the source sent wrong is not blamed on the mapping (MappingOutputInvalid is for what the mapping wrote).
        for (String fromSource : List.of("long-event-id", "long-customer-id", "nul-in-id")) {
            assertThat(reason(marker(run, fromSource))).as(fromSource).contains("Correct it at the source")
                    .doesNotContain("correct the mapping", "not the source");
        }
        assertThat(reason(marker(run, "customer-is-a-number"))).contains("data.object.customer is the number 12345, expected text");
        assertThat(reason(marker(run, "amount-is-text"))).contains("data.object.amount_due is the text '49.00', expected a number");
        assertThat(reason(marker(run, "refund-amount-is-text"))).contains("data.object.amount_refunded is the text '12999', expected a number");
        assertThat(reason(marker(run, "literal-nul"))).contains("is not valid JSON");
        assertThat(reason(marker(run, "nested-5000"))).isEqualTo("billing event cannot be read: it nests objects or arrays more than 1,000"
                + " levels deep, or has a number or text longer than any event's (an event is a few levels deep); the raw event is kept"
                + " as received. Ask the sender to fix it");
        assertThat(reason(marker(run, "text-100k"))).contains("the invoice number is 100001 characters long;"
                + " Herald sends texts of at most 10000 characters");
        assertThat(reason(marker(run, "crm-long-email"))).contains("the email is 412 characters long; Herald keeps at most 320");

        // The harmless oddities were sent, NUL dropped from what the customer reads.
        String sentKey = "billing:invoice.payment_failed:in_" + marker(run, "nul-and-long-text-in-data") + ":attempt-2";
        Map<String, Object> email = await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForList("SELECT d.state, d.reason"
                + " FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email'",
                sentKey), rows -> rows.size() == 1 && !List.of("PENDING", "SENDING", "RETRYING").contains(rows.get(0).get("state"))).get(0);
        assertThat(email).as("email delivery").containsEntry("state", "SENT");
        assertThat(com.icegreen.greenmail.util.GreenMailUtil.getBody(awaitMailFor(sentKey))).contains("invoice A1B2").doesNotContain("\u0000");

        // Nothing of a refused event reached a customer: no SMS request, no mail, no delivery.
        for (String refused : List.of("negative-money", "currency-xxx", "created-0001", "created-9999", "draft-invoice", "trial-ends-0001",
                "text-100k")) {
            String invoice = "in_" + marker(run, refused);
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(invoice)))).isEmpty();
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", containing(invoice)))).isEmpty();
            assertThat(mailsFor("billing:invoice.payment_failed:" + invoice + ":attempt-2")).isEmpty();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification_payload p ON p.notification_id = d.notification_id"
                + " WHERE p.raw_payload LIKE ? AND p.raw_payload NOT LIKE ?", Integer.class,
                "%" + run + "%", "%nul-and-long-text-in-data%")).isZero();

        // Every reason stored for these events, and every failure reason of their deliveries, is for people.
        List<String> reasons = new ArrayList<>();
        reasons.addAll(jdbc.queryForList("SELECT reason FROM unrouted_event WHERE id > ?", String.class, unroutedBefore));
        reasons.addAll(jdbc.queryForList("SELECT reason FROM dead_letter WHERE id > ?", String.class, deadBefore));
        reasons.addAll(jdbc.queryForList("SELECT d.reason FROM delivery d JOIN notification_payload p ON p.notification_id = d.notification_id"
                + " WHERE p.raw_payload LIKE ? AND d.reason IS NOT NULL", String.class, "%" + run + "%"));
        assertThat(reasons).hasSizeGreaterThanOrEqualTo(expected.size() - 1);
        for (String reason : reasons) {
            for (Pattern technical : TECHNICAL) {
                assertThat(technical.matcher(reason).find()).as("reason %s contains %s", reason, technical).isFalse();
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static String marker(String run, String name) {
        return "hostile" + run + "-" + name;
    }

    /** The payment-failed sample for one hostile class: its own invoice id and a marker, then one change. */
    private static String paymentFailed(String run, String name, Consumer<ObjectNode> change) {
        return edit(Samples.text("billing/invoice.payment_failed.json"), run, name, change);
    }

    private static String refund(String run, String name, Consumer<ObjectNode> change) {
        return edit(Samples.text("billing/charge.refunded.json"), run, name, change);
    }

    private static String edit(String sample, String run, String name, Consumer<ObjectNode> change) {
        try {
            ObjectNode event = (ObjectNode) JSON.readTree(sample);
            event.put("id", "evt_" + marker(run, name));
            event.put("marker", marker(run, name));
            data(event).put("id", "in_" + marker(run, name));
            change.accept(event);
            return JSON.writeValueAsString(event);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode data(ObjectNode event) {
        return (ObjectNode) event.at("/data/object");
    }

    /** Every row the event ended in: NOTIFICATION, "QUARANTINED step", "IGNORED step" or "DEAD_LETTER stage". */
    private List<String> rowsFor(String marker) {
        String like = "%" + marker + "%";
        List<String> rows = new ArrayList<>();
        jdbc.queryForList("SELECT notification_id FROM notification_payload WHERE raw_payload LIKE ?", like).forEach(r -> rows.add("NOTIFICATION"));
        jdbc.queryForList("SELECT outcome, step FROM unrouted_event WHERE raw_payload LIKE ?", like)
                .forEach(r -> rows.add(r.get("outcome") + " " + r.get("step")));
        jdbc.queryForList("SELECT stage FROM dead_letter WHERE payload LIKE ?", like).forEach(r -> rows.add("DEAD_LETTER " + r.get("stage")));
        return rows;
    }

    private String raw(String marker) {
        return jdbc.queryForObject("SELECT raw_payload FROM unrouted_event WHERE raw_payload LIKE ?", String.class, "%" + marker + "%");
    }

    private String reason(String marker) {
        return jdbc.queryForObject("SELECT reason FROM unrouted_event WHERE raw_payload LIKE ?", String.class, "%" + marker + "%");
    }

    private long maxId(String table) {
        return jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM " + table, Long.class);
    }

    private void publishBytes(String topic, byte[] value) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "hostile-bytes", value)).get();
        }
    }
}
