package io.herald;

import static io.herald.testsupport.OwnHeraldClient.ADMIN;
import static io.herald.testsupport.OwnHeraldClient.APPROVER;
import static io.herald.testsupport.OwnHeraldClient.OPERATOR;
import static io.herald.testsupport.OwnHeraldClient.VIEWER;
import static io.herald.testsupport.OwnHeraldClient.entry;
import static io.herald.testsupport.OwnHeraldClient.error;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.StubMapping;
import io.herald.dispatch.StaleSendings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.logging.Masking;
import io.herald.testsupport.ChainCut;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TestFiles;
import io.herald.testsupport.UtcDays;
import io.herald.testsupport.WithoutQuietHours;
import jakarta.mail.internet.MimeMessage;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
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
 * Approval before send (issue 16), end to end: real Stripe-style charge.refunded webhooks through the billing mapping,
 * intake and dispatch, with a catalog where a refund above 1000 needs an approver (as config/catalog.yaml's
 * billing.refund_issued does). What the customer and the people around them observe: nothing in the mailbox while it
 * waits, the approvals list with the message as it would be sent (recipient masked for a viewer), exactly one mail
 * once approved (two approvers at once decide once), the re-driving admin refused (four eyes), a rejection final with
 * the approver's words, an expiry final with a reason and an alert on the ops webhook, each step in the timeline.
 *
 * <p>Its own Herald (own database, topics and consumer group, like OpsDigestTest): the approval rule is on a type a
 * real source produces (billing.charge_refunded), so the four-eyes case is a real re-drive, while the shared test
 * context keeps the shipped rules the other tests are about.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class ApprovalTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final MockOAuth2Server provider = startedProvider();
    private static final String ISSUER = "herald";
    private static final String CLIENT_ID = "herald-console";

    /** A copy of templates/ this class's Herald renders from, so a test may take a template away for a moment. */
    private static final Path TEMPLATES = TestFiles.copyOfTree(Path.of("templates"), "approval-test-templates");

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    StaleSendings staleSendings;
    @Autowired
    io.herald.receipts.Suppressions suppressions;
    @Autowired
    io.herald.approval.Approvals approvals;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @DynamicPropertySource
    static void refundsAbove1000NeedApproval(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "approval-test");
        registry.add("herald.catalog", () -> catalogWithApprovedRefunds().toString());
        registry.add("herald.approvals.poll-interval-ms", () -> "1000");
        registry.add("herald.templates-dir", TEMPLATES::toString);
        // Single sign-on beside the demo accounts (mock-oauth2-server, roles from "groups").
        registry.add("herald.security.oidc.issuer-uri", () -> provider.issuerUrl(ISSUER).toString());
        registry.add("herald.security.oidc.client-id", () -> CLIENT_ID);
        registry.add("herald.security.oidc.client-secret", () -> "provider-issued-secret");
        registry.add("herald.security.oidc.roles-claim", () -> "groups");
        registry.add("herald.security.oidc.role-mapping[herald-admins]", () -> "ADMIN");
        registry.add("herald.security.oidc.role-mapping[herald-approvers]", () -> "APPROVER");
    }

    private static MockOAuth2Server startedProvider() {
        MockOAuth2Server server = new MockOAuth2Server();
        server.start();
        return server;
    }

    @AfterAll
    static void stopProvider() {
        provider.shutdown();
    }

    /**
     * The shipped catalog, with billing.charge_refunded held for an approver above 1000 (amountRefunded "1250.00 GBP"), and
     * support.agent_replied (first-success: push, then SMS, then email) held for one always.
     */
    private static Path catalogWithApprovedRefunds() {
        try {
            String shipped = WithoutQuietHours.of(Files.readString(Path.of("config", "catalog.yaml")));   // sent at once, at any hour
            String entry = "  billing.charge_refunded:\n    category: billing\n    priority: normal\n    channels: [email]\n    window: PT24H\n";
            assertThat(shipped).contains(entry);
            Path copy = TestFiles.file("test-catalog-approvals.yaml");
            Files.createDirectories(copy.getParent());
            String replies = "    strategy: first-success\n    channels: [push, sms, email]\n    window: PT4H\n";
            assertThat(shipped).contains(replies);
            Files.writeString(copy, shipped.replace(entry, entry + "    approval: {field: amountRefunded, above: 1000}\n")
                    .replace(replies, replies + "    approval: required\n"));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aLargeRefundWaitsForAnApproverIsShownAsItWouldBeSentAndGoesOutOnceWhenApproved() throws Exception {
        String customer = customer("olivia");
        String large = refund(customer, 125_000);
        String small = refund(customer, 5_000);
        // The small refund (under the threshold) is sent at once; the large one, dispatched before it, is held.
        herald.awaitMailFor(small);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(large).get("state")));
        assertThat(herald.mailsFor(large)).isEmpty();
        long id = herald.notificationId(large);

        // The approver sees it with the rule that held it, the recipient and the message as it would be sent.
        JsonNode pending = pending(APPROVER, id);
        assertThat(pending.get("rule").asText()).contains("amountRefunded 1250.00 GBP is above the approval threshold 1000");
        JsonNode email = pending.get("channels").get(0);
        assertThat(email.get("channel").asText()).isEqualTo("email");
        assertThat(email.get("recipient").asText()).isEqualTo(customer + "@example.com");
        assertThat(email.get("headline").asText()).isEqualTo("Your £1,250.00 payment for order ORD-100311 is refunded in full");
        assertThat(email.get("text").asText()).contains("Hello Olivia,", "Your £1,250.00 payment for order ORD-100311 is now refunded in full to your original payment method");
        assertThat(email.get("problem").isNull()).isTrue();
        HttpResponse<String> page = herald.as(APPROVER, "GET", "/console/approvals", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Your £1,250.00 payment", customer + "@example.com", "/console/approvals/" + id + "/approve");

        // Only an approver decides, and only with a comment.
        assertThat(herald.as(OPERATOR, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"looks fine\"}").statusCode()).isEqualTo(403);
        assertThat(herald.as(VIEWER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"looks fine\"}").statusCode()).isEqualTo(403);
        HttpResponse<String> noComment = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \" \"}");
        assertThat(noComment.statusCode()).isEqualTo(400);
        assertThat(error(noComment)).isEqualTo("say why: an approval needs a comment for the record");

        // Two approvers at once (a double click, a colleague): one decision, one mail.
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(
                () -> herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"refund agreed with the customer, ticket 5521\"}"));
        CompletableFuture<HttpResponse<String>> second = CompletableFuture.supplyAsync(
                () -> herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"ok by me\"}"));
        List<Integer> statuses = List.of(first.get().statusCode(), second.get().statusCode());
        assertThat(statuses).containsExactlyInAnyOrder(200, 409);
        HttpResponse<String> won = first.get().statusCode() == 200 ? first.get() : second.get();
        HttpResponse<String> lost = won == first.get() ? second.get() : first.get();
        JsonNode decision = JSON.readTree(won.body());
        assertThat(decision.get("state").asText()).isEqualTo("APPROVED");
        assertThat(decision.get("message").asText()).isEqualTo("notification " + id + " approved: 1 delivery queued (email)");
        String approver = decision.get("decidedBy").asText();
        String comment = decision.get("comment").asText();
        assertThat(error(lost)).startsWith("notification " + id + " is already APPROVED by " + approver + " at ");

        MimeMessage mail = herald.awaitMailFor(large);
        assertThat(mail.getSubject()).isEqualTo("Your £1,250.00 payment for order ORD-100311 is refunded in full");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(large).get("state")));
        assertThat(herald.mailsFor(large)).hasSize(1);
        assertThat(pendingIds(APPROVER)).doesNotContain(id);

        // The timeline shows the hold and the decision, with who and why.
        JsonNode timeline = herald.timeline(id);
        assertThat(entry(timeline, "AWAITING_APPROVAL").get("detail").asText())
                .startsWith("awaiting approval: billing.charge_refunded with amountRefunded 1250.00 GBP is above the approval threshold 1000");
        JsonNode approved = entry(timeline, "Approval: APPROVE");
        assertThat(approved.get("actor").asText()).isEqualTo(approver);
        assertThat(approved.get("detail").asText()).isEqualTo("\"" + comment + "\" → notification " + id + " approved: 1 delivery queued (email)");
    }

    @Test
    void theAdminWhoReDroveItMayNotApproveItAnotherApproverMay() throws Exception {
        // A refund for a customer not yet in the directory is quarantined; the admin adds them and re-drives it.
        String customer = "cus_ap_late_" + run;
        String key = refund(customer, 200_000);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%" + key.split(":")[2] + "%"), ids -> !ids.isEmpty()).get(0);
        insertCustomer(customer, "Sam");
        assertThat(herald.as(ADMIN, "POST", "/api/quarantine/" + event + "/redrive", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pending(APPROVER, id).get("triggeredBy").toString()).isEqualTo("[\"admin\"]");

        HttpResponse<String> refused = herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"I fixed it, sending\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(error(refused)).isEqualTo("admin may not approve notification " + id
                + ": they triggered or edited it (see its timeline), and four eyes means another approver decides");
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");

        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"checked the re-drive\"}").statusCode())
                .isEqualTo(200);
        herald.awaitMailFor(key);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * A first-success notification released by its approval is a chain like any other: when the push fails and Herald stops
     * before queueing the next channel (the insert refused in PostgreSQL, as a kill -9 at that moment would leave it), the
     * stale-sendings sweep follows the chain from the step the approval released. The email it comes to was never shown to
     * the approver (only the push was held), so it waits for an approver again; approved, the customer gets it once.
     * (The step's next channel is recorded when it is held; before, only a step queued at once had it.)
     */
    @Test
    void anApprovedFirstSuccessChainCutAfterItsFailedPushIsFollowedByTheSweep() throws Exception {
        String customer = "cus_ap_chain_" + run;
        String token = "tok-" + customer;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, push_tokens, preferences) VALUES (?, 'Cleo Chain', ?, ?::jsonb,"
                + " '{\"support\": [\"push\", \"email\"]}'::jsonb)", customer, customer + "@example.com", "[\"" + token + "\"]");
        String ticket = String.valueOf(90_000_000L + Math.abs(UUID.randomUUID().getMostSignificantBits() % 9_000_000L));
        String key = "support:agent_replied:" + ticket + ":41000000000555";
        herald.postSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", customer));
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(key, "push").get("state")));
        long id = herald.notificationId(key);

        StubMapping refused = infra.providers().stubFor(WireMock.post(urlPathMatching("/v1/projects/herald-local/messages:send"))
                .withRequestBody(containing(token)).atPriority(1).willReturn(aResponse().withStatus(403).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": {\"code\": 403, \"message\": \"The caller does not have permission\", \"status\": \"PERMISSION_DENIED\"}}")));
        try (ChainCut cut = ChainCut.before(jdbc, customer, "sms")) {
            assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"reply checked\"}").statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(cut::happened);
        } finally {
            infra.providers().removeStub(refused);
        }
        assertThat(herald.delivery(key, "push").get("state")).isEqualTo("FAILED");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM delivery WHERE channel <> 'push' AND notification_id = ?", Integer.class, id))
                .as("the chain is cut").isZero();
        // A minute on (the sweep leaves a step this recent to its own sender), the sweep finds it.
        jdbc.update("UPDATE delivery SET updated_at = now() - interval '65 seconds' WHERE notification_id = ?", id);

        staleSendings.sweep();

        // The email is a message the approver was never shown (only the push was held): it waits for an approver again.
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(herald.delivery(key, "email").get("state")));
        assertThat(herald.delivery(key, "sms").get("state")).as("the customer takes support messages by push and email").isEqualTo("SKIPPED");
        assertThat(herald.mailsFor(key)).isEmpty();
        JsonNode again = pending(APPROVER, id);
        assertThat(again.get("reopenedBecause").asText()).isEqualTo("its email message was never shown to an approver (a channel tried"
                + " after an approved one failed, or one the approved preview did not include)");
        assertThat(again.get("channels")).hasSize(1);
        assertThat(again.get("channels").get(0).get("channel").asText()).isEqualTo("email");
        // Retrying the failed push now could reach the customer twice (push and the email once approved): refused.
        HttpResponse<String> retried = herald.as(ADMIN, "POST", "/api/deliveries/" + herald.delivery(key, "push").get("id") + "/retry",
                "{\"comment\": \"push again\"}");
        assertThat(retried.statusCode()).isEqualTo(409);
        assertThat(error(retried)).isEqualTo("delivery " + herald.delivery(key, "push").get("id") + " is a step of a first-success chain"
                + " whose email (AWAITING_APPROVAL) is on its way to the customer or may have reached them, and retrying push as well could"
                + " reach them twice. Let it finish (or dismiss it), then retry this one if the customer still needs it");
        assertThat(herald.delivery(key, "push").get("state")).isEqualTo("FAILED");
        // A digest that is no digest at all is refused as such (it was 409 "changed since"), and decides nothing.
        HttpResponse<String> garbled = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve",
                "{\"comment\": \"email fallback read\", \"previewDigest\": \"deadbeef\"}");
        assertThat(garbled.statusCode()).isEqualTo(400);
        assertThat(error(garbled)).startsWith("previewDigest must be the 64 hexadecimal characters the preview shows");
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"email fallback read\", \"previewDigest\": \""
                + again.get("previewDigest").asText() + "\"}").statusCode()).isEqualTo(200);

        herald.awaitMailFor(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(herald.delivery(key, "email").get("state")));
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * What is approved is what is sent, also after the approval: the approved refund's email fails (the address in the
     * directory is not an address), an operator corrects the address and retries, and the mail to the corrected address is
     * not sent unseen: the delivery awaits approval again, the approvals list says why and shows the new recipient, the
     * operator who retried may not approve it, another approver does, and the corrected address gets the mail once.
     */
    @Test
    void aRetryThatWouldSendAChangedMessageWaitsForAnApproverAgain() throws Exception {
        String customer = customer("rita");
        String key = approvedThenRetriedWithANewAddress(customer);
        long id = herald.notificationId(key);
        String corrected = "rita." + run + "@example.com";
        String because = "its email message or recipient changed after it was approved (a template, the catalog or the"
                + " customer's details were edited since)";
        assertThat((String) delivery(key).get("reason")).isEqualTo("awaiting approval again: " + because
                + "; not sent until an approver approves the message as it is now");
        assertThat(herald.mailsFor(key)).isEmpty();
        JsonNode again = pending(APPROVER, id);
        assertThat(again.get("reopenedBecause").asText()).isEqualTo(because);
        assertThat(again.get("channels").get(0).get("recipient").asText()).isEqualTo(corrected);
        assertThat(again.get("triggeredBy").toString()).isEqualTo("[\"admin\"]");
        assertThat(herald.as(APPROVER, "GET", "/console/approvals", null).body()).contains("awaiting approval again", corrected);
        HttpResponse<String> ownChange = herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"my fix\"}");
        assertThat(ownChange.statusCode()).isEqualTo(403);
        assertThat(error(ownChange)).startsWith("admin may not approve notification " + id + ": they triggered or edited it");

        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"new address checked\", \"previewDigest\": \""
                + again.get("previewDigest").asText() + "\"}").statusCode()).isEqualTo(200);
        MimeMessage mail = herald.awaitMailFor(key);
        assertThat(mail.getAllRecipients()[0].toString()).isEqualTo(corrected);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key).get("state")));
        assertThat(herald.mailsFor(key)).hasSize(1);
        JsonNode timeline = herald.timeline(id);
        assertThat(entry(timeline, "Approval: REOPEN").get("actor").asText()).isEqualTo("Herald");
    }

    /** Linking a quarantined event to a customer re-drives it: the admin who linked it may not approve it either. */
    @Test
    void theAdminWhoLinkedItToACustomerMayNotApproveIt() throws Exception {
        String unknown = "cus_ap_unlinked_" + run;
        String key = refund(unknown, 250_000);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%" + key.split(":")[2] + "%"), ids -> !ids.isEmpty()).get(0);
        String customer = "cus_ap_linked_" + run;
        insertCustomer(customer, "Lin");
        HttpResponse<String> linked = herald.as(ADMIN, "POST", "/api/quarantine/" + event + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"same person, old Stripe account\"}");
        assertThat(linked.statusCode()).as(linked.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pending(APPROVER, id).get("triggeredBy").toString()).isEqualTo("[\"admin\"]");

        HttpResponse<String> refused = herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"linked it, sending\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");
    }

    /** Assigning a quarantined event that names its customer only by email re-drives it too: whoever assigned it may not approve it. */
    @Test
    void theAdminWhoAssignedAnEmailOnlyEventToACustomerMayNotApproveIt() throws Exception {
        String key = refundWith("\"customer\": null, \"billing_details\": {\"email\": \"guest" + run + "@example.com\"}", 260_000);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%" + key.split(":")[2] + "%"), ids -> !ids.isEmpty()).get(0);
        String customer = insertCustomer("cus_ap_assigned_" + run, "Asa");
        HttpResponse<String> assigned = herald.as(ADMIN, "POST", "/api/quarantine/" + event + "/link",
                "{\"customerId\": \"" + customer + "\", \"comment\": \"the guest is Asa (checked with billing)\"}");
        assertThat(assigned.statusCode()).as(assigned.body()).isEqualTo(200);
        assertThat(OwnHeraldClient.json(assigned).get("action").asText()).isEqualTo("ASSIGN");
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pending(APPROVER, id).get("triggeredBy").toString()).isEqualTo("[\"admin\"]");

        HttpResponse<String> refused = herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"assigned it, sending\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");
    }

    /** An erased customer's refund awaiting approval is withdrawn: approvers are not asked about them any more. */
    @Test
    void erasingACustomerWithdrawsTheirNoticeAwaitingApproval() throws Exception {
        String customer = customer("erin");
        String key = refund(customer, 400_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pendingIds(APPROVER)).contains(id);

        HttpResponse<String> erased = herald.as(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=GDPR%20request%20123", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
        assertThat(pendingIds(APPROVER)).doesNotContain(id);
        assertThat(jdbc.queryForMap("SELECT state, decided_by, comment FROM approval WHERE notification_id = ?", id))
                .containsEntry("state", "REJECTED").containsEntry("decided_by", "Herald")
                .hasEntrySatisfying("comment", c -> assertThat(c.toString()).startsWith("not sent: the customer was erased on "));
        assertThat(delivery(key).get("state")).isEqualTo("REJECTED");
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    /**
     * An erased customer's resend awaiting approval is withdrawn with the erasure: approvers no longer see it, approving it
     * is refused, the resend ends REJECTED by Herald with the reason and is never sent.
     */
    @Test
    void erasingACustomerWithdrawsTheirResendAwaitingApproval() throws Exception {
        LocalDate started = UtcDays.today();   // what Herald dates below is on this UTC date or, past midnight, a later one
        String customer = customer("wendy");
        String key = approvedAndSent(customer, 190_000);
        long id = herald.notificationId(key);
        long resendId = resendHeld(key);
        assertThat(resendIds(APPROVER)).contains(resendId);

        HttpResponse<String> erased = herald.as(ADMIN, "DELETE", "/api/customers/" + customer + "?comment=GDPR%20request%20124", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);
        assertThat(JSON.readTree(erased.body()).get("removed").asText()).contains("1 resends awaiting approval withdrawn");

        assertThat(resendIds(APPROVER)).doesNotContain(resendId);
        HttpResponse<String> late = herald.as(APPROVER, "POST", "/api/approvals/resends/" + resendId + "/approve", "{\"comment\": \"ok\"}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(error(late)).startsWith("the 1st resend of delivery " + delivery(key).get("id") + " is already REJECTED by Herald at ");
        Map<String, Object> approval = jdbc.queryForMap("SELECT state, decided_by, comment FROM resend_approval WHERE resend_id = ?", resendId);
        assertThat(approval).containsEntry("state", "REJECTED").containsEntry("decided_by", "Herald");
        String reason = (String) approval.get("comment");   // the texts below name the same date
        assertThat(reason).isIn(UtcDays.texts(started, "withdrawn: customer " + customer + " was erased on ", " by admin; not sent"));
        assertThat(jdbc.queryForMap("SELECT outcome, reason FROM delivery_resend WHERE id = ?", resendId))
                .containsEntry("outcome", "REJECTED").containsEntry("reason", reason);
        JsonNode withdrawn = entry(herald.timeline(id), "Approval: RESEND_WITHDRAW");
        assertThat(withdrawn.get("actor").asText()).isEqualTo("Herald");
        assertThat(withdrawn.get("detail").asText()).contains("1st resend of delivery " + delivery(key).get("id") + " (asked for by operator) " + reason);
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).hasSize(1);
    }

    /**
     * Single sign-on: the console login's ID token names its user, while an API client's access token may carry only the
     * subject. Both are one person, and so is the same name in other letters' case: none of them may approve what the
     * person re-drove.
     */
    @Test
    void anApproverWhoReDroveItUnderTheirNameMayNotApproveItUnderTheirTokensSubject() throws Exception {
        String customer = "cus_ap_sso_" + run;
        String key = refund(customer, 300_000);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%" + key.split(":")[2] + "%"), ids -> !ids.isEmpty()).get(0);
        insertCustomer(customer, "Kim");
        String ada = "ada-" + run;
        String adaSubject = "5c0e91d2-" + run;
        String named = token(adaSubject, Map.of("groups", List.of("herald-admins"), "preferred_username", ada));
        assertThat(herald.bearer(named, "POST", "/api/quarantine/" + event + "/redrive", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pending(APPROVER, id).get("triggeredBy").toString()).isEqualTo("[\"" + ada + "\"]");

        // Her API client's token carries only her subject: she acts under the name last seen for it, and is refused.
        String bare = token(adaSubject, Map.of("groups", List.of("herald-approvers")));
        HttpResponse<String> refused = herald.bearer(bare, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(error(refused)).isEqualTo(ada + " may not approve notification " + id
                + ": they triggered or edited it (see its timeline), and four eyes means another approver decides");
        // The same name in capitals (another account at the provider, or a local one) is not told apart from her either.
        String shouting = token("77aa-" + run, Map.of("groups", List.of("herald-approvers"), "preferred_username", ada.toUpperCase()));
        HttpResponse<String> alsoRefused = herald.bearer(shouting, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
        assertThat(alsoRefused.statusCode()).isEqualTo(403);
        assertThat(error(alsoRefused)).isEqualTo(ada.toUpperCase() + " may not approve notification " + id
                + ": they triggered or edited it (as " + ada + ") (see its timeline), and four eyes means another approver decides");
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");

        // Another person at the provider may.
        String bo = token("b0b0-" + run, Map.of("groups", List.of("herald-approvers"), "preferred_username", "bo-" + run));
        assertThat(herald.bearer(bo, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"checked the re-drive\"}").statusCode())
                .isEqualTo(200);
        herald.awaitMailFor(key);
        assertThat(herald.mailsFor(key)).hasSize(1);
        assertThat(entry(herald.timeline(id), "Approval: APPROVE").get("actor").asText()).isEqualTo("bo-" + run);
    }

    /**
     * The approval is pinned to what the approver read: the customer's address changed after the page was loaded, so the
     * approval carrying the digest of the old preview is refused, and approving what is shown now sends to the new address.
     */
    @Test
    void anApprovalOfAMessageThatChangedSinceItWasShownIsRefusedUntilItIsReadAgain() throws Exception {
        String customer = customer("nell");
        String key = refund(customer, 180_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        JsonNode shown = pending(APPROVER, id);
        String seen = shown.get("previewDigest").asText();
        assertThat(seen).matches("[0-9a-f]{64}");
        assertThat(pending(VIEWER, id).get("previewDigest").isNull()).isTrue();
        // The console's approve form carries it too.
        assertThat(herald.as(APPROVER, "GET", "/console/approvals", null).body())
                .contains("name=\"previewDigest\" value=\"" + seen + "\"");

        // Meanwhile the customer's address changes (a CRM contact change).
        jdbc.update("UPDATE customer SET email = ? WHERE customer_id = ?", "nell.new." + run + "@example.com", customer);
        HttpResponse<String> stale = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve",
                "{\"comment\": \"refund checked\", \"previewDigest\": \"" + seen + "\"}");
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(error(stale)).isEqualTo("notification " + id + " would not go out as you were shown it: its message or recipient"
                + " changed since (a template, the catalog or the customer's details were edited). Review it again and approve what is shown now");
        // The form on the page says the same.
        HttpResponse<String> staleForm = herald.postForm(APPROVER, "/console/approvals/" + id + "/approve",
                "comment=checked&previewDigest=" + seen);
        assertThat(staleForm.statusCode()).isEqualTo(302);
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");

        JsonNode again = pending(APPROVER, id);
        assertThat(again.get("channels").get(0).get("recipient").asText()).isEqualTo("nell.new." + run + "@example.com");
        String now = again.get("previewDigest").asText();
        assertThat(now).isNotEqualTo(seen);
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve",
                "{\"comment\": \"refund checked, new address\", \"previewDigest\": \"" + now + "\"}").statusCode()).isEqualTo(200);
        MimeMessage mail = herald.awaitMailFor(key);
        assertThat(mail.getAllRecipients()[0].toString()).isEqualTo("nell.new." + run + "@example.com");
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * The other way round: a script re-drives with a token that carries only its user's subject, and the same person later
     * approves from the console under their name. Someone else who once signed in under that name makes only themselves
     * that person's alias: another approver still decides.
     */
    @Test
    void whatASubjectOnlyTokenReDroveItsPersonMayNotApproveUnderTheirName() throws Exception {
        String customer = "cus_ap_script_" + run;
        String key = refund(customer, 320_000);
        long event = await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForList(
                "SELECT id FROM unrouted_event WHERE source = 'billing' AND outcome = 'QUARANTINED' AND raw_payload LIKE ?", Long.class,
                "%" + key.split(":")[2] + "%"), ids -> !ids.isEmpty()).get(0);
        insertCustomer(customer, "Ivo");
        String subject = "9d41aa07-" + run;
        // herald.security.oidc.audience is not set here: a token the same provider issued to another application is refused.
        String otherApplication = provider.issueToken(ISSUER, subject, "another-app", Map.of("groups", List.of("herald-admins")), 3600).serialize();
        assertThat(herald.bearer(otherApplication, "POST", "/api/quarantine/" + event + "/redrive", null).statusCode()).isEqualTo(401);
        assertThat(herald.bearer(token(subject, Map.of("groups", List.of("herald-admins"))), "POST", "/api/quarantine/" + event + "/redrive", null)
                .statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        assertThat(pending(APPROVER, id).get("triggeredBy").toString()).isEqualTo("[\"" + subject + "\"]");

        String named = token(subject, Map.of("groups", List.of("herald-approvers"), "preferred_username", "ivo-" + run));
        HttpResponse<String> refused = herald.bearer(named, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(error(refused)).isEqualTo("ivo-" + run + " may not approve notification " + id + ": they triggered or edited it (as "
                + subject + ") (see its timeline), and four eyes means another approver decides");

        // Mallory signs in once under the name the script acted as and once under Una's: Una is not made Ivo by it.
        String mallory = "ma11-" + run;
        herald.bearer(token(mallory, Map.of("groups", List.of("herald-approvers"), "preferred_username", subject)), "GET", "/api/approvals", null);
        herald.bearer(token(mallory, Map.of("groups", List.of("herald-approvers"), "preferred_username", "una-" + run)), "GET", "/api/approvals", null);
        String una = token("04aa-una-" + run, Map.of("groups", List.of("herald-approvers"), "preferred_username", "una-" + run));
        assertThat(herald.bearer(una, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"checked the script's re-drive\"}")
                .statusCode()).isEqualTo(200);
        herald.awaitMailFor(key);
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    @Test
    void aRejectedRefundEndsRejectedWithTheApproversWordsAndIsNeverSent() throws Exception {
        String customer = customer("rita");
        String key = refund(customer, 300_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);

        // Rejected from the console's form this time.
        HttpResponse<String> rejected = herald.postForm(APPROVER, "/console/approvals/" + id + "/reject", "comment=wrong+amount%2C+billing+reissues+it");
        assertThat(rejected.statusCode()).isEqualTo(302);
        assertThat(rejected.headers().firstValue("Location").orElse("")).endsWith("/console/approvals");
        assertThat(delivery(key)).containsEntry("state", "REJECTED")
                .containsEntry("reason", "rejected by approver: wrong amount, billing reissues it; not sent");
        HttpResponse<String> late = herald.as(ADMIN, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"send anyway\"}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(error(late)).startsWith("notification " + id + " is already REJECTED by approver at ");

        // A later refund of the same customer goes out; the rejected one never does.
        String next = refund(customer, 1_000);
        herald.awaitMailFor(next);
        assertThat(herald.mailsFor(key)).isEmpty();
        assertThat(delivery(key).get("state")).isEqualTo("REJECTED");
        assertThat(herald.as(OPERATOR, "GET", "/api/notifications/" + id, null).body()).contains("Approval: REJECT", "wrong amount, billing reissues it");
    }

    /**
     * The preview says a channel's message cannot be written (its template was removed while the notification waited): an
     * approval would only release a send that fails, so it is refused with what the preview says; once the template is back,
     * the same approval goes through and the customer gets the mail once.
     */
    @Test
    void anApprovalOfAMessageThatCannotBeWrittenIsRefusedUntilItsTemplateIsBack() throws Exception {
        String customer = customer("hana");
        String key = refund(customer, 210_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        try (RefundSubjectAside away = new RefundSubjectAside()) {
            JsonNode email = pending(APPROVER, id).get("channels").get(0);
            assertThat(email.get("problem").asText()).startsWith("its message cannot be written (no email subject template for"
                    + " billing.charge_refunded in locale en").endsWith("it would fail; fix the template before approving")
                    .contains("looked for billing.charge_refunded/email.subject.en.mustache in the templates folder")
                    .doesNotContain(TEMPLATES.toString());
            assertThat(herald.as(APPROVER, "GET", "/console/approvals", null).body())
                    .contains("looked for billing.charge_refunded/email.subject.en.mustache in the templates folder")
                    .doesNotContain(TEMPLATES.toString());
            HttpResponse<String> refused = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(error(refused)).isEqualTo("notification " + id + " cannot be approved as it is: email: " + email.get("problem").asText()
                    + ". Or reject it, and it is not sent");
            assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");
            assertThat(pendingIds(APPROVER)).contains(id);
        }
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"template restored, checked\"}")
                .statusCode()).isEqualTo(200);
        herald.awaitMailFor(key);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key).get("state")));
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * A channel the customer opted out of is skipped before its message is written, so a template that cannot be written for
     * it does not make the approval release a send that fails: the approval goes through and the channel is skipped for the
     * opt-out, as the preview says. It used to be refused ("… it would fail; fix the template before approving"), which held
     * back every other channel of the notification too.
     */
    @Test
    void aChannelTheCustomerOptedOutOfDoesNotStopAnApprovalWhenItsTemplateCannotBeWritten() throws Exception {
        String customer = "cus_ap_uma_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, preferences) VALUES (?, 'Uma Tester', ?,"
                + " '{\"billing\": []}'::jsonb)", customer, customer + "@example.com");
        String key = refund(customer, 230_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        try (RefundSubjectAside away = new RefundSubjectAside()) {
            JsonNode email = pending(APPROVER, id).get("channels").get(0);
            assertThat(email.get("problem").asText()).startsWith("customer opted out of email for billing: it would be skipped");
            HttpResponse<String> approved = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
            assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SKIPPED".equals(delivery(key).get("state")));
        }
        assertThat(delivery(key).get("reason")).isEqualTo("customer " + customer + " opted out of email for billing");
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    /**
     * The same for an address that is suppressed (a hard bounce): the send skips it before writing the message, so the
     * preview says it would be skipped and a template that cannot be written does not refuse the approval. The preview used
     * to show the message as going to that address, and the approval was refused as a send that would fail.
     */
    @Test
    void aSuppressedAddressIsShownAsSkippedAndDoesNotStopAnApprovalWhenItsTemplateCannotBeWritten() throws Exception {
        String customer = customer("vera");
        suppressions.add("email", customer + "@example.com", "hard bounce: 550 mailbox does not exist", null);
        String key = refund(customer, 240_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        try (RefundSubjectAside away = new RefundSubjectAside()) {
            JsonNode email = pending(APPROVER, id).get("channels").get(0);
            assertThat(email.get("problem").asText()).startsWith("address c***@example.com is suppressed since ")
                    .contains("hard bounce: 550 mailbox does not exist (an operator can lift it under Suppressions): it would be skipped");
            HttpResponse<String> approved = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"fine\"}");
            assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> "SKIPPED".equals(delivery(key).get("state")));
        }
        assertThat(delivery(key).get("reason").toString()).contains("is suppressed since", "hard bounce: 550 mailbox does not exist");
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    @Test
    void anUnapprovedRefundExpiresWithAReasonAndTheOpsWebhookIsAlerted() throws Exception {
        String customer = customer("erin");
        String key = refund(customer, 400_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        Instant expires = jdbc.queryForObject("SELECT expires_at FROM approval WHERE notification_id = ?", java.sql.Timestamp.class, id).toInstant();
        assertThat(Duration.between(Instant.now(), expires)).isBetween(Duration.ofHours(23), Duration.ofHours(24));

        // A day passes without a decision.
        jdbc.update("UPDATE approval SET requested_at = requested_at - interval '24 hours', expires_at = now() WHERE notification_id = ?", id);
        await().atMost(Duration.ofSeconds(30)).until(() -> "EXPIRED".equals(delivery(key).get("state")));
        assertThat((String) delivery(key).get("reason")).isEqualTo("not approved or rejected within 24 hours (herald.approvals.expire-after):"
                + " expired, not sent, so the customer was not told. Herald will not send it later: the same event sent again is this"
                + " notification, a duplicate; if the customer must still know, tell them another way");
        await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.accepted(infra.providers(),
                "billing.charge_refunded by Email not sent - nobody approved or rejected it in time").isEmpty());
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"too late?\"}").statusCode()).isEqualTo(409);
        assertThat(herald.mailsFor(key)).isEmpty();
        assertThat(herald.as(OPERATOR, "GET", "/api/notifications/" + id, null).body()).contains("Approval: EXPIRE", "EXPIRED");
    }

    @Test
    void aViewerSeesTheMessageWithTheRecipientMaskedAndCannotDecide() throws Exception {
        String customer = customer("victor");
        String key = refund(customer, 150_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);

        JsonNode email = pending(VIEWER, id).get("channels").get(0);
        String masked = Masking.email(customer + "@example.com");
        assertThat(masked).doesNotContain(customer);
        assertThat(email.get("recipient").asText()).isEqualTo(masked).isEqualTo(email.get("recipientMasked").asText());
        assertThat(email.get("text").asText()).contains("Your £1,500.00 payment").startsWith("Hello V•••,").doesNotContain("Victor");
        assertThat(pending(OPERATOR, id).get("channels").get(0).get("text").asText()).startsWith("Hello Victor,");
        HttpResponse<String> page = herald.as(VIEWER, "GET", "/console/approvals", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains(masked, "Your £1,500.00 payment").doesNotContain(customer + "@example.com")
                .doesNotContain("/console/approvals/" + id + "/approve");
        assertThat(herald.as(VIEWER, "POST", "/api/approvals/" + id + "/reject", "{\"comment\": \"no\"}").statusCode()).isEqualTo(403);
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");
    }

    @Test
    void aResendOfAnApprovedRefundIsHeldAgainAndGoesOutOnceWhenAnotherApproverApprovesIt() throws Exception {
        String customer = customer("rose");
        String key = approvedAndSent(customer, 160_000);
        long id = herald.notificationId(key);
        long email = ((Number) delivery(key).get("id")).longValue();

        // The admin resends it: held like the original, nothing more in the mailbox.
        HttpResponse<String> resent = herald.as(ADMIN, "POST", "/api/deliveries/" + email + "/resend",
                "{\"confirm\": true, \"comment\": \"customer lost the mail, asked from jenny.rosen@example.org\"}");
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        JsonNode held = JSON.readTree(resent.body());
        assertThat(held.get("state").asText()).isEqualTo("AWAITING_APPROVAL");
        long resendId = held.get("resendId").asLong();
        assertThat(held.get("reason").asText()).startsWith("held for approval: a resend of billing.charge_refunded with amountRefunded"
                + " 1600.00 GBP is above the approval threshold 1000").contains("an approver other than admin approves or rejects it");
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resendId)).isEqualTo("PENDING");
        // A second resend while it waits makes no second one.
        HttpResponse<String> again = herald.as(OPERATOR, "POST", "/api/deliveries/" + email + "/resend",
                "{\"confirm\": true, \"comment\": \"copy please\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(error(again)).isEqualTo("delivery " + email + " already has a resend awaiting approval (its 1st resend, asked for"
                + " by admin); it is sent once an approver approves it, so a second one is not made");
        JsonNode listed = JSON.readTree(herald.as(VIEWER, "GET", "/api/approvals/resends", null).body());
        JsonNode mine = null;
        for (JsonNode item : listed) {
            mine = item.get("resendId").asLong() == resendId ? item : mine;
        }
        assertThat(mine).as(listed.toString()).isNotNull();
        assertThat(mine.get("requestedBy").asText()).isEqualTo("admin");
        assertThat(mine.get("channel").asText()).isEqualTo("email");
        // Named as people count a delivery's resends, not by the id that counts every delivery's ("resend 4127 on email").
        assertThat(mine.get("resend").asText()).isEqualTo("1st resend of delivery " + email);
        // A viewer reads the operator's comment with the address in it masked, and the message the resend would send.
        assertThat(mine.get("reason").asText()).isEqualTo("customer lost the mail, asked from j***@example.org");
        assertThat(mine.get("message").get("recipient").asText()).isEqualTo(Masking.email(customer + "@example.com"));
        assertThat(mine.get("message").get("headline").asText()).isEqualTo("Your £1,600.00 payment for order ORD-100311 is refunded in full");
        assertThat(mine.get("previewDigest").isNull()).isTrue();
        assertThat(herald.as(VIEWER, "GET", "/console/approvals", null).body()).contains("asked from j***@example.org")
                .doesNotContain("jenny.rosen@example.org");
        assertThat(herald.as(APPROVER, "GET", "/console/approvals", null).body())
                .contains("/console/approvals/resends/" + resendId + "/approve", "customer lost the mail",
                        "<span class=\"resend\">1st resend of delivery " + email + "</span> on <span>email</span>");
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).hasSize(1);

        // Four eyes: the admin who asked may not approve it; an operator is no approver.
        HttpResponse<String> own = herald.as(ADMIN, "POST", "/api/approvals/resends/" + resendId + "/approve", "{\"comment\": \"sending\"}");
        assertThat(own.statusCode()).isEqualTo(403);
        assertThat(error(own)).isEqualTo("admin may not approve the 1st resend of delivery " + email + ": they asked for it, and four eyes means another approver decides");
        assertThat(herald.as(OPERATOR, "POST", "/api/approvals/resends/" + resendId + "/approve", "{\"comment\": \"ok\"}").statusCode())
                .isEqualTo(403);
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).hasSize(1);

        // The approver reads the message it would send, unmasked; an approval of something else than what is shown now is refused.
        JsonNode shown = null;
        for (JsonNode item : JSON.readTree(herald.as(APPROVER, "GET", "/api/approvals/resends", null).body())) {
            shown = item.get("resendId").asLong() == resendId ? item : shown;
        }
        assertThat(shown.get("message").get("recipient").asText()).isEqualTo(customer + "@example.com");
        assertThat(shown.get("message").get("text").asText()).contains("Your £1,600.00 payment");
        assertThat(herald.as(APPROVER, "GET", "/console/approvals", null).body()).contains("Your £1,600.00 payment",
                "name=\"previewDigest\" value=\"" + shown.get("previewDigest").asText() + "\"");
        HttpResponse<String> stale = herald.as(APPROVER, "POST", "/api/approvals/resends/" + resendId + "/approve",
                "{\"comment\": \"confirmed\", \"previewDigest\": \"" + "0".repeat(64) + "\"}");
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(error(stale)).startsWith("1st resend of delivery " + email + " would not go out as you were shown it");
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).hasSize(1);

        // Another approver approves: exactly one more copy, with the resend's own key; the delivery's record unchanged.
        HttpResponse<String> approved = herald.as(APPROVER, "POST", "/api/approvals/resends/" + resendId + "/approve",
                "{\"comment\": \"confirmed with the customer\", \"previewDigest\": \"" + shown.get("previewDigest").asText() + "\"}");
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        assertThat(JSON.readTree(approved.body()).get("resend").get("state").asText()).isEqualTo("SENT");
        await().atMost(Duration.ofSeconds(30)).until(() -> herald.mailsForKeysStartingWith(key + ":email").size() == 2);
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).extracting(ApprovalTest::keyOf)
                .containsExactlyInAnyOrder(key + ":email", key + ":email:resend-" + resendId);
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/resends/" + resendId + "/approve", "{\"comment\": \"again\"}").statusCode())
                .isEqualTo(409);
        assertThat(herald.mailsForKeysStartingWith(key + ":email")).hasSize(2);
        assertThat(delivery(key).get("state")).isEqualTo("SENT");

        // Audited, and in the timeline: who asked, that it was held, who approved it and why.
        JsonNode timeline = herald.timeline(id);
        // As the console counts resends, not by the resend's id across every delivery ("resend 4127: AWAITING_APPROVAL").
        assertThat(entry(timeline, "Operator: RESEND").get("detail").asText()).contains("1st resend of delivery " + email + ": awaiting approval");
        assertThat(held.get("message").asText()).isEqualTo("1st resend of delivery " + email + ": awaiting approval");
        JsonNode decided = entry(timeline, "Approval: RESEND_APPROVE");
        assertThat(decided.get("actor").asText()).isEqualTo("approver");
        assertThat(decided.get("detail").asText()).contains("confirmed with the customer", "1st resend of delivery " + email + " (asked for by admin) approved");
        assertThat(timeline.toString()).contains("held for approval (a resend of billing.charge_refunded");
    }

    @Test
    void aHeldResendThatIsRejectedOrExpiresIsNeverSent() throws Exception {
        String rejectedKey = approvedAndSent(customer("rex"), 170_000);
        String expiredKey = approvedAndSent(customer("eve"), 180_000);
        long rejected = resendHeld(rejectedKey);
        long expired = resendHeld(expiredKey);

        HttpResponse<String> no = herald.as(APPROVER, "POST", "/api/approvals/resends/" + rejected + "/reject", "{\"comment\": \"already refunded twice\"}");
        assertThat(no.statusCode()).as(no.body()).isEqualTo(200);
        assertThat(jdbc.queryForMap("SELECT outcome, reason FROM delivery_resend WHERE id = ?", rejected))
                .containsEntry("outcome", "REJECTED").containsEntry("reason", "resend rejected by approver: already refunded twice; not sent");

        // A day passes without a decision on the other.
        jdbc.update("UPDATE resend_approval SET expires_at = now() WHERE resend_id = ?", expired);
        await().atMost(Duration.ofSeconds(30)).until(() -> "EXPIRED".equals(
                jdbc.queryForObject("SELECT outcome FROM delivery_resend WHERE id = ?", String.class, expired)));
        assertThat(jdbc.queryForObject("SELECT reason FROM delivery_resend WHERE id = ?", String.class, expired))
                .startsWith("resend not approved or rejected within herald.approvals.expire-after (PT24H): expired, not sent");
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/resends/" + expired + "/approve", "{\"comment\": \"late\"}").statusCode())
                .isEqualTo(409);
        await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.accepted(infra.providers(), "billing.charge_refunded resent by Email"
                + " not sent - nobody approved or rejected the operator's resend in time").isEmpty());
        // Marked once the post's transaction commits, just after the webhook answered.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(jdbc.queryForObject(
                "SELECT alerted_at IS NOT NULL FROM delivery_resend WHERE id = ?", Boolean.class, expired)).as("alerted once").isTrue());

        assertThat(herald.mailsForKeysStartingWith(rejectedKey + ":email")).hasSize(1);
        assertThat(herald.mailsForKeysStartingWith(expiredKey + ":email")).hasSize(1);
        assertThat(herald.as(OPERATOR, "GET", "/api/notifications/" + herald.notificationId(rejectedKey), null).body())
                .contains("Approval: RESEND_REJECT", "already refunded twice");
        assertThat(herald.as(OPERATOR, "GET", "/api/notifications/" + herald.notificationId(expiredKey), null).body())
                .contains("Approval: RESEND_EXPIRE");
    }

    /**
     * A comment names the customer, as people write them ("Rosalind Tester rang"). A viewer reads it with the name masked on
     * the approvals list (a held resend's comment) and on the customer's page (a rejection's words in the delivery's reason),
     * as the notification's timeline already showed it; before, both pages wrote the name out.
     */
    @Test
    void aViewerReadsNoCustomersNameInACommentOnTheApprovalsListOrTheCustomersPage() throws Exception {
        String rosalind = customer("rosalind");
        String sent = approvedAndSent(rosalind, 190_000);
        HttpResponse<String> resent = herald.as(OPERATOR, "POST", "/api/deliveries/" + delivery(sent).get("id") + "/resend",
                "{\"confirm\": true, \"comment\": \"Rosalind Tester rang: Rosalind lost the mail\"}");
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        long resendId = JSON.readTree(resent.body()).get("resendId").asLong();
        JsonNode shown = null;
        for (JsonNode item : JSON.readTree(herald.as(VIEWER, "GET", "/api/approvals/resends", null).body())) {
            shown = item.get("resendId").asLong() == resendId ? item : shown;
        }
        assertThat(shown.get("reason").asText()).isEqualTo("R••• rang: R••• lost the mail");
        assertThat(herald.as(VIEWER, "GET", "/console/approvals", null).body()).contains("R••• rang").doesNotContain("Rosalind");
        JsonNode approverSees = null;
        for (JsonNode item : JSON.readTree(herald.as(APPROVER, "GET", "/api/approvals/resends", null).body())) {
            approverSees = item.get("resendId").asLong() == resendId ? item : approverSees;
        }
        assertThat(approverSees.get("reason").asText()).isEqualTo("Rosalind Tester rang: Rosalind lost the mail");

        String victoria = customer("victoria");
        String held = refund(victoria, 210_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(held).get("state")));
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + herald.notificationId(held) + "/reject",
                "{\"comment\": \"Victoria Tester disputes the amount, call +44 7700 900123\"}").statusCode()).isEqualTo(200);
        JsonNode listed = JSON.readTree(herald.as(VIEWER, "GET", "/api/customers/" + victoria + "/notifications", null).body());
        assertThat(listed.get("notifications").get(0).get("deliveries").get(0).get("reason").asText())
                .isEqualTo("rejected by approver: V••• disputes the amount, call +447…0123; not sent");
        assertThat(herald.as(VIEWER, "GET", "/console/customers/" + victoria, null).body()).contains("V••• disputes the amount")
                .doesNotContain("Victoria");
        assertThat(JSON.readTree(herald.as(OPERATOR, "GET", "/api/customers/" + victoria + "/notifications", null).body())
                .get("notifications").get(0).get("deliveries").get(0).get("reason").asText()).contains("Victoria Tester disputes the amount");
    }

    /**
     * A decision's comment is mandatory: one with nothing readable in it (a no-break space, a zero-width space, a bell
     * character) is no comment, and is refused as an empty one is. Before, they were taken, and the record said nothing.
     */
    @Test
    void aCommentWithNothingReadableInItIsRefusedAsNoComment() throws Exception {
        String key = refund(customer("nora"), 220_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        for (String unreadable : List.of("\\u00a0", "\\u200b", "\\u0007", " \\u2028\\u00a0\\t")) {
            HttpResponse<String> approve = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"" + unreadable + "\"}");
            assertThat(approve.statusCode()).as(unreadable).isEqualTo(400);
            assertThat(error(approve)).isEqualTo("say why: an approval needs a comment for the record");
            HttpResponse<String> reject = herald.as(APPROVER, "POST", "/api/approvals/" + id + "/reject", "{\"comment\": \"" + unreadable + "\"}");
            assertThat(reject.statusCode()).as(unreadable).isEqualTo(400);
            assertThat(error(reject)).isEqualTo("say why: a rejection needs a comment for the record");
        }
        HttpResponse<String> form = herald.postForm(APPROVER, "/console/approvals/" + id + "/reject", "comment=%C2%A0%E2%80%8B");
        assertThat(form.statusCode()).isEqualTo(302);
        assertThat(delivery(key).get("state")).isEqualTo("AWAITING_APPROVAL");
        assertThat(jdbc.queryForObject("SELECT state FROM approval WHERE notification_id = ?", String.class, id)).isEqualTo("AWAITING");

        long resendId = resendHeld(approvedAndSent(customer("nils"), 230_000));
        HttpResponse<String> resend = herald.as(APPROVER, "POST", "/api/approvals/resends/" + resendId + "/reject", "{\"comment\": \"\\u00a0\"}");
        assertThat(resend.statusCode()).isEqualTo(400);
        assertThat(error(resend)).isEqualTo("say why: a rejection needs a comment for the record");
        assertThat(resendIds(APPROVER)).contains(resendId);
        // A short comment in any script is one.
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"ok\"}").statusCode()).isEqualTo(200);
    }

    /**
     * What an expiry tells the team must be something that works. The same event sent again by its source is recognised
     * as the expired notification (its idempotency key) and nothing is sent; the reason and the alert said "have it issued
     * again at the source", which brought nothing, so the customer was never told while the team thought it handled.
     */
    @Test
    void anExpiredApprovalSaysTheSameEventAgainSendsNothingAndItDoesNot() throws Exception {
        String customer = customer("edith");
        String charge = "ch_ap" + run + "edith";
        String event = Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_ap" + run + "edith")
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", "\"customer\": \"" + customer + "\"")
                .replace("12999", "240000")
                .replace("\"created\": 1763730000", "\"created\": " + Instant.now().getEpochSecond());
        herald.postBilling(event);
        String key = "billing:charge.refunded:" + charge + ":240000";
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        jdbc.update("UPDATE approval SET expires_at = now() WHERE notification_id = ?", id);
        await().atMost(Duration.ofSeconds(30)).until(() -> "EXPIRED".equals(delivery(key).get("state")));

        String reason = (String) delivery(key).get("reason");
        assertThat(reason).isEqualTo("not approved or rejected within 24 hours (herald.approvals.expire-after): expired, not sent, so the"
                + " customer was not told. Herald will not send it later: the same event sent again is this notification, a duplicate;"
                + " if the customer must still know, tell them another way");
        await().atMost(Duration.ofSeconds(30)).until(() -> !OpsAlerts.accepted(infra.providers(), "billing.charge_refunded by Email not sent"
                + " - nobody approved or rejected it in time (herald.approvals.expire-after); the customer was not told, and sending the event"
                + " again sends nothing (it is the same notification): tell them another way if they must still know").isEmpty());
        assertThat(OpsAlerts.accepted(infra.providers(), "issue it again at the source")).isEmpty();

        // Doing what the old words said: the source sends the event again, and again under a new event id.
        herald.postBilling(event);
        herald.postBilling(event.replace("evt_ap" + run + "edith", "evt_ap" + run + "edith2"));
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT duplicates_suppressed FROM notification WHERE id = ?", Integer.class, id) == 2);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key LIKE ?", Integer.class, "%" + charge + "%"))
                .isEqualTo(1);
        assertThat(delivery(key).get("state")).isEqualTo("EXPIRED");
        assertThat(herald.mailsFor(key)).isEmpty();
    }


    /** An access token from the provider for this subject with these claims. */
    private static String token(String subject, Map<String, Object> claims) {
        return provider.issueToken(ISSUER, subject, CLIENT_ID, claims, 3600).serialize();
    }

    private static String keyOf(MimeMessage mail) {
        try {
            return mail.getHeader("X-Herald-Idempotency-Key", null);
        } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A reopened approval nobody decides in time expires like any other, and is alerted although the delivery's earlier
     * failure was: the reopening makes its alert owed again.
     */
    @Test
    void aReopenedApprovalThatNobodyDecidesExpiresAndIsAlertedAgain() throws Exception {
        String key = approvedThenRetriedWithANewAddress(customer("ray"));
        long id = herald.notificationId(key);
        assertThat(delivery(key).get("alerted_at")).as("the earlier failure's alert is owed again").isNull();

        jdbc.update("UPDATE approval SET expires_at = now() WHERE notification_id = ?", id);
        await().atMost(Duration.ofSeconds(30)).until(() -> "EXPIRED".equals(delivery(key).get("state")));
        assertThat((String) delivery(key).get("reason")).startsWith("not approved or rejected within 24 hours");
        await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key).get("alerted_at") != null);
        assertThat(herald.mailsFor(key)).isEmpty();
    }

    /**
     * A delivery whose message changed, of a notification rejected meanwhile (here: its approval reopened and then
     * rejected, while another of its deliveries still waited for a sender), is not reopened: it ends REJECTED, not sent.
     */
    @Test
    void aChangedMessageOfANotificationRejectedMeanwhileEndsRejected() throws Exception {
        String customer = customer("remy");
        String key = approvedAndSent(customer, 190_000);
        long id = herald.notificationId(key);
        jdbc.update("UPDATE approval SET state = 'REJECTED', decided_by = 'approver', decided_at = now() WHERE notification_id = ?", id);
        jdbc.update("UPDATE delivery SET state = 'PARKED', next_attempt_at = now() + interval '1 hour' WHERE notification_id = ?", id);

        String said = approvals.beforeSending(id, "email", new io.herald.dispatch.MessagePreview.Channel("email", "remy.new@example.com",
                "r***@example.com", "We refunded £1,900.00", "changed since", null));

        assertThat(said).isEqualTo("not sent: its email message or recipient changed after it was approved (a template, the catalog or"
                + " the customer's details were edited since), and the notification was since REJECTED by approver");
        assertThat(delivery(key)).containsEntry("state", "REJECTED").containsEntry("reason", said);
        assertThat(jdbc.queryForObject("SELECT state FROM approval WHERE notification_id = ?", String.class, id)).isEqualTo("REJECTED");
        assertThat(herald.mailsFor(key)).hasSize(1);
    }

    /**
     * A large refund to an address that is not one: approved, its email FAILED; the address corrected and the delivery
     * retried by the admin, it waits for an approver again. Returns its key.
     */
    private String approvedThenRetriedWithANewAddress(String customer) throws Exception {
        String name = customer.split("_")[2];
        jdbc.update("UPDATE customer SET email = ? WHERE customer_id = ?", name + ".at.example.com", customer);
        String key = refund(customer, 150_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        long id = herald.notificationId(key);
        JsonNode shown = pending(APPROVER, id);
        assertThat(shown.get("reopenedBecause").isNull()).isTrue();
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"refund checked\", \"previewDigest\": \""
                + shown.get("previewDigest").asText() + "\"}").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "FAILED".equals(delivery(key).get("state")));
        assertThat((String) delivery(key).get("reason")).contains("correct the contact in the CRM", "then retry this delivery");
        await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key).get("alerted_at") != null);

        jdbc.update("UPDATE customer SET email = ? WHERE customer_id = ?", name + "." + run + "@example.com", customer);
        assertThat(herald.as(ADMIN, "POST", "/api/deliveries/" + delivery(key).get("id") + "/retry", "{\"comment\": \"address corrected\"}")
                .statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        return key;
    }

    /** A large refund, approved by the approver and mailed once; returns its key. */
    private String approvedAndSent(String customer, int pence) throws Exception {
        String key = refund(customer, pence);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(delivery(key).get("state")));
        assertThat(herald.as(APPROVER, "POST", "/api/approvals/" + herald.notificationId(key) + "/approve",
                "{\"comment\": \"refund checked\"}").statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key).get("state")));
        herald.awaitMailFor(key);
        return key;
    }

    /** The operator resends its email delivery: held for approval; returns the resend's id. */
    private long resendHeld(String key) throws Exception {
        HttpResponse<String> resent = herald.as(OPERATOR, "POST", "/api/deliveries/" + delivery(key).get("id") + "/resend",
                "{\"confirm\": true, \"comment\": \"copy please\"}");
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        assertThat(JSON.readTree(resent.body()).get("state").asText()).isEqualTo("AWAITING_APPROVAL");
        return JSON.readTree(resent.body()).get("resendId").asLong();
    }

    // --- helpers ---

    /** A customer in the directory with an email address: "cus_ap_<name>_<run>" at example.com. */
    /** The refund's email subject template taken away while it is open (the message cannot be written), put back on close. */
    private static final class RefundSubjectAside implements AutoCloseable {
        private final Path subject = TEMPLATES.resolve("billing.charge_refunded").resolve("email.subject.en.mustache");
        private final Path aside = subject.resolveSibling("email.subject.en.mustache.aside");

        RefundSubjectAside() throws IOException {
            Files.move(subject, aside);
        }

        @Override
        public void close() throws IOException {
            Files.move(aside, subject);
        }
    }

    private String customer(String firstName) {
        String id = "cus_ap_" + firstName + "_" + run;
        return insertCustomer(id, firstName.substring(0, 1).toUpperCase() + firstName.substring(1));
    }

    private String insertCustomer(String id, String firstName) {
        return herald.insertCustomer(id, firstName + " Tester", null, null, null);
    }

    /** A Stripe-style charge.refunded for the customer (amount in pence, GBP), posted signed; returns its idempotency key. */
    private String refund(String customer, int pence) throws Exception {
        return refundWith("\"customer\": \"" + customer + "\"", pence);
    }

    /** The same with the charge's customer field as given: "\"customer\": null, ..." for a guest charge. */
    private String refundWith(String customerField, int pence) throws Exception {
        String charge = "ch_ap" + run + UUID.randomUUID().toString().substring(0, 8);
        String body = Samples.text("billing/charge.refunded.json")
                .replace("evt_3QxU2bLkdIwHu7ix1a2S3d4F", "evt_ap" + UUID.randomUUID().toString().replace("-", ""))
                .replace("ch_3QxU1aLkdIwHu7ix0p9O8i7U", charge)
                .replace("\"customer\": \"cus_RkT4aB7cD9eF1g\"", customerField)
                .replace("12999", String.valueOf(pence))
                .replace("\"created\": 1763730000", "\"created\": " + Instant.now().getEpochSecond());
        herald.postBilling(body);
        return "billing:charge.refunded:" + charge + ":" + pence;
    }

    private Map<String, Object> delivery(String key) {
        return herald.delivery(key, "email");
    }

    /** The notification as GET /api/approvals lists it for that account. */
    private JsonNode pending(String account, long id) throws Exception {
        HttpResponse<String> listed = herald.as(account, "GET", "/api/approvals", null);
        assertThat(listed.statusCode()).isEqualTo(200);
        for (JsonNode item : JSON.readTree(listed.body())) {
            if (item.get("notificationId").asLong() == id) {
                return item;
            }
        }
        throw new AssertionError("notification " + id + " is not in the approvals list: " + listed.body());
    }

    private List<Long> resendIds(String account) throws Exception {
        List<Long> ids = new ArrayList<>();
        JSON.readTree(herald.as(account, "GET", "/api/approvals/resends", null).body()).forEach(item -> ids.add(item.get("resendId").asLong()));
        return ids;
    }

    private List<Long> pendingIds(String account) throws Exception {
        List<Long> ids = new ArrayList<>();
        JSON.readTree(herald.as(account, "GET", "/api/approvals", null).body()).forEach(item -> ids.add(item.get("notificationId").asLong()));
        return ids;
    }
}
