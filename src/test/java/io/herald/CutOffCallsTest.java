package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.dispatch.StaleSendings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.CommitAckCutter;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import io.herald.testsupport.ScriptedHttpProvider;
import io.herald.testsupport.Signatures;
import io.herald.testsupport.WithoutQuietHours;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Provider calls cut off with the request sent and no answer, per channel setting. Here the SMS
 * provider is declared to honour the Idempotency-Key (herald.sms.honours-idempotency-key true, so it
 * re-sends cut-off calls): after a crash, or when no answer came in time, the SMS is sent again with
 * the same key. Push keeps the defaults (its provider, like FCM, honours nothing) and talks to a raw
 * socket provider: a request taken without an answer is UNCERTAIN, never sent again; a call that sent
 * nothing (connection refused, connect timeout) is retried and parked as always.
 *
 * <p>Cut off on the database side too: Herald's own connection to PostgreSQL goes through {@link CommitAckCutter}, which,
 * armed, lets the claim of a delivery for sending commit and then cuts the connection before Herald hears of it (a lost
 * COMMIT acknowledgement). Unarmed it passes everything through.
 *
 * <p>Its own Herald (own topics and consumer group, its catalog sends support replies on every channel,
 * a breaker that does not open over these few failures), so the shared context keeps the defaults.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class CutOffCallsTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ScriptedHttpProvider push = scriptedPushProvider();
    private static final CommitAckCutter cutter = startedCutter();
    /** The claim of deliveries for sending (DeliveryLedger.CLAIM_FOR_SENDING). */
    private static final String CLAIM = "INSERT INTO delivery (notification_id, channel, state, recipient_masked, attempts, claim_token)";
    private static final String SMS_PATH = "/2010-04-01/Accounts/ACdemo/Messages.json";
    private static final String SUPPORT_SECRET = "local-demo-webhook-secret";
    private static final String BILLING_SECRET = "local-demo-billing-secret";
    private static final AtomicInteger TICKETS = new AtomicInteger(900_000_000 + (int) (System.currentTimeMillis() % 100_000_000));

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StaleSendings staleSendings;

    @DynamicPropertySource
    static void ownHeraldWhoseSmsProviderHonoursTheKey(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "cut-off-test");
        registry.add("herald.db.url", () -> cutter.through(infra.database("cut_off_test")));
        registry.add("herald.catalog", () -> everyChannelCatalog().toString());
        registry.add("herald.sms.honours-idempotency-key", () -> "true");
        // One SMS per 1.1 s across instances (1 s plus herald.delivery.rate-limit-margin-ms), well above the local profile's 200 ms retry delay (aRetriedSmsWaitsForAFreshPermit...).
        registry.add("herald.sms.rate-per-second", () -> "1");
        registry.add("herald.push.url", () -> push.url("/v1/projects/herald-local/messages:send"));
        registry.add("herald.push.connect-timeout-ms", () -> "1000");
        registry.add("herald.push.response-timeout-ms", () -> "3000");
        // A hanging SMS provider is given up after 3 s, as push is (the local profile's 8 s made its two tries take 16 s).
        registry.add("herald.sms.response-timeout-ms", () -> "3000");
        // Parked deliveries stay parked while a test looks at them; a few failures never open the breaker here.
        registry.add("herald.delivery.park-delays", () -> "PT10M");
        registry.add("herald.delivery.breaker.minimum-calls", () -> "100");
        registry.add("herald.delivery.breaker.window", () -> "100");
        // Below the shared test context's 5 minutes: its sweep never takes this test's rows for a crash.
        registry.add("herald.delivery.sending-timeout", () -> "PT2M");
        // A connection left without an answer fails after 10 s (aConnectionLeftWithoutAnAnswer...), not the shipped 60.
        registry.add("herald.infrastructure.db-read-timeout-s", () -> "10");
    }

    @AfterAll
    static void stopProvider() throws IOException {
        push.close();   // the cutter stays until the JVM ends: Herald's connections go through it until its context closes
    }

    /**
     * A lost COMMIT acknowledgement at the claim: the claim of a refund's email commits in PostgreSQL and the connection is
     * cut before Herald hears of it. Camel tries the claim again once the database answers, with the attempt's claim
     * token; the row is SENDING under that token, so the claim is taken again and the mail goes out once, SENT. (With a
     * fresh token each try, the retry found the row "already SENDING", sent nothing, and the row waited for the stale sweep
     * to call the email UNCERTAIN.)
     */
    @Test
    void aClaimWhoseCommitAcknowledgementIsLostIsTakenAgainAndMailedOnce() throws Exception {
        OwnHeraldClient herald = new OwnHeraldClient(infra, port, jdbc);
        String customer = herald.insertCustomer("cus_cut_" + TICKETS.incrementAndGet(), "Corazon Cut", null, null, null);
        String charge = "ch_cut" + TICKETS.incrementAndGet();
        String key = "billing:charge.refunded:" + charge + ":4200";

        cutter.armFor(sql -> sql.contains(CLAIM), "Hello Corazon");   // this refund's claim: its rendered body among the parameters
        herald.postBilling(Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_cut" + charge)
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("12999", "4200")
                .replace("\"created\": 1763730000", "\"created\": " + Instant.now().getEpochSecond()));

        assertThat(herald.awaitMailFor(key).getAllRecipients()[0].toString()).isEqualTo(customer + "@example.com");
        assertThat(cutter.cuts()).as("the claim's COMMIT acknowledgement was cut").isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
        assertThat(((Number) delivery(key, "email").get("attempts")).intValue()).as("the claim, and its retry under the same token")
                .isEqualTo(2);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * A database connection that stops answering without being closed (a failover, a network path that drops it): the
     * group commit that wrote a refund's claim on it waited for ever, holding every channel's claims and outcomes behind it.
     * With the driver's read timeout it fails after herald.infrastructure.db-read-timeout-s like an outage, is written again
     * on a fresh connection, and the mail goes out once; the refund posted behind it goes out too.
     */
    @Test
    void aConnectionLeftWithoutAnAnswerFailsAfterTheReadTimeoutAndNothingWaitsForEver() throws Exception {
        OwnHeraldClient herald = new OwnHeraldClient(infra, port, jdbc);
        String customer = herald.insertCustomer("cus_hang_" + TICKETS.incrementAndGet(), "Ottilie Hang", null, null, null);
        String after = herald.insertCustomer("cus_hang_" + TICKETS.incrementAndGet(), "Bertram After", null, null, null);
        String charge = "ch_hang" + TICKETS.incrementAndGet();
        String next = "ch_hang" + TICKETS.incrementAndGet();

        cutter.hangAt(sql -> sql.contains(CLAIM), "Hello Ottilie");   // this refund's claim: its rendered body among the parameters
        herald.postBilling(refund(charge, customer));
        await().atMost(Duration.ofSeconds(30)).until(() -> cutter.hangs() == 1);
        herald.postBilling(refund(next, after));

        String key = "billing:charge.refunded:" + charge + ":4200";
        assertThat(herald.awaitMailFor(key).getAllRecipients()[0].toString()).isEqualTo(customer + "@example.com");
        assertThat(herald.awaitMailFor("billing:charge.refunded:" + next + ":4200").getAllRecipients()[0].toString())
                .isEqualTo(after + "@example.com");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    private static String refund(String charge, String customer) {
        return Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_" + charge)
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("cus_RkT4aB7cD9eF1g", customer)
                .replace("12999", "4200")
                .replace("\"created\": 1763730000", "\"created\": " + Instant.now().getEpochSecond());
    }

    @Test
    void anSmsCutOffByACrashIsSentAgainOnceWithTheSameKeyWhereTheProviderHonoursIt() throws Exception {
        String unique = String.valueOf(TICKETS.incrementAndGet());
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSigned("/webhooks/billing", Samples.paymentFailed(unique), billingSignature(Samples.paymentFailed(unique))))
                .isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        // What a kill -9 between handing the SMS over and recording the answer leaves behind.
        jdbc.update("UPDATE delivery SET state = 'SENDING', updated_at = now() - interval '3 minutes' WHERE channel = 'sms'"
                + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);

        staleSendings.sweep();

        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        List<Map<String, Object>> attempts = attempts(key, "sms");
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("SENT", "PARKED", "SENT");
        assertThat(attempts.get(1).get("reason").toString()).startsWith("sms outcome unknown: Herald stopped while calling the provider at ")
                .endsWith("; sent again with the same idempotency key");
        // Sent again once, with the same Idempotency-Key, which this provider deduplicates by.
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms"))))
                .hasSize(2);
    }

    @Test
    void anSmsWhoseAnswerNeverComesIsRetriedWithTheSameKeyThenParkedWhereTheProviderHonoursIt() throws Exception {
        String phone = "+4477012" + (10000 + TICKETS.incrementAndGet() % 89999);
        StubMapping hanging = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(201).withFixedDelay(20_000).withBody("{\"sid\": \"SMlate\"}")));
        String customer = customer("Hal Hang", phone, null);
        String key;
        try {
            key = paymentFailedTo(customer);
            // Each try is given up after the response timeout (3 s here), retried once with the same key, then parked.
            await().atMost(Duration.ofSeconds(60)).until(() -> "PARKED".equals(delivery(key, "sms").get("state")));
            List<Map<String, Object>> attempts = attempts(key, "sms");
            assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "PARKED");
            assertThat(attempts).allSatisfy(a -> assertThat(a.get("reason").toString()).contains("provider did not answer within the"
                    + " response timeout (herald.sms.response-timeout-ms) after it was sent the request; the call may have reached it,"
                    + " so it is tried again with the same idempotency key"));
            assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                    .hasSize(2).allSatisfy(request -> assertThat(request.getHeader("Idempotency-Key")).isEqualTo(key + ":sms"));
        } finally {
            infra.providers().removeStub(hanging);
        }
        // The provider answers again: brought forward, the parked SMS is sent, still with the same key.
        jdbc.update("UPDATE delivery SET next_attempt_at = now() WHERE state = 'PARKED' AND channel = 'sms'"
                + " AND notification_id = (SELECT id FROM notification WHERE idempotency_key = ?)", key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms"))))
                .hasSize(3);
    }

    @Test
    void aRetriedSmsWaitsForAFreshPermitOfTheSharedRateLimitRatherThanGoingOutOnItsFirstAttemptsPermit() throws Exception {
        String phone = "+4477014" + (10000 + TICKETS.incrementAndGet() % 89999);
        String scenario = "busy-then-ok-" + phone;
        StubMapping busy = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).inScenario(scenario).whenScenarioStateIs(com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("answering"));
        StubMapping answering = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).inScenario(scenario).whenScenarioStateIs("answering")
                .willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json").withBody("{\"sid\": \"SMretried\"}")));
        String customer = customer("Rita Retry", phone, null);
        try {
            String key = paymentFailedTo(customer);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
            assertThat(attempts(key, "sms")).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "SENT");
            List<Long> arrivals = infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1))))
                    .stream().map(request -> request.getLoggedDate().getTime()).sorted().toList();
            assertThat(arrivals).hasSize(2);
            // The retry follows 200 ms after the 503 (local profile), but at herald.sms.rate-per-second 1 the provider may get
            // one SMS per 1.1 s: the retry waited for a permit of its own (less a margin for the time from grant to request).
            assertThat(arrivals.get(1) - arrivals.get(0)).as("ms between the first call and its retry").isGreaterThanOrEqualTo(900);
        } finally {
            infra.providers().removeStub(busy);
            infra.providers().removeStub(answering);
        }
    }

    @Test
    void aPushTakenByTheProviderWithoutAnAnswerIsUncertainAndNotSentAgain() throws Exception {
        push.takeRequestsAndCloseWithoutAnswer();
        String key = supportReplyWithPush();

        await().atMost(Duration.ofSeconds(30)).until(() -> "UNCERTAIN".equals(delivery(key, "push").get("state")));
        assertThat(delivery(key, "push").get("reason")).isEqualTo("push outcome unknown: the connection to the provider was lost after the"
                + " request was sent, before its answer came; the provider does not honour the idempotency key, so it is not sent again"
                + " by itself; check whether the customer received it, and resend if not");
        assertThat(delivery(key, "push").get("next_attempt_at")).isNull();
        assertThat(attempts(key, "push")).extracting(a -> a.get("outcome")).containsExactly("UNCERTAIN");
        assertThat(push.requestKeys().stream().filter(k -> k.startsWith(key)).toList()).singleElement().asString()
                .matches(java.util.regex.Pattern.quote(key + ":push:") + "[0-9a-f]{16}");   // one device: the key names it
        // The other channels of the same notification went out.
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
    }

    /** A provider id PostgreSQL cannot store as given (a NUL, longer than its column) is stored cleaned: the SMS is SENT, once. */
    @Test
    void anSmsAcceptedUnderAnIdThatCannotBeStoredAsGivenIsSentOnceWithItsIdCleaned() throws Exception {
        String phone = "+4477015" + (10000 + TICKETS.incrementAndGet() % 89999);
        String sid = "SM" + "7".repeat(400);
        StubMapping odd = infra.providers().stubFor(WireMock.post(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))
                .atPriority(1).willReturn(aResponse().withStatus(201).withHeader("Content-Type", "application/json")
                        .withBody("{\"sid\": \"" + sid + "\\u0000\"}")));
        String customer = customer("Ida Id", phone, null);
        String key;
        try {
            key = paymentFailedTo(customer);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        } finally {
            infra.providers().removeStub(odd);
        }
        assertThat(delivery(key, "sms").get("provider_message_id").toString()).startsWith("SM777").hasSizeLessThanOrEqualTo(300)
                .doesNotContain("\u0000");
        assertThat(attempts(key, "sms")).extracting(a -> a.get("outcome")).containsExactly("SENT");
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withRequestBody(containing(phone.substring(1)))))
                .hasSize(1);
    }

    /** An answer whose status said accepted and whose body was cut off: the provider took it, so it is never sent again. */
    @Test
    void aPushAcceptedWhoseAnswerIsCutOffIsUncertainAndNotSentAgain() throws Exception {
        push.acceptRequestsThenCutTheAnswer();
        String key = supportReplyWithPush();

        await().atMost(Duration.ofSeconds(30)).until(() -> "UNCERTAIN".equals(delivery(key, "push").get("state")));
        assertThat(delivery(key, "push").get("reason").toString()).startsWith("push outcome unknown: the provider accepted the request"
                + " (HTTP 200) but its answer was cut off before Herald read it");
        assertThat(attempts(key, "push")).extracting(a -> a.get("outcome")).containsExactly("UNCERTAIN");
        assertThat(push.requestKeys().stream().filter(k -> k.startsWith(key)).toList()).singleElement().asString()
                .matches(java.util.regex.Pattern.quote(key + ":push:") + "[0-9a-f]{16}");   // one device: the key names it
    }

    @Test
    void aPushProviderThatRefusesTheConnectionGotNothingSoThePushIsRetriedThenParked() throws Exception {
        push.refuseConnections();
        String key = supportReplyWithPush();

        await().atMost(Duration.ofSeconds(30)).until(() -> "PARKED".equals(delivery(key, "push").get("state")));
        List<Map<String, Object>> attempts = attempts(key, "push");
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "PARKED");
        assertThat(attempts).allSatisfy(a -> assertThat(a.get("reason").toString()).contains("provider unreachable (connection refused):"
                + " nothing answers at the address of herald.push.url (or a firewall refuses Herald); nothing was sent"));
        assertThat(delivery(key, "push").get("reason").toString()).startsWith("push provider unavailable: provider unreachable (connection refused)");
        assertThat(push.requestKeys()).noneMatch(k -> k.startsWith(key));
    }

    @Test
    void aPushProviderThatTakesNoConnectionInTimeGotNothingSoThePushIsRetriedThenParked() throws Exception {
        push.neverCompleteConnections();
        String key = supportReplyWithPush();

        await().atMost(Duration.ofSeconds(30)).until(() -> "PARKED".equals(delivery(key, "push").get("state")));
        List<Map<String, Object>> attempts = attempts(key, "push");
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "PARKED");
        assertThat(attempts).allSatisfy(a -> assertThat(a.get("reason").toString())
                .contains("provider unreachable: no connection within the connect timeout (herald.push.connect-timeout-ms); nothing was sent"));
        assertThat(push.requestKeys()).noneMatch(k -> k.startsWith(key));
    }

    /** A support reply to a customer with a phone and a push token; its notification key. */
    private String supportReplyWithPush() throws Exception {
        String ticket = String.valueOf(TICKETS.incrementAndGet());
        String customer = customer("Pat Push", "+447700901" + (100 + TICKETS.get() % 800), "tok-" + ticket);
        String reply = Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer);
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/support"))
                .header("Content-Type", "application/json").header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk(SUPPORT_SECRET, timestamp, reply.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(reply, StandardCharsets.UTF_8)).build();
        assertThat(http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(202);
        return "support:agent_replied:" + ticket + ":41000000000555";
    }

    private String customer(String name, String phone, String pushToken) {
        String customer = "cus_cut" + TICKETS.incrementAndGet();
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, ?, ?, ?, ?::jsonb)",
                customer, name, customer + "@example.net", phone, pushToken == null ? "[]" : "[\"fcm:" + pushToken + "\"]");
        return customer;
    }

    /** A Stripe-signed payment failure for this customer, taken (202); its notification key. */
    private String paymentFailedTo(String customer) throws Exception {
        String unique = String.valueOf(TICKETS.incrementAndGet());
        String event = Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer);
        assertThat(postSigned("/webhooks/billing", event, billingSignature(event))).isEqualTo(202);
        return Samples.paymentFailedKey(unique);
    }

    private int postSigned(String path, String body, String signature) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).header("Content-Type", "application/json")
                .header("Stripe-Signature", signature).POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private static String billingSignature(String body) {
        return Signatures.stripe(Instant.now().getEpochSecond(), body.getBytes(StandardCharsets.UTF_8), BILLING_SECRET);
    }

    private Map<String, Object> delivery(String key, String channel) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.* FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ? AND d.channel = ?", key, channel);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    private List<Map<String, Object>> attempts(String key, String channel) {
        return jdbc.queryForList("SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ? ORDER BY a.id", key, channel);
    }

    private static CommitAckCutter startedCutter() {
        try {
            return CommitAckCutter.inFrontOf(infra.database("cut_off_test"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ScriptedHttpProvider scriptedPushProvider() {
        try {
            return new ScriptedHttpProvider();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** config/catalog.yaml with support replies sent on every channel (push, SMS and email), not first-success. */
    private static Path everyChannelCatalog() {
        try {
            String shipped = WithoutQuietHours.of(Files.readString(Path.of("config", "catalog.yaml")));   // sent at once, at any hour
            String firstSuccess = "  support.agent_replied:\n    category: support\n    priority: normal\n    strategy: first-success\n";
            if (!shipped.contains(firstSuccess)) {
                throw new IllegalStateException("config/catalog.yaml no longer has support.agent_replied as first-success");
            }
            Path copy = io.herald.testsupport.TestFiles.file("test-catalog-every-channel.yaml");
            Files.createDirectories(copy.getParent());
            // Its events are the 2025-dated samples: sent late, as before the late-message policy (LateSentCatalog).
            Files.writeString(copy, io.herald.testsupport.LateSentCatalog.of(shipped.replace(firstSuccess,
                    firstSuccess.replace("    strategy: first-success\n", "")).replace("ops: digest", "ops: each")));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
