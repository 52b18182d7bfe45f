package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.herald.testsupport.Breakers;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.apache.camel.model.ModelCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.env.Environment;

/** Canonical notifications to email, SMS, push, in-app and the ops webhook, as the providers and the customer see them. */
class DispatchChannelsTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    Environment environment;
    @Autowired
    CamelContext camel;

    /**
     * This class's push and SMS providers answer 503 on purpose: what their breakers counted is not left to the next test class
     * in the JVM (PushTokensTest found the push breaker still open three minutes later, and each of its pushes FAILED unsent).
     */
    @AfterEach
    void closeBreakers() {
        Breakers.resetAll(camel);
    }
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String PUSH_PATH = "/v1/projects/herald-local/messages:send";

    @Test
    void aPaymentFailedEventGivesAnHtmlAndTextEmailAnSmsAndAnOpsAlert() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);

        MimeMessage mail = awaitMailFor(key);
        assertThat(mail.getContentType()).startsWith("multipart/alternative");
        Multipart parts = (Multipart) mail.getContent();
        assertThat(parts.getBodyPart(0).getContentType()).startsWith("text/plain");
        assertThat(parts.getBodyPart(0).getContent().toString()).contains("We could not collect US$49.00 for invoice A1B2C3D4-0007.");
        assertThat(parts.getBodyPart(1).getContentType()).startsWith("text/html");
        assertThat(parts.getBodyPart(1).getContent().toString()).contains("<strong>US$49.00</strong>", "Update your payment method");

        LoggedRequest sms = awaitOne(SMS_PATH, key + ":sms");
        assertThat(form(sms.getBodyAsString())).containsExactly(
                Map.entry("To", "+447700900123"),
                Map.entry("From", "+15005550006"),
                Map.entry("Body", "Your payment of US$49.00 for invoice A1B2C3D4-0007 did not go through. Update your payment method: "
                        + "https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8x"));
        assertThat(sms.getHeader("Authorization"))
                .isEqualTo("Basic " + Base64.getEncoder().encodeToString("ACdemo:local-demo-sms-token".getBytes(StandardCharsets.UTF_8)));
        assertThat(sms.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");

        LoggedRequest ops = awaitOne("/services/T0LOCAL/B0LOCAL/local-demo-ops", key + ":ops_webhook");
        assertThat(JSON.readTree(ops.getBodyAsString()).get("text").asText()).isEqualTo(
                ":warning: Payment failed: US$49.00, invoice A1B2C3D4-0007, customer cus_RkT4aB7cD9eF1g, order ORD-100234."
                        + " Next attempt: Monday, 24 November 2025, 10:00 UTC.");

        Map<String, Map<String, Object>> rows = awaitDeliveries(key, 3);
        assertThat(rows.get("email")).containsEntry("state", "SENT").containsEntry("recipient_masked", "j***@example.org")
                .containsEntry("provider_message_id", mail.getMessageID());   // <delivery-id.token@domain>, what email events name
        // The Message-ID's domain is the sender's (herald.mail.from: notifications@herald.local), a full domain spam filters
        // accept, not the bare "herald" they score as a forged or broken header.
        assertThat(mail.getMessageID()).matches("<\\d+\\.[0-9a-f]{32}@herald\\.local>");
        assertThat(((jakarta.mail.internet.InternetAddress) mail.getFrom()[0]).getAddress()).endsWith("@herald.local");
        assertThat(rows.get("sms")).containsEntry("state", "SENT").containsEntry("recipient_masked", "+447…0123");
        assertThat(rows.get("sms").get("provider_message_id").toString()).matches("SM[0-9a-f]{32}");
        assertThat(rows.get("sms").get("rendered_body").toString()).startsWith("Your payment of US$49.00");
        assertThat(rows.get("ops_webhook")).containsEntry("state", "SENT");
    }

    /**
     * Dispatch's work for a batch is one transaction: while its last statement (the ROUTED mark) fails, no delivery of the
     * batch is queued, so none goes out half-dispatched; once the database takes it, each channel is queued and sent once.
     */
    @Test
    void aDispatchBatchThatFailsAtItsLastStatementQueuesNothingUntilItSucceedsThenEachChannelOnce() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        jdbc.execute("CREATE TABLE IF NOT EXISTS dispatch_fault (idempotency_key TEXT PRIMARY KEY, failing BOOLEAN NOT NULL)");
        jdbc.update("INSERT INTO dispatch_fault VALUES (?, true)", key);
        jdbc.execute("CREATE SEQUENCE IF NOT EXISTS dispatch_fault_tries");
        jdbc.execute("""
                CREATE OR REPLACE FUNCTION dispatch_fault() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.state = 'ROUTED' AND EXISTS (SELECT 1 FROM dispatch_fault WHERE idempotency_key = NEW.idempotency_key AND failing) THEN
                    PERFORM nextval('dispatch_fault_tries');   -- counts this notification's tries only
                    RAISE EXCEPTION 'deadlock detected (raised by DispatchChannelsTest)' USING ERRCODE = '40P01';
                  END IF;
                  RETURN NEW;
                END $$""");
        jdbc.execute("CREATE TRIGGER dispatch_fault BEFORE UPDATE ON notification FOR EACH ROW EXECUTE FUNCTION dispatch_fault()");
        try {
            assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
            // Dispatch has tried the batch three times, each failing at the ROUTED mark, its last statement...
            await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForObject(
                    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM dispatch_fault_tries", Long.class) >= 3);
            // ...and none of its deliveries stayed queued from those tries.
            assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                    + " WHERE n.idempotency_key = ?", Integer.class, key)).isZero();
            assertThat(mailsFor(key)).isEmpty();
            jdbc.update("UPDATE dispatch_fault SET failing = false WHERE idempotency_key = ?", key);

            Map<String, Map<String, Object>> rows = awaitDeliveries(key, 3);
            assertThat(rows.keySet()).containsExactlyInAnyOrder("email", "sms", "ops_webhook");
            awaitMailFor(key);
            awaitOne(SMS_PATH, key + ":sms");
            assertThat(jdbc.queryForObject("SELECT state FROM notification WHERE idempotency_key = ?", String.class, key)).isEqualTo("ROUTED");
            assertThat(mailsFor(key)).hasSize(1);
        } finally {
            jdbc.execute("DROP TRIGGER IF EXISTS dispatch_fault ON notification");
            jdbc.execute("DROP FUNCTION IF EXISTS dispatch_fault()");
            jdbc.execute("DROP TABLE IF EXISTS dispatch_fault");
            jdbc.execute("DROP SEQUENCE IF EXISTS dispatch_fault_tries");
        }
    }

    @Test
    void aBurstReachesTheSmsProviderAtTheConfiguredRateWithoutHoldingTheOtherChannels() throws Exception {
        int smsRate = environment.getRequiredProperty("herald.sms.rate-per-second", Integer.class);
        String run = "rate" + newTicketId();
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; i < 3 * smsRate; i++) {
            String customer = "cus_" + run + "_" + i;
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Rate Test', ?, ?)",
                    customer, customer + "@example.net", "+1500555" + String.format("%04d", i));
            String unique = run + "-" + i;
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            keys.add(Samples.paymentFailedKey(unique));
        }
        // Every email goes out at the mail rate while the SMS queue drains at its own, slower rate.
        keys.forEach(this::awaitMailFor);
        List<LoggedRequest> sms = await().atMost(Duration.ofSeconds(30)).until(() -> keys.stream()
                .flatMap(key -> infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                        .withHeader("Idempotency-Key", equalTo(key + ":sms"))).stream()).toList(), calls -> calls.size() == keys.size());
        // The channel's sender takes permits before it claims (herald.sms.rate-per-second, one bucket for all instances):
        // in no second does the provider get more (one more at most where a call is logged at the next second's edge).
        Map<Long, Long> perSecond = sms.stream().collect(Collectors.groupingBy(r -> r.getLoggedDate().getTime() / 1000,
                java.util.TreeMap::new, Collectors.counting()));
        assertThat(perSecond.values()).allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(smsRate + 1L));
        assertThat(perSecond).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void everyHttpChannelRouteComesFromTheOneTemplateWithTheNamedBreaker() {
        // What Hawtio and the operator see: the usual route and node ids, each route built from routes/deliver-http-template.
        assertThat(((ModelCamelContext) camel).getRouteTemplateDefinition("deliver-http")).isNotNull();
        for (Map.Entry<String, String> channel : Map.of("sms", "deliver-sms", "push", "deliver-push", "ops-webhook", "deliver-ops-webhook")
                .entrySet()) {
            Route route = camel.getRoute(channel.getValue());
            assertThat(route.isCreatedByRouteTemplate()).as(channel.getValue()).isTrue();
            assertThat(route.getSourceLocation()).as(channel.getValue()).contains("deliver-http-template.camel.yaml");
            assertThat(route.getConfigurationId()).isEqualTo("delivery-errors");
            assertBreakerFromNamedConfiguration(channel.getKey() + "-provider-breaker");
        }
        assertThat(camel.getRoute("deliver-email").isCreatedByRouteTemplate()).isFalse();
        assertBreakerFromNamedConfiguration("email-provider-breaker");
        // Hawtio tells the routes one template made apart by their descriptions: the channel and its provider.
        assertThat(camel.getRoute("deliver-sms").getDescription()).startsWith("Send one sms delivery: templates/<type>/sms.text")
                .contains("Twilio-style Messages API");
        assertThat(camel.getRoute("deliver-ops-webhook").getDescription()).contains("ops_webhook delivery").contains("Slack-style");
        assertThat(camel.getRoute("send-push").getDescription()).startsWith("Send the push deliveries claimed from the ledger")
                .contains("herald.push.max-in-flight");
        assertThat(camel.getRoute("billing-ingest").getDescription()).contains("billing events").doesNotContain("{{source}}");
        assertThat(camel.getRoutes()).allSatisfy(route -> assertThat(route.getDescription()).as(route.getRouteId())
                .doesNotContain("{{channel}}", "{{provider}}", "{{settings}}", "{{source}}", "{{events}}", "{{name}}", "{{what}}"));
    }

    /** camel.resilience4j.configurations.provider-breaker, i.e. herald.delivery.breaker.*, and not Resilience4j's defaults. */
    private void assertBreakerFromNamedConfiguration(String nodeId) {
        ResilienceProcessor breaker = camel.getProcessor(nodeId, ResilienceProcessor.class);
        assertThat(breaker).as(nodeId).isNotNull();
        assertThat(breaker.getCircuitBreakerFailureRateThreshold()).isEqualTo(50f);
        assertThat(breaker.getCircuitBreakerSlidingWindowSize())
                .isEqualTo(environment.getRequiredProperty("herald.delivery.breaker.window", Integer.class));
        assertThat(breaker.getCircuitBreakerMinimumNumberOfCalls())
                .isEqualTo(environment.getRequiredProperty("herald.delivery.breaker.minimum-calls", Integer.class));
        assertThat(breaker.getCircuitBreakerWaitDurationInOpenState())
                .isEqualTo(environment.getRequiredProperty("herald.delivery.breaker.open-seconds", Long.class));
    }

    @Test
    void aFailingPushProviderFallsBackToSmsAndTheEmailIsNotNeeded() throws Exception {
        String customer = "cus_fallback" + newTicketId();
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Sam Fallback', ?, ?, ?::jsonb)",
                customer, customer + "@example.net", "+447700900999", "[\"fcm:" + token + "\"]");
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)).atPriority(1)
                .willReturn(aResponse().withStatus(503).withBody("{\"error\": {\"status\": \"UNAVAILABLE\"}}")));
        try {
            String ticket = newTicketId();
            String reply = Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer);
            assertThat(postSignedSupport(reply).statusCode()).isEqualTo(202);
            String key = "support:agent_replied:" + ticket + ":41000000000555";

            LoggedRequest sms = awaitOne(SMS_PATH, key + ":sms");
            assertThat(form(sms.getBodyAsString())).containsEntry("To", "+447700900999")
                    .containsEntry("Body", "Support Team replied to your request #" + ticket
                            + " \"Printer error E-42 after update\": \"Hi Jenny, firmware 4.2.1 fixes E-42. Could you install it and tell us if"
                            + " the error is gone?\"");
            Map<String, Map<String, Object>> rows = awaitDeliveries(key, 3);
            assertThat(rows.get("push")).containsEntry("state", "FAILED");
            assertThat(rows.get("push").get("reason").toString())
                    .isEqualTo("push not sent: provider answered HTTP 503 Service Unavailable: {\"error\": {\"status\": \"UNAVAILABLE\"}}");
            assertThat(rows.get("sms")).containsEntry("state", "SENT");
            assertThat(rows.get("email")).containsEntry("state", "SKIPPED")
                    .containsEntry("reason", "not needed: already sent by sms (strategy first-success)");
            // The push provider was retried once, as every channel is at most (herald.push.max-retries: 1),
            // before falling back, never more.
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withRequestBody(containing(token)))).hasSize(2);
            assertThat(mailsFor(key)).isEmpty();
        } finally {
            infra.providers().removeStub(down);
        }
    }

    @Test
    void anOptedOutChannelAndAMissingAddressAreSkippedWithTheirReasonNotFailed() throws Exception {
        // Amara's preferences: billing -> [email] only.
        String amara = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(amara).replace("cus_RkT4aB7cD9eF1g", "cus_QwE5rT6yU7iO8p")).statusCode()).isEqualTo(202);
        Map<String, Map<String, Object>> amaraRows = awaitDeliveries(Samples.paymentFailedKey(amara), 3);
        assertThat(amaraRows.get("sms")).containsEntry("state", "SKIPPED")
                .containsEntry("reason", "customer cus_QwE5rT6yU7iO8p opted out of sms for billing");
        assertThat(amaraRows.get("email")).containsEntry("state", "SENT");
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withHeader("Idempotency-Key", equalTo(Samples.paymentFailedKey(amara) + ":sms")))).isEmpty();

        // A customer with no phone number at all.
        String customer = "cus_nophone" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'No Phone', ?)", customer, customer + "@example.net");
        String unique = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        Map<String, Map<String, Object>> rows = awaitDeliveries(Samples.paymentFailedKey(unique), 3);
        assertThat(rows.get("sms")).containsEntry("state", "SKIPPED")
                .containsEntry("reason", "customer " + customer + " has no phone number in the directory");
        assertThat(rows.get("email")).containsEntry("state", "SENT");
    }

    @Test
    void anAddressInTheDirectoryThatIsNotOneAddressFailsItsDeliveryAndNothingIsSentToIt() throws Exception {
        // Written before contact changes were checked (or by hand): two addresses in the email field, a national phone number.
        String customer = "cus_twoaddr" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Two Addresses', ?, '07700 900123')",
                customer, customer + "@example.net, someone.else@example.org");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);

        Map<String, Map<String, Object>> rows = awaitDeliveries(key, 3);
        assertThat(rows.get("email")).containsEntry("state", "FAILED");
        assertThat(rows.get("email").get("reason")).isEqualTo("email not sent: customer " + customer + "'s email address in the directory"
                + " cannot be sent to: it lists several addresses; Herald sends a customer's messages to exactly one; correct the contact"
                + " in the CRM (its contact change updates Herald's directory), then retry this delivery");
        assertThat(rows.get("sms")).containsEntry("state", "FAILED");
        assertThat(rows.get("sms").get("reason").toString()).contains("customer " + customer + "'s mobile phone in the directory cannot be"
                + " sent to: it is not an international number");
        assertThat(rows.get("ops_webhook")).containsEntry("state", "SENT");
        assertThat(mailsFor(key)).isEmpty();
        assertThat(Arrays.stream(infra.mail().getReceivedMessages()).flatMap(m -> {
            try {
                return Arrays.stream(m.getAllRecipients()).map(Object::toString);
            } catch (jakarta.mail.MessagingException e) {
                throw new IllegalStateException(e);
            }
        })).noneMatch(to -> to.contains(customer) || to.contains("someone.else@example.org"));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))
                .withHeader("Idempotency-Key", equalTo(key + ":sms")))).isEmpty();
    }

    @Test
    void anEmailDomainInOtherLettersIsMailedInItsAsciiFormWhileANamePartInThemFailsInWords() throws Exception {
        String customer = "cus_idn" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Jürgen Bücher', ?, '+447700900123')",
                customer, customer + "@bücher.example");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        assertThat(awaitDeliveries(key, 3).get("email")).containsEntry("state", "SENT");
        assertThat(mailsFor(key)).hasSize(1);
        assertThat(mailsFor(key).get(0).getAllRecipients()[0].toString()).isEqualTo(customer + "@xn--bcher-kva.example");

        String accented = "cus_idnname" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Jöhn', ?, '+447700900123')",
                accented, "jöhn." + accented + "@example.org");
        String other = newTicketId();
        String failedKey = Samples.paymentFailedKey(other);
        assertThat(postSignedBilling(Samples.paymentFailed(other).replace("cus_RkT4aB7cD9eF1g", accented)).statusCode()).isEqualTo(202);
        Map<String, Object> email = awaitDeliveries(failedKey, 3).get("email");
        assertThat(email).containsEntry("state", "FAILED");
        assertThat(email.get("reason").toString()).contains("customer " + accented + "'s email address in the directory cannot be sent to:"
                + " the part before the @ has letters outside plain ASCII");
        assertThat(mailsFor(failedKey)).isEmpty();
    }

    /** A CRM contact may come without a name: the customer is still greeted ("Hello,"), not left without the message. */
    @Test
    void aCustomerTheDirectoryHasNoNameForIsGreetedWithoutOneAndStillGetsTheMail() throws Exception {
        String customer = "cus_noname" + newTicketId();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, NULL, ?, '+447700900123')",
                customer, customer + "@example.org");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
        MimeMessage mail = awaitMailFor(key);
        Multipart parts = (Multipart) mail.getContent();
        assertThat(parts.getBodyPart(0).getContent().toString()).startsWith("Hello,").contains("We could not collect $49.00 for invoice A1B2C3D4-0007");
        assertThat(parts.getBodyPart(1).getContent().toString()).contains("<p>Hello,</p>");
        assertThat(awaitDeliveries(key, 3).get("email")).containsEntry("state", "SENT");
    }

    @Test
    void theInAppMessageIsListedByTheApiAndCanBeMarkedRead() throws Exception {
        String ticket = newTicketId();
        assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket)).statusCode()).isEqualTo(202);

        JsonNode message = await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            for (JsonNode m : JSON.readTree(api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox").body())) {
                if (m.get("title").asText().equals("Request #" + ticket + " is now Solved")) {
                    return m;
                }
            }
            return null;
        }, m -> m != null);
        assertThat(message.get("body").asText()).isEqualTo("\"Printer error E-42 after update\" changed from Open to Solved.");
        assertThat(message.get("readAt").isNull()).isTrue();

        assertThat(api("POST", "/api/customers/cus_RkT4aB7cD9eF1g/inbox/" + message.get("id").asLong() + "/read").statusCode()).isEqualTo(204);
        assertThat(api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox?unreadOnly=true").body()).doesNotContain("Request #" + ticket + " ");
        assertThat(api("POST", "/api/customers/cus_QwE5rT6yU7iO8p/inbox/" + message.get("id").asLong() + "/read").statusCode()).isEqualTo(404);

        // An operator resends it: a second, unread message in the inbox (the resend found the first row, read, and was recorded
        // SENT with nothing new for the customer).
        long delivery = jdbc.queryForObject("SELECT delivery_id FROM inbox_message WHERE id = ?", Long.class, message.get("id").asLong());
        java.net.http.HttpResponse<String> resent = apiAs(OPERATOR, "POST", "/api/deliveries/" + delivery + "/resend", "{\"confirm\": true, \"comment\": \"customer asked for it again\"}");
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        List<JsonNode> unread = await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<JsonNode> found = new java.util.ArrayList<>();
            JSON.readTree(api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox?unreadOnly=true").body()).forEach(m -> {
                if (m.get("title").asText().equals("Request #" + ticket + " is now Solved")) {
                    found.add(m);
                }
            });
            return found;
        }, found -> !found.isEmpty());
        assertThat(unread).singleElement().satisfies(m -> assertThat(m.get("id").asLong()).isNotEqualTo(message.get("id").asLong()));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbox_message WHERE delivery_id = ? OR resend_id IN"
                + " (SELECT id FROM delivery_resend WHERE delivery_id = ?)", Integer.class, delivery, delivery)).isEqualTo(2);

        // The app pages back through the inbox: a page of one (the resend's copy, newest), then the messages before it (the
        // first copy). Without "before" an app saw only the newest 500 messages at most: older ones could never be read.
        JsonNode newest = JSON.readTree(api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox?limit=1").body());
        assertThat(newest).hasSize(1);
        assertThat(newest.get(0).get("id").asLong()).isEqualTo(unread.get(0).get("id").asLong());
        java.net.http.HttpResponse<String> older = api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox?limit=1&before=" + newest.get(0).get("id").asLong());
        assertThat(older.statusCode()).as(older.body()).isEqualTo(200);
        assertThat(JSON.readTree(older.body())).singleElement().satisfies(m -> assertThat(m.get("id").asLong()).isEqualTo(message.get("id").asLong()));
        // Retention (or an erasure) removes the message the app last saw: paging on from its id still gives the messages
        // before it (it answered 404, "has no inbox message", and the app could page no further).
        jdbc.update("DELETE FROM inbox_message WHERE id = ?", newest.get(0).get("id").asLong());
        java.net.http.HttpResponse<String> afterRemoval = api("GET", "/api/customers/cus_RkT4aB7cD9eF1g/inbox?limit=1&before=" + newest.get(0).get("id").asLong());
        assertThat(afterRemoval.statusCode()).as(afterRemoval.body()).isEqualTo(200);
        assertThat(JSON.readTree(afterRemoval.body())).singleElement().satisfies(m -> assertThat(m.get("id").asLong()).isEqualTo(message.get("id").asLong()));
        // Another customer's message is no place to page from: 404, and nothing of theirs is listed.
        java.net.http.HttpResponse<String> foreign = api("GET", "/api/customers/cus_QwE5rT6yU7iO8p/inbox?before=" + message.get("id").asLong());
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(foreign.body()).contains("has no inbox message " + message.get("id").asLong()).doesNotContain("Request #" + ticket);
    }

    @Test
    void theCustomersLanguageIsUsedAndAnInvoiceWithoutItsLinkIsStillToldPointingToTheAccount() throws Exception {
        // Lukas has locale de-DE: templates fall back from de-DE to de.
        String lukas = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(lukas).replace("cus_RkT4aB7cD9eF1g", "cus_NffrFeUfNV2Hib")).statusCode()).isEqualTo(202);
        // Every part in German (the HTML part too), the amount and the next attempt written the German way, in Berlin time.
        MimeMessage german = awaitMailFor(Samples.paymentFailedKey(lukas));
        assertThat(german.getSubject()).isEqualTo("Ihre Zahlung von 49,00\u00a0$ ist fehlgeschlagen");
        Multipart germanParts = (Multipart) german.getContent();
        assertThat(germanParts.getBodyPart(0).getContent().toString())
                .contains("wir konnten 49,00\u00a0$ für die Rechnung A1B2C3D4-0007 nicht einziehen. Wir versuchen es am Montag, 24. November 2025, 11:00 MEZ erneut.");
        assertThat(germanParts.getBodyPart(1).getContent().toString()).contains("lang=\"de\"", "Zahlungsmethode ändern")
                .doesNotContain("Update your payment method");

        // An invoice without a payment link: the customer is still told, and pointed to their account; the SMS has no link.
        // (An invoice without a number never gets here: config/rules.yaml quarantines it as a draft. A variable a template
        // uses outside a section and the notification lacks fails the delivery: TemplateFailureReasonTest, FailureAlertsTest.)
        String unique = newTicketId();
        assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("\"hosted_invoice_url\": \"https://invoice.stripe.com/i/acct_1M2JTkLkdIwHu7ix/test_YWNjdF8x\"",
                "\"hosted_invoice_url\": null")).statusCode())
                .isEqualTo(202);
        MimeMessage unlinked = awaitMailFor(Samples.paymentFailedKey(unique));
        Multipart unlinkedParts = (Multipart) unlinked.getContent();
        assertThat(unlinkedParts.getBodyPart(0).getContent().toString()).contains("You can update your payment method in your account.");
        assertThat(unlinkedParts.getBodyPart(1).getContent().toString()).doesNotContain("href");
        Map<String, Object> sms = awaitDeliveries(Samples.paymentFailedKey(unique), 3).get("sms");
        assertThat(sms).containsEntry("state", "SENT");
        assertThat(sms.get("rendered_body").toString()).endsWith("did not go through.");
    }

    @Test
    void anEditedTemplateAppliesToTheNextMessageWithoutARestart() throws Exception {
        Path template = TEMPLATES.resolve("billing.payment_failed").resolve("ops_webhook.text.en.mustache");
        String original = Files.readString(template);
        try {
            Files.writeString(template, "Payment failed for {{customer.id}}: {{amountDueLocal}} (edited while running)");
            String unique = newTicketId();
            assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
            LoggedRequest ops = awaitOne("/services/T0LOCAL/B0LOCAL/local-demo-ops", Samples.paymentFailedKey(unique) + ":ops_webhook");
            assertThat(JSON.readTree(ops.getBodyAsString()).get("text").asText())
                    .isEqualTo("Payment failed for cus_RkT4aB7cD9eF1g: US$49.00 (edited while running)");
        } finally {
            Files.writeString(template, original);
        }
    }

    @Test
    void whileTheSmsProviderIsDownDeliveriesWaitParkedAndTheBreakerStopsCallingItThenTheyAreSent() throws Exception {
        StubMapping down = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).atPriority(1)
                .willReturn(aResponse().withStatus(503)));
        int before = infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))).size();
        List<String> keys = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                String unique = newTicketId();
                keys.add(Samples.paymentFailedKey(unique));
                assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
            }
            // Each SMS waits, parked with its reason and next attempt; none is FAILED.
            for (String key : keys) {
                Map<String, Object> sms = awaitDeliveries(key, 3).get("sms");
                assertThat(sms).containsEntry("state", "PARKED");
                assertThat(sms.get("reason").toString()).startsWith("sms provider unavailable: ").contains("parked, next attempt at");
            }
            // Without a breaker: 6 deliveries x 2 attempts (one in-process retry) = 12 calls. It opens after 5 failed calls.
            int calls = infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH))).size() - before;
            assertThat(calls).isLessThan(12);
            assertThat(smsReasons(keys)).anyMatch(r -> r.contains("circuit breaker is open"));
            // Once the breaker is open a delivery is parked at its first attempt, not retried in-process
            // (which would hold the consumer, and the notifications behind it, through the retry delays).
            assertThat(jdbc.queryForList("""
                    SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
                    JOIN notification n ON n.id = d.notification_id
                    WHERE d.channel = 'sms' AND a.id = (SELECT min(f.id) FROM delivery_attempt f WHERE f.delivery_id = d.id)
                      AND n.idempotency_key IN (""" + keys.stream().map(k -> "?").collect(Collectors.joining(",")) + ")", keys.toArray()))
                    .anySatisfy(first -> {
                        assertThat(first).containsEntry("outcome", "PARKED");
                        assertThat(first.get("reason").toString()).contains("circuit breaker is open");
                    });
            // Every email still went out: one provider being down stops nothing else.
            for (String key : keys) {
                awaitMailFor(key);
            }
        } finally {
            infra.providers().removeStub(down);
        }
        // The provider is back: the parked deliveries are re-driven when due and sent, once each.
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() -> jdbc.queryForList(
                "SELECT d.state FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE d.channel = 'sms' AND n.idempotency_key IN ("
                        + keys.stream().map(k -> "?").collect(Collectors.joining(",")) + ")", String.class, keys.toArray()),
                states -> states.size() == 6 && states.stream().allMatch("SENT"::equals));
        // Each was parked at least once and re-driven, and is now sent with its provider id. (A park the open breaker
        // caused is not counted in parked_count: that attempt never reached the provider.)
        assertThat(jdbc.queryForList("SELECT d.parked_count, d.attempts, d.provider_message_id, d.reason,"
                + " (SELECT count(*) FROM delivery_attempt a WHERE a.delivery_id = d.id AND a.outcome = 'PARKED') AS parks FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id WHERE d.channel = 'sms' AND n.idempotency_key IN ("
                + keys.stream().map(k -> "?").collect(Collectors.joining(",")) + ")", keys.toArray()))
                .hasSize(6).allSatisfy(row -> {
                    assertThat((Long) row.get("parks")).isPositive();
                    assertThat((Integer) row.get("attempts")).isGreaterThan(1);
                    assertThat(row.get("provider_message_id").toString()).startsWith("SM");
                    assertThat(row.get("reason")).isNull();
                });
    }

    private List<String> smsReasons(List<String> keys) {
        return jdbc.queryForList("SELECT d.reason FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE d.channel = 'sms' AND n.idempotency_key IN (" + keys.stream().map(k -> "?").collect(Collectors.joining(","))
                + ")", String.class, keys.toArray());
    }

    private LoggedRequest awaitOne(String path, String idempotencyKey) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> infra.providers().findAll(postRequestedFor(urlPathMatching(path))
                .withHeader("Idempotency-Key", equalTo(idempotencyKey))), found -> found.size() == 1).get(0);
    }

    /** The notification's delivery rows by channel, once every channel has reached a final state. */
    private Map<String, Map<String, Object>> awaitDeliveries(String idempotencyKey, int channels) {
        List<Map<String, Object>> rows = await().atMost(Duration.ofSeconds(45)).until(() -> jdbc.queryForList("""
                SELECT d.channel, d.state, d.reason, d.recipient_masked, d.provider_message_id, c.rendered_body
                FROM delivery d JOIN notification n ON n.id = d.notification_id LEFT JOIN delivery_content c ON c.delivery_id = d.id
                WHERE n.idempotency_key = ?""", idempotencyKey),
                found -> found.size() == channels && found.stream().noneMatch(r -> List.of("PENDING", "SENDING").contains(r.get("state"))));
        Map<String, Map<String, Object>> byChannel = new LinkedHashMap<>();
        rows.forEach(r -> byChannel.put(r.get("channel").toString(), r));
        return byChannel;
    }

    private static Map<String, String> form(String body) {
        Map<String, String> fields = new LinkedHashMap<>();
        Arrays.stream(body.split("&")).map(p -> p.split("=", 2)).forEach(p ->
                fields.put(URLDecoder.decode(p[0], StandardCharsets.UTF_8), URLDecoder.decode(p[1], StandardCharsets.UTF_8)));
        return fields;
    }
}
