package io.herald.incidents;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.HeraldApplication;
import io.herald.config.IncidentSettings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.DispatchHold;
import io.herald.testsupport.OwnHerald;
import io.herald.notification.NotificationCatalog;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Customer-facing incident notices (issue 16 point 2), end to end: Alertmanager notifications on the real webhook, the
 * shipped catalog's incident.notice and incident.resolved (approval: required), intake, dispatch, the approvals API and
 * GreenMail. What customers and approvers observe: nothing in the mailbox while a notice waits, one notice per named
 * customer however often Alertmanager repeats, exactly one mail each once approved, one follow-up each after the
 * resolution (held too), a notice the resolution overtook withdrawn with the reason and no follow-up, and customers
 * not in the directory listed in the reason, not notified.
 *
 * <p>Its own Herald (own database, topics and consumer group, like ApprovalTest), with a segment configured.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
class IncidentNoticesTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "local-demo-incidents-token";
    private static final String APPROVER = "approver:approver-demo";
    private static final String OPERATOR = "operator:operator-demo";
    private static final String SEGMENT_MEMBER = "cus_in_segment_dora";
    private static final String SEGMENT_STRANGER = "cus_in_segment_gone";

    private final HttpClient http = HttpClient.newHttpClient();
    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    org.apache.camel.CamelContext camel;
    @TempDir
    Path dir;

    @DynamicPropertySource
    static void ownHeraldWithASegment(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "incident-notices-test");
        registry.add("herald.incidents.notices.segments.eu-checkout", () -> SEGMENT_MEMBER + "," + SEGMENT_STRANGER);
        registry.add("herald.incidents.notices.max-customers", () -> "3");   // the other tests name at most 3
        registry.add("herald.rules", IncidentNoticesTest::rulesWithShortTexts);
    }

    /** The shipped config/rules.yaml with texts.max-length 300 (a deployment's choice): a longer customer summary is refused. */
    private static String rulesWithShortTexts() {
        try {
            Path rules = Files.createTempFile("incident-notices-rules", ".yaml");
            rules.toFile().deleteOnExit();
            String shipped = Files.readString(Path.of("config/rules.yaml"));
            assertThat(shipped).contains("  max-length: 10000\n");
            Files.writeString(rules, shipped.replace("  max-length: 10000\n", "  max-length: 300\n"));
            return rules.toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anIncidentNamingMoreCustomersThanTheCapNotifiesNobodyAndTheOpsPostSaysWhatToDo() throws Exception {
        String ed = customer("ed");
        String flo = customer("flo");
        String service = "cart-" + run;
        // Two customers by annotation and the two of segment eu-checkout: 4 named, over the cap of 3.
        String firing = notification(service, "firing", ed + ", " + flo, "eu-checkout");
        String said = "customer notices NOT created: the alerts name 4 customers (customers annotations and segments together),"
                + " more than herald.incidents.notices.max-customers (3); nobody was notified, and the list was not cut."
                + " Split the segment into smaller ones (herald.incidents.notices.segments) and name those in separate alerts,"
                + " or raise herald.incidents.notices.max-customers if this many notices should go to approvers;"
                + " Alertmanager's next repeat of this group then queues them";

        HttpResponse<String> answer = postIncident(firing);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("customerNotices").asText()).isEqualTo(said);
        // The ops team reads it in the incident's post, with the count, the cap and what to do.
        assertThat(io.herald.testsupport.OpsAlerts.accepted(infra.providers(), "Incident firing", "service=" + service))
                .singleElement().asString()
                .contains("Customer notices NOT created: the alerts name 4 customers", "herald.incidents.notices.max-customers (3)",
                        "Split the segment into smaller ones");
        // A repeat says it again to Alertmanager, but the incident's audit trail has it once.
        assertThat(JSON.readTree(postIncident(firing).body()).get("customerNotices").asText()).isEqualTo(said);
        long incident = jdbc.queryForObject("SELECT id FROM incident WHERE title LIKE ?", Long.class, "%service=" + service);
        assertThat(jdbc.queryForList("SELECT outcome FROM operator_action WHERE target = 'incident' AND action = 'INCIDENT_NOTICES'"
                + " AND target_id = ?", String.class, incident)).containsExactly(said);
        // Nobody of them: no notification admitted, nobody recorded as named, nothing in the mailbox.
        assertThat(notifications("incident.notice", service)).isEmpty();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE type = 'incident.notice' AND customer_id IN (?, ?)",
                Integer.class, ed, flo)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident_notice WHERE incident_id = ?", Integer.class, incident)).isZero();
        assertThat(mails("incident.notice", ed)).isEmpty();
    }

    /** Alertmanager left alerts out (max_alerts): the customers they name are unknown, so nobody is notified rather than some. */
    @Test
    void anIncidentWhoseAlertsAlertmanagerTruncatedNotifiesNobodyAndSaysWhy() throws Exception {
        String gus = customer("gus");
        String service = "search-" + run;
        String firing = notification(service, "firing", gus, null).replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":7");

        HttpResponse<String> answer = postIncident(firing);
        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("customerNotices").asText())
                .startsWith("customer notices NOT created: Alertmanager left 7 alert(s) of this group out of its notification"
                        + " (the receiver's max_alerts), so the customers they name are not known; nobody was notified rather than some.");
        assertThat(notifications("incident.notice", service)).isEmpty();
        assertThat(mails("incident.notice", gus)).isEmpty();
    }

    /**
     * Alertmanager works out a group's status from the alerts it puts in the notification, after cutting them to max_alerts: a
     * "resolved" with truncatedAlerts above 0 says nothing of the alerts left out, which may still be firing. The customers'
     * follow-ups went to approvers as after any resolution, nothing saying the incident might not be over; they are held with the
     * left-out alerts in the reason, for the approver to check Alertmanager first. A follow-up the approver then rejects is
     * settled once: the group's later firings and resolutions never make it again.
     */
    @Test
    void aResolutionAlertmanagerTruncatedHoldsTheFollowUpsSayingAlertsWereLeftOutAndARejectedOneIsSettledOnce() throws Exception {
        String kit = customer("kit");
        String service = "ledger-" + run;
        assertThat(postIncident(notification(service, "firing", kit, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", kit).get("state")));
        approve(notificationId("incident.notice", kit));
        awaitMail("incident.notice", kit);

        HttpResponse<String> resolved = postIncident(notification(service, "resolved", kit, null)
                .replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":7"));
        assertThat(resolved.statusCode()).as(resolved.body()).isEqualTo(200);
        String leftOut = "Alertmanager left 7 alert(s) of this incident out of its \"resolved\" notification (the receiver's max_alerts),"
                + " and they may still be firing: check the group in Alertmanager (http://alertmanager.example:9093) before approving";
        assertThat(JSON.readTree(resolved.body()).get("customerNotices").asText())
                .isEqualTo("1 follow-up(s) of incident.resolved held for approval; " + leftOut);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.resolved", kit).get("state")));
        long followUp = notificationId("incident.resolved", kit);
        assertThat(pending(followUp).get("rule").asText())
                .isEqualTo("every incident.resolved notification needs an approver (config/catalog.yaml: approval: required); " + leftOut);
        assertThat(mails("incident.resolved", kit)).isEmpty();

        // The approver finds the incident not over and rejects it: never sent, and never made again for that firing, neither when
        // Alertmanager sends the resolution again nor at the group's next firing and resolution.
        HttpResponse<String> rejected = as(APPROVER, "POST", "/api/approvals/" + followUp + "/reject", "{\"comment\": \"still firing in Alertmanager\"}");
        assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(200);
        HttpResponse<String> resent = postIncident(notification(service, "resolved", kit, null)
                .replace("\"truncatedAlerts\":0", "\"truncatedAlerts\":7"));
        assertThat(resent.statusCode()).isEqualTo(200);
        // Alertmanager reads what happened: nothing new held for approval, the one made earlier (since rejected) not made again.
        assertThat(JSON.readTree(resent.body()).get("customerNotices").asText()).isEqualTo("0 follow-up(s) of incident.resolved held"
                + " for approval; 1 follow-up(s) already made at an earlier notification of this group, not made again");
        // (A firing is told from the next by the second it began: the next one begins in a later second.)
        long firstFiring = jdbc.queryForObject("SELECT extract(epoch FROM fired_at)::bigint FROM incident WHERE title LIKE ?", Long.class,
                "%service=" + service);
        await().atMost(Duration.ofSeconds(5)).until(() -> java.time.Instant.now().getEpochSecond() > firstFiring + 1);
        String again = notification(service, "firing", kit, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z");
        assertThat(postIncident(again).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> held("incident.notice", kit) == 1);
        HttpResponse<String> over = postIncident(notification(service, "resolved", kit, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z"));
        assertThat(over.statusCode()).as(over.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT idempotency_key FROM notification WHERE type = 'incident.resolved' AND customer_id = ?",
                String.class, kit)).hasSize(1);
        assertThat(held("incident.notice", kit)).isZero();   // the second firing's notice, withdrawn: nothing is left waiting
        assertThat(mails("incident.resolved", kit)).isEmpty();
        assertThat(mails("incident.notice", kit)).hasSize(1);
    }

    /**
     * A customer told of an incident is erased before it resolves: their follow-up can never be admitted (the intake refuses an
     * erased customer). The resolution was answered 500, the other customers' follow-ups after theirs were not made, and since the
     * erased customer stayed owed a follow-up, every later notification of the group failed the same way. The erased customer is
     * now settled once, with the reason; the others get their follow-ups.
     */
    @Test
    void aCustomerErasedBeforeTheResolutionIsSettledOnceAndDoesNotStopTheOthersFollowUps() throws Exception {
        String nia = customer("nia");
        String ole = customer("ole");
        String service = "refunds-" + run;
        assertThat(postIncident(notification(service, "firing", nia + ", " + ole, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> held("incident.notice", nia) == 1 && held("incident.notice", ole) == 1);
        approve(notificationId("incident.notice", nia));
        approve(notificationId("incident.notice", ole));
        awaitMail("incident.notice", ole);
        HttpResponse<String> erased = as("admin:admin-demo", "DELETE", "/api/customers/" + nia + "?comment=GDPR%20request%2077", null);
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(200);

        String resolution = notification(service, "resolved", nia + ", " + ole, null);
        HttpResponse<String> resolved = postIncident(resolution);
        assertThat(resolved.statusCode()).as(resolved.body()).isEqualTo(200);
        assertThat(JSON.readTree(resolved.body()).get("customerNotices").asText()).isEqualTo("1 follow-up(s) of incident.resolved held"
                + " for approval; no follow-up for 1 customer(s), " + IncidentNotices.ERASED + ": " + nia);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.resolved", ole).get("state")));
        assertThat(jdbc.queryForObject("SELECT outcome || ': ' || reason FROM incident_notice WHERE customer_id = ?", String.class, nia))
                .isEqualTo("WITHDRAWN: " + IncidentNotices.ERASED);
        // Alertmanager sends it again (a retry): still answered, nothing more made.
        assertThat(postIncident(resolution).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE type = 'incident.resolved' AND customer_id IN (?, ?)",
                Integer.class, nia, ole)).isEqualTo(1);
        approve(notificationId("incident.resolved", ole));
        assertThat(awaitMail("incident.resolved", ole).getSubject()).isEqualTo("Resolved: Checkout is slow or failing for some customers");
    }

    /**
     * A follow-up Herald's own checks refuse at admission (here config/rules.yaml's texts.max-length, 300: the alert's
     * customer_summary grew to 400 characters by the time Alertmanager sent the resolution) made the whole resolution fail with a
     * bare 'fault of its own' 500, and every later notification of the group the same way, Alertmanager sending it again for
     * ever. Each such customer is now settled once, with the reason in words, and Alertmanager is answered 200 saying so.
     */
    @Test
    void aFollowUpTheChecksRefuseIsSettledOnceWithTheReasonAndTheResolutionIsAnswered() throws Exception {
        String pia = customer("pia");
        String quin = customer("quin");
        String service = "orders-" + run;
        assertThat(postIncident(notification(service, "firing", pia + ", " + quin, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> held("incident.notice", pia) == 1 && held("incident.notice", quin) == 1);
        approve(notificationId("incident.notice", pia));
        approve(notificationId("incident.notice", quin));
        awaitMail("incident.notice", quin);

        String longer = "Checkout is slow or failing for some customers. " + "x".repeat(352);
        String resolution = notification(service, "resolved", pia + ", " + quin, null)
                .replace("Checkout is slow or failing for some customers", longer);
        HttpResponse<String> resolved = postIncident(resolution);
        assertThat(resolved.statusCode()).as(resolved.body()).isEqualTo(200);
        String refused = "its follow-up is refused by Herald's checks (the text at data.summary is 400 characters long; Herald sends texts"
                + " of at most 300 characters (config/rules.yaml, texts.max-length)), so no follow-up will be sent";
        assertThat(JSON.readTree(resolved.body()).get("customerNotices").asText())
                .isEqualTo("0 follow-up(s) of incident.resolved held for approval; no follow-up for 2 customer(s), " + refused + ": "
                        + pia + ", " + quin);
        assertThat(jdbc.queryForList("SELECT outcome || ': ' || reason FROM incident_notice WHERE customer_id IN (?, ?)", String.class, pia, quin))
                .containsExactly("WITHDRAWN: " + refused, "WITHDRAWN: " + refused);
        // Settled once: Alertmanager's next send is answered without making or settling anything again.
        HttpResponse<String> again = postIncident(resolution);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("SELECT outcome || ': ' || reason FROM incident_notice WHERE customer_id IN (?, ?)", String.class, pia, quin))
                .containsExactly("WITHDRAWN: " + refused, "WITHDRAWN: " + refused);
        assertThat(notifications("incident.resolved", service)).isEmpty();
        assertThat(mails("incident.resolved", pia)).isEmpty();
    }

    /**
     * The firing side of the same: a notice Herald's own checks refuse at admission (texts.max-length 300, the alert's
     * customer_summary 400 characters) made the whole firing notification fail with a bare 'fault of its own' 500, the notices
     * after it were not made, and Alertmanager sent it again for ever. Each such customer is now settled once, with the reason in
     * words, Alertmanager is answered 200 counting them, the incident's audit trail says so once, and the resolution is answered
     * without a follow-up for them.
     */
    @Test
    void aNoticeTheChecksRefuseIsSettledOnceWithTheReasonAndTheFiringIsAnswered() throws Exception {
        String rhea = customer("rhea");
        String sol = customer("sol");
        String service = "returns-" + run;
        String longer = "Checkout is slow or failing for some customers. " + "x".repeat(352);
        String firing = notification(service, "firing", rhea + ", " + sol, null)
                .replace("Checkout is slow or failing for some customers", longer);
        HttpResponse<String> answer = postIncident(firing);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        String refused = "its notice is refused by Herald's checks (the text at data.summary is 400 characters long; Herald sends texts"
                + " of at most 300 characters (config/rules.yaml, texts.max-length)), so no notice will be sent";
        String said = "0 customer notice(s) of incident.notice held for approval; no notice for 2 customer(s), " + refused + ": "
                + rhea + ", " + sol;
        assertThat(JSON.readTree(answer.body()).get("customerNotices").asText()).isEqualTo(said);
        assertThat(jdbc.queryForList("SELECT outcome || ': ' || reason FROM incident_notice WHERE customer_id IN (?, ?)", String.class, rhea, sol))
                .containsExactly("WITHDRAWN: " + refused, "WITHDRAWN: " + refused);
        // Alertmanager's repeat is answered the same, nothing made or audited again.
        HttpResponse<String> repeat = postIncident(firing);
        assertThat(repeat.statusCode()).as(repeat.body()).isEqualTo(200);
        assertThat(JSON.readTree(repeat.body()).get("customerNotices").asText()).isEqualTo(said);
        assertThat(jdbc.queryForList("SELECT outcome FROM operator_action WHERE target = 'incident' AND action = 'INCIDENT_NOTICES'"
                + " AND target_id = (SELECT id FROM incident WHERE title LIKE ?)", String.class, "%service=" + service)).containsExactly(said);
        assertThat(notifications("incident.notice", service)).isEmpty();
        // The alert's summary shortened: Alertmanager's next repeat makes the notices after all, held for approval.
        HttpResponse<String> shortened = postIncident(notification(service, "firing", rhea + ", " + sol, null));
        assertThat(shortened.statusCode()).as(shortened.body()).isEqualTo(200);
        assertThat(JSON.readTree(shortened.body()).get("customerNotices").asText())
                .isEqualTo("2 customer notice(s) of incident.notice held for approval");
        await().atMost(Duration.ofSeconds(30)).until(() -> held("incident.notice", rhea) == 1 && held("incident.notice", sol) == 1);
        // The resolution withdraws them (still awaiting approval): no follow-up, nothing mailed.
        HttpResponse<String> resolved = postIncident(notification(service, "resolved", rhea + ", " + sol, null));
        assertThat(resolved.statusCode()).as(resolved.body()).isEqualTo(200);
        assertThat(notifications("incident.resolved", service)).isEmpty();
        assertThat(jdbc.queryForList("SELECT outcome FROM incident_notice WHERE customer_id IN (?, ?)", String.class, rhea, sol))
                .containsExactly("WITHDRAWN", "WITHDRAWN");
        assertThat(mails("incident.notice", rhea)).isEmpty();
    }

    @Test
    void eachNamedCustomerGetsOneNoticeOnceApprovedAndOneFollowUpOnceResolvedAndApproved() throws Exception {
        String ada = customer("ada");
        String bo = customer("bo");
        String service = "checkout-" + run;
        String firing = notification(service, "firing", ada + ", " + bo, null);

        HttpResponse<String> first = postIncident(firing);
        assertThat(first.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(first.body()).get("customerNotices").asText())
                .isEqualTo("2 customer notice(s) of incident.notice held for approval");
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", ada).get("state"))
                && "AWAITING_APPROVAL".equals(email("incident.notice", bo).get("state")));
        assertThat(states("incident.notice", ada)).containsExactlyInAnyOrder("AWAITING_APPROVAL", "AWAITING_APPROVAL");
        assertThat(mails("incident.notice", ada)).isEmpty();
        assertThat(mails("incident.notice", bo)).isEmpty();

        // Alertmanager repeats the firing group: still one notice per customer.
        HttpResponse<String> repeat = postIncident(firing);
        assertThat(repeat.statusCode()).isEqualTo(200);
        assertThat(repeat.body()).contains("\"status\":\"repeat\"");
        assertThat(notifications("incident.notice", service)).hasSize(2);
        assertThat(jdbc.queryForObject("SELECT sum(duplicates_suppressed) FROM notification WHERE type = 'incident.notice' AND customer_id IN (?, ?)",
                Integer.class, ada, bo)).isEqualTo(2);

        // The approver sees the message as it would be sent, and approves each: exactly one mail each.
        long adaNotice = notificationId("incident.notice", ada);
        JsonNode pending = pending(adaNotice);
        assertThat(pending.get("rule").asText()).isEqualTo("every incident.notice notification needs an approver (config/catalog.yaml: approval: required)");
        assertThat(pending.get("channels").toString()).contains("Service incident: Checkout is slow or failing for some customers");
        approve(adaNotice);
        approve(notificationId("incident.notice", bo));
        MimeMessage notice = awaitMail("incident.notice", ada);
        assertThat(notice.getSubject()).isEqualTo("Service incident: Checkout is slow or failing for some customers");
        assertThat(((jakarta.mail.Multipart) notice.getContent()).getBodyPart(0).getContent().toString())
                .contains("Hello Ada,", "We are dealing with a problem that affects your service:")
                .containsPattern("service:\\R\\RCheckout is slow or failing for some customers\\R\\RIt started on ").doesNotContain("customers.");
        awaitMail("incident.notice", bo);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(email("incident.notice", ada).get("state")));
        assertThat(mails("incident.notice", ada)).hasSize(1);
        assertThat(mails("incident.notice", bo)).hasSize(1);

        // Resolved: one follow-up per notified customer, held for approval too.
        HttpResponse<String> resolved = postIncident(notification(service, "resolved", ada + ", " + bo, null));
        assertThat(resolved.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(resolved.body()).get("customerNotices").asText())
                .isEqualTo("2 follow-up(s) of incident.resolved held for approval");
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.resolved", ada).get("state"))
                && "AWAITING_APPROVAL".equals(email("incident.resolved", bo).get("state")));
        assertThat(mails("incident.resolved", ada)).isEmpty();
        HttpResponse<String> repeated = postIncident(notification(service, "resolved", ada + ", " + bo, null));   // a repeat
        assertThat(repeated.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(repeated.body()).get("customerNotices").asText()).isEqualTo("0 follow-up(s) of incident.resolved held"
                + " for approval; 2 follow-up(s) already made at an earlier notification of this group, not made again");
        assertThat(notifications("incident.resolved", service)).hasSize(2);

        approve(notificationId("incident.resolved", ada));
        approve(notificationId("incident.resolved", bo));
        MimeMessage followUp = awaitMail("incident.resolved", ada);
        assertThat(followUp.getSubject()).isEqualTo("Resolved: Checkout is slow or failing for some customers");
        awaitMail("incident.resolved", bo);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(email("incident.resolved", bo).get("state")));
        assertThat(mails("incident.resolved", ada)).hasSize(1);
        assertThat(mails("incident.resolved", bo)).hasSize(1);
        assertThat(mails("incident.notice", ada)).hasSize(1);

        // Audited on the incident: who was queued for approval, and the follow-ups.
        assertThat(jdbc.queryForList("SELECT outcome FROM operator_action WHERE target = 'incident' AND action = 'INCIDENT_NOTICES'"
                + " AND target_id = (SELECT id FROM incident WHERE title LIKE ?) ORDER BY id", String.class, "%service=" + service))
                .containsExactly("customer notices queued for approval: " + ada + ", " + bo + ". 2 customer notice(s) of incident.notice held for approval",
                        "resolved: follow-ups of incident.resolved queued for approval: " + ada + ", " + bo);
    }

    /**
     * A firing group's notification also carries the alerts that ended since the last one (send_resolved: true). A customer named
     * only by such an ended alert used to get an incident notice for a problem that was already over for them (and a follow-up
     * when the whole group resolved): only the alerts still firing name who is affected.
     */
    @Test
    void aCustomerNamedOnlyByAnAlertThatAlreadyEndedGetsNoNotice() throws Exception {
        String eve = customer("eve");
        String finn = customer("finn");
        String service = "basket-" + run;
        String ended = """
                ,{"status":"resolved","labels":{"alertname":"CheckoutErrors","service":"%s","instance":"%s-2:8080"},
                  "annotations":{"summary":"5xx above 5%%","customers":"%s"},"startsAt":"2026-12-02T05:01:00Z",
                  "endsAt":"2026-12-02T05:03:00Z","generatorURL":"http://prometheus.example:9090/graph","fingerprint":"f2"}]}"""
                .formatted(service, service, finn);
        String firing = notification(service, "firing", eve, null);
        firing = firing.substring(0, firing.lastIndexOf("]}")) + ended;

        HttpResponse<String> answer = postIncident(firing);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(JSON.readTree(answer.body()).get("customerNotices").asText())
                .isEqualTo("1 customer notice(s) of incident.notice held for approval");
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", eve).get("state")));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE customer_id = ?", Integer.class, finn)).isZero();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM incident_notice WHERE customer_id = ?", Integer.class, finn)).isZero();

        // Resolved: eve's notice, never approved, is withdrawn; finn hears nothing either way.
        assertThat(postIncident(notification(service, "resolved", eve, null)).statusCode()).isEqualTo(200);
        assertThat(states("incident.notice", eve)).containsOnly("REJECTED");
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE customer_id = ?", Integer.class, finn)).isZero();
        assertThat(mails("incident.notice", finn)).isEmpty();
    }

    /**
     * The group resolves while one customer's notice is not yet held by dispatch and the follow-up of another, whose notice was
     * sent, is not admitted (the database was briefly unavailable): Alertmanager is answered 503 and would send the resolution
     * again, but the group fires again first, and Alertmanager then only sends the new firing. That first firing's customers were
     * left as they were: the notice still waiting stayed open for an approver to send about an incident long over, and the
     * customer told of it never got its follow-up. They are settled at the group's next notification: exactly one follow-up for
     * the customer told of the first firing, the waiting notice withdrawn.
     */
    @Test
    void aGroupFiringAgainBeforeItsResolutionWasSettledStillFollowsUpTheFirstFiringsCustomers() throws Exception {
        String jo = customer("jo");
        String ida = customer("ida");
        String service = "orders-" + run;
        assertThat(postIncident(notification(service, "firing", jo, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", jo).get("state")));
        approve(notificationId("incident.notice", jo));
        awaitMail("incident.notice", jo);

        String trigger = "refuse_follow_up_" + run;
        String firingAgain = notification(service, "firing", jo + ", " + ida, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z");
        HttpResponse<String> again;
        DispatchHold.hold(camel);
        try {
            // ida is named too (a repeat of the firing group): her notice is admitted, not yet held by dispatch.
            assertThat(postIncident(notification(service, "firing", jo + ", " + ida, null)).statusCode()).isEqualTo(200);
            assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE type = 'incident.notice' AND customer_id = ?",
                    Integer.class, ida)).isEqualTo(1);
            assertThat(states("incident.notice", ida)).isEmpty();
            // The resolution: posted to the ops webhook, but jo's follow-up is not admitted (database briefly unavailable).
            jdbc.execute("CREATE FUNCTION " + trigger + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF NEW.type = 'incident.resolved' AND NEW.customer_id = '" + jo + "' THEN"
                    + "   RAISE EXCEPTION 'too many connections' USING ERRCODE = '53300'; END IF; RETURN NEW; END $$");
            jdbc.execute("CREATE TRIGGER " + trigger + " BEFORE INSERT ON notification FOR EACH ROW EXECUTE FUNCTION " + trigger + "()");
            HttpResponse<String> outage;
            try {
                outage = postIncident(notification(service, "resolved", jo + ", " + ida, null));
            } finally {
                jdbc.execute("DROP TRIGGER " + trigger + " ON notification");
                jdbc.execute("DROP FUNCTION " + trigger + "()");
            }
            // An outage is answered 503 in words (Alertmanager sends the resolution again) and the notification is kept on the
            // Rejected page; it used to be a bare 500 that the webhook's error handling never saw, recorded nowhere.
            assertThat(outage.statusCode()).as(outage.body()).isEqualTo(503);
            assertThat(outage.body()).contains("Herald could not reach its database just now").doesNotContain("SQL", "connections");
            assertThat(jdbc.queryForObject("SELECT count(*) FROM inbound_rejection WHERE source = 'incidents' AND http_status = 503"
                    + " AND body_excerpt LIKE ?", Integer.class, "%" + service + "%")).isEqualTo(1);
            assertThat(io.herald.testsupport.OpsAlerts.accepted(infra.providers(), "Incident resolved", "service=" + service)).hasSize(1);
            // Before Alertmanager sends the resolution again, the group fires again (new starts): only the new firing is sent.
            again = postIncident(firingAgain);
            assertThat(io.herald.testsupport.OpsAlerts.accepted(infra.providers(), "Incident firing", "service=" + service)).hasSize(2);
        } finally {
            DispatchHold.release(camel);
        }
        // Dispatch, let go, takes the notice it was held from.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(held("incident.notice", ida))
                .as("ida's deliveries %s", states("incident.notice", ida)).isPositive());
        if (again.statusCode() == 503) {
            // Dispatch was held before it took ida's notice (as it is, unless its last poll got the notice first): the new
            // firing was answered 503, and Alertmanager sends it again. That send settles the first
            // firing (below, the repeat of it changes nothing).
            assertThat(again.body()).contains("still being queued for approval");
            assertThat(postIncident(firingAgain).statusCode()).isEqualTo(200);
        }
        // The new firing's notices are held for approval: ida's and jo's.
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(List.of(
                        jdbc.queryForObject("SELECT count(*) FROM notification WHERE type = 'incident.notice' AND customer_id = ?", Integer.class, ida),
                        held("incident.notice", jo)))
                .as("ida's deliveries %s, jo's %s", states("incident.notice", ida), states("incident.notice", jo)).containsExactly(2, 1));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(jdbc.queryForObject("SELECT d.state FROM delivery d JOIN"
                + " notification n ON n.id = d.notification_id WHERE n.type = 'incident.notice' AND n.customer_id = ? AND d.channel = 'email'"
                + " ORDER BY n.id DESC LIMIT 1", String.class, ida)).isEqualTo("AWAITING_APPROVAL"));
        // Alertmanager's next send of the firing group.
        HttpResponse<String> next = postIncident(firingAgain);
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);

        // ida's notice of the first firing is withdrawn, never sent; jo gets one follow-up, of the first firing.
        List<Long> idaNotices = jdbc.queryForList("SELECT id FROM notification WHERE type = 'incident.notice' AND customer_id = ? ORDER BY id",
                Long.class, ida);
        assertThat(jdbc.queryForList("SELECT state || ' ' || coalesce(reason, '') FROM delivery WHERE notification_id = ? AND channel = 'email'",
                String.class, idaNotices.get(0))).containsExactly("REJECTED " + IncidentNotices.WITHDRAWN);
        List<String> joNotices = jdbc.queryForList("SELECT idempotency_key FROM notification WHERE type = 'incident.notice' AND customer_id = ?"
                + " ORDER BY id", String.class, jo);
        String firstFiring = joNotices.get(0).substring(0, joNotices.get(0).lastIndexOf(':')).replace(":notice:", ":resolved:");
        assertThat(jdbc.queryForList("SELECT idempotency_key FROM notification WHERE type = 'incident.resolved' AND customer_id = ?",
                String.class, jo)).containsExactly(firstFiring + ":" + jo);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.resolved", jo).get("state")));
        approve(notificationId("incident.resolved", jo));
        assertThat(awaitMail("incident.resolved", jo).getSubject()).isEqualTo("Resolved: Checkout is slow or failing for some customers");

        // The second firing resolves before anyone approved its notices: withdrawn, and nothing more for either customer.
        assertThat(postIncident(notification(service, "resolved", jo + ", " + ida, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z"))
                .statusCode()).isEqualTo(200);
        assertThat(postIncident(firingAgain).statusCode()).isEqualTo(200);   // a late copy: a repeat, changes nothing
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(email("incident.resolved", jo).get("state")));
        assertThat(mails("incident.notice", jo)).hasSize(1);
        assertThat(mails("incident.resolved", jo)).hasSize(1);
        assertThat(mails("incident.notice", ida)).isEmpty();
        assertThat(mails("incident.resolved", ida)).isEmpty();
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE type = 'incident.resolved' AND customer_id IN (?, ?)",
                Integer.class, jo, ida)).isEqualTo(1);
        assertThat(jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.customer_id IN (?, ?)"
                + " AND d.channel = 'email'", String.class, jo, ida)).containsExactlyInAnyOrder("SENT", "SENT", "REJECTED", "REJECTED", "REJECTED");
    }

    /**
     * A group that fires, is resolved and fires again (new starts) within one second of the clock: each firing's notices were
     * keyed by the second it began, so the new firing's notice had the first one's key and the ledger took it for a repeat.
     * The customer named by the new firing was never told of it (and the notice of the first firing was withdrawn).
     */
    @Test
    void aGroupFiringAgainWithinTheSecondItFirstFiredStillNotifiesItsCustomers() throws Exception {
        String kit = customer("kit");
        String service = "wishlist-" + run;
        String firingAgain = notification(service, "firing", kit, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z");
        // Another group naming another customer first, so that the three notifications below take milliseconds, not the first
        // call's hundreds; it is resolved at the end.
        String lee = customer("lee");
        String other = "giftcards-" + run;
        assertThat(postIncident(notification(other, "firing", lee, null)).statusCode()).isEqualTo(200);
        // The three notifications at the start of a second of the database's clock (which times the firings), so they fall in one.
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> jdbc.queryForObject(
                "SELECT extract(milliseconds FROM clock_timestamp())::int % 1000 < 60", Boolean.class));
        assertThat(postIncident(notification(service, "firing", kit, null)).statusCode()).isEqualTo(200);
        // The resolution and the new firing: 503 while kit's first notice is not yet held by dispatch, else 200.
        assertThat(postIncident(notification(service, "resolved", kit, null)).statusCode()).isIn(200, 503);
        assertThat(postIncident(firingAgain).statusCode()).isIn(200, 503);
        await().atMost(Duration.ofSeconds(30)).until(() -> !states("incident.notice", kit).isEmpty());
        // Alertmanager sends the firing again (after a 503, or at its repeat interval): the first notice is settled by then.
        HttpResponse<String> resent = postIncident(firingAgain);
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);

        // Two notices: the first firing's withdrawn, never sent; the new firing's held for an approver.
        List<Long> notices = jdbc.queryForList("SELECT id FROM notification WHERE type = 'incident.notice' AND customer_id = ? ORDER BY id",
                Long.class, kit);
        assertThat(notices).hasSize(2);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc.queryForList("SELECT state FROM delivery WHERE"
                + " notification_id = ? AND channel = 'email'", String.class, notices.get(1))).containsExactly("AWAITING_APPROVAL"));
        assertThat(jdbc.queryForList("SELECT state || ' ' || coalesce(reason, '') FROM delivery WHERE notification_id = ? AND channel = 'email'",
                String.class, notices.get(0))).containsExactly("REJECTED " + IncidentNotices.WITHDRAWN);

        // The new firing resolves before anyone approved: its notice is withdrawn too, nothing is left waiting.
        assertThat(postIncident(notification(service, "resolved", kit, null).replace("2026-12-02T05:00:00Z", "2026-12-02T09:00:00Z"))
                .statusCode()).isEqualTo(200);
        assertThat(states("incident.notice", kit)).doesNotContain("AWAITING_APPROVAL", "PENDING");
        assertThat(mails("incident.notice", kit)).isEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> held("incident.notice", lee) == 1);
        assertThat(postIncident(notification(other, "resolved", lee, null)).statusCode()).isEqualTo(200);
        assertThat(states("incident.notice", lee)).doesNotContain("AWAITING_APPROVAL", "PENDING");
    }

    @Test
    void aNoticeStillAwaitingApprovalWhenTheIncidentIsResolvedIsWithdrawnWithTheReasonAndNoFollowUp() throws Exception {
        String cy = customer("cy");
        String service = "search-" + run;
        assertThat(postIncident(notification(service, "firing", cy, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", cy).get("state")));
        long id = notificationId("incident.notice", cy);

        HttpResponse<String> resolved = postIncident(notification(service, "resolved", cy, null));
        assertThat(resolved.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(resolved.body()).get("customerNotices").asText())
                .isEqualTo("0 follow-up(s) of incident.resolved held for approval; 1 notice(s) still awaiting approval withdrawn");
        assertThat(email("incident.notice", cy)).containsEntry("state", "REJECTED")
                .containsEntry("reason", "incident resolved before approval; not sent, and no follow-up will be sent");
        assertThat(states("incident.notice", cy)).containsOnly("REJECTED");
        HttpResponse<String> late = as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"send it\"}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(notifications("incident.resolved", service)).isEmpty();
        assertThat(as(OPERATOR, "GET", "/api/notifications/" + id, null).body()).contains("Approval: WITHDRAW", "incident resolved before approval");
        assertThat(mails("incident.notice", cy)).isEmpty();
        assertThat(mails("incident.resolved", cy)).isEmpty();
    }

    @Test
    void aNoticeDispatchNeverHeldForApprovalDoesNotKeepTheGroupsResolutionWaiting() throws Exception {
        String vi = customer("vi");
        String service = "stock-" + run;
        assertThat(postIncident(notification(service, "firing", vi, null)).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", vi).get("state")));
        long id = notificationId("incident.notice", vi);
        // What dispatch leaves of a notice it did not hold for approval (made pointless at dispatch): its deliveries cancelled,
        // no approval row. It will never be held; the resolution used to wait for it (503 to Alertmanager, again and again).
        jdbc.update("DELETE FROM approval WHERE notification_id = ?", id);
        jdbc.update("UPDATE delivery SET state = 'CANCELLED', reason = 'superseded' WHERE notification_id = ?", id);

        HttpResponse<String> resolved = postIncident(notification(service, "resolved", vi, null));
        assertThat(resolved.statusCode()).as(resolved.body()).isEqualTo(200);
        assertThat(jdbc.queryForObject("SELECT outcome || ': ' || reason FROM incident_notice WHERE customer_id = ?", String.class, vi))
                .isEqualTo("WITHDRAWN: " + IncidentNotices.NEVER_HELD);
        assertThat(notifications("incident.resolved", service)).isEmpty();
        assertThat(mails("incident.notice", vi)).isEmpty();
        assertThat(mails("incident.resolved", vi)).isEmpty();
    }

    @Test
    void customersNotInTheDirectoryAndUnknownSegmentsAreListedInTheReasonNotNotified() throws Exception {
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, 'Dora Tester', ?) ON CONFLICT DO NOTHING",
                SEGMENT_MEMBER, SEGMENT_MEMBER + "@example.com");
        String nobody = "cus_nobody_" + run;
        String service = "payments-" + run;

        HttpResponse<String> answer = postIncident(notification(service, "firing", nobody, "eu-checkout, no-such-segment"));
        assertThat(answer.statusCode()).isEqualTo(200);
        String reason = JSON.readTree(answer.body()).get("customerNotices").asText();
        assertThat(reason).isEqualTo("1 customer notice(s) of incident.notice held for approval;"
                + " segment 'no-such-segment' is not defined (herald.incidents.notices.segments.no-such-segment): nobody in it was notified;"
                + " not in the customer directory, not notified (check the alert's customers annotation or the segment): "
                + nobody + ", " + SEGMENT_STRANGER);
        await().atMost(Duration.ofSeconds(30)).until(() -> "AWAITING_APPROVAL".equals(email("incident.notice", SEGMENT_MEMBER).get("state")));
        assertThat(notifications("incident.notice", service)).hasSize(1);
        assertThat(jdbc.queryForObject("SELECT count(*) FROM notification WHERE customer_id IN (?, ?)", Integer.class, nobody, SEGMENT_STRANGER))
                .isZero();
        // The reason is on the incident (the console's Incidents page shows its audit trail), once, not at every repeat.
        assertThat(postIncident(notification(service, "firing", nobody, "eu-checkout, no-such-segment")).statusCode()).isEqualTo(200);
        List<String> audited = jdbc.queryForList("SELECT outcome FROM operator_action WHERE target = 'incident' AND action = 'INCIDENT_NOTICES'"
                + " AND target_id = (SELECT id FROM incident WHERE title LIKE ?)", String.class, "%service=" + service);
        assertThat(audited).containsExactly("customer notices queued for approval: " + SEGMENT_MEMBER + ". " + reason);
        assertThat(jdbc.queryForList("SELECT customer_id FROM incident_notice WHERE outcome = 'UNKNOWN' AND incident_id = (SELECT id FROM incident"
                + " WHERE title LIKE ?) ORDER BY customer_id", String.class, "%service=" + service)).containsExactlyInAnyOrder(nobody, SEGMENT_STRANGER);
        HttpResponse<String> page = as(OPERATOR, "GET", "/console/incidents", null);
        assertThat(page.body()).contains("not in the customer directory, not notified");
    }

    @Test
    void anIncidentTypeWithoutApprovalStopsStartupNamingTheFileAndTheKey() throws IOException {
        Path catalog = dir.resolve("catalog.yaml");
        Files.writeString(catalog, """
                notifications:
                  incident.notice:
                    category: incidents
                    priority: high
                    channels: [email]
                    window: P2D
                  incident.resolved:
                    category: incidents
                    priority: normal
                    channels: [email]
                    window: P2D
                    approval: required
                """);
        IncidentSettings settings = new IncidentSettings("incident.notice", "incident.resolved", null, 10_000);
        assertThatThrownBy(() -> IncidentNotices.check(new NotificationCatalog(catalog.toString()), settings))
                .hasMessage("Notification catalog " + catalog + ": key 'notifications.incident.notice.approval' must be 'required':"
                        + " customer-facing incident notices are always approved by a person before they are sent (issue 16)");
        assertThat(IncidentNotices.check(new NotificationCatalog("config/catalog.yaml"), settings)).isTrue();
    }

    // --- helpers ---

    private String customer(String firstName) {
        String id = "cus_in_" + firstName + "_" + run;
        jdbc.update("INSERT INTO customer (customer_id, display_name, email) VALUES (?, ?, ?)", id,
                firstName.substring(0, 1).toUpperCase() + firstName.substring(1) + " Tester", id + "@example.com");
        return id;
    }

    /** The email delivery of the customer's notification of that type (empty before dispatch queued it). */
    private Map<String, Object> email(String type, String customer) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.* FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.type = ? AND n.customer_id = ? AND d.channel = 'email'", type, customer);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    /** How many of the customer's notifications of that type dispatch holds for approval (their email delivery). */
    private int held(String type, String customer) {
        return jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.type = ?"
                + " AND n.customer_id = ? AND d.channel = 'email' AND d.state = 'AWAITING_APPROVAL'", Integer.class, type, customer);
    }

    private List<String> states(String type, String customer) {
        return jdbc.queryForList("SELECT d.state FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.type = ? AND n.customer_id = ?",
                String.class, type, customer);
    }

    private long notificationId(String type, String customer) {
        return jdbc.queryForObject("SELECT id FROM notification WHERE type = ? AND customer_id = ?", Long.class, type, customer);
    }

    private List<String> notifications(String type, String service) {
        return jdbc.queryForList("SELECT idempotency_key FROM notification WHERE type = ? AND canonical->'refs'->>'incidentId' ="
                + " (SELECT id::text FROM incident WHERE title LIKE ?)", String.class, type, "%service=" + service);
    }

    private void approve(long id) throws Exception {
        HttpResponse<String> approved = as(APPROVER, "POST", "/api/approvals/" + id + "/approve", "{\"comment\": \"wording checked with support\"}");
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
    }

    private JsonNode pending(long id) throws Exception {
        for (JsonNode item : JSON.readTree(as(APPROVER, "GET", "/api/approvals", null).body())) {
            if (item.get("notificationId").asLong() == id) {
                return item;
            }
        }
        throw new AssertionError("notification " + id + " is not awaiting approval");
    }

    private MimeMessage awaitMail(String type, String customer) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !mails(type, customer).isEmpty());
        return mails(type, customer).get(0);
    }

    /** Mails in GreenMail for the customer's notification of that type (by its idempotency key). */
    private List<MimeMessage> mails(String type, String customer) {
        List<String> keys = jdbc.queryForList("SELECT idempotency_key || ':email' FROM notification WHERE type = ? AND customer_id = ?",
                String.class, type, customer);
        return Arrays.stream(infra.mail().getReceivedMessages()).filter(m -> {
            try {
                return keys.contains(m.getHeader("X-Herald-Idempotency-Key", null));
            } catch (Exception e) {
                return false;
            }
        }).toList();
    }

    private HttpResponse<String> postIncident(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/incidents"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Alertmanager's webhook notification (format version 4): one alert naming its customers (annotation) and segments (label). */
    private static String notification(String service, String status, String customers, String segment) {
        return """
                {"version":"4","groupKey":"{}:{alertname=\\"CheckoutErrors\\", service=\\"%s\\"}","truncatedAlerts":0,"status":"%s",
                 "receiver":"herald-ops","groupLabels":{"alertname":"CheckoutErrors","service":"%s"},
                 "commonLabels":{"alertname":"CheckoutErrors","service":"%s"%s},
                 "commonAnnotations":{"summary":"5xx above 5%% on checkout","customer_summary":"Checkout is slow or failing for some customers"},
                 "externalURL":"http://alertmanager.example:9093",
                 "alerts":[{"status":"%s","labels":{"alertname":"CheckoutErrors","service":"%s","instance":"%s-1:8080"},
                   "annotations":{"summary":"5xx above 5%%","customers":"%s"},"startsAt":"2026-12-02T05:00:00Z",
                   "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example:9090/graph","fingerprint":"f1"}]}"""
                .formatted(service, status, service, service, segment == null ? "" : ",\"segment\":\"" + segment + "\"", status, service,
                        service, customers);
    }

    private HttpResponse<String> as(String account, String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("Accept", method.equals("GET") && path.startsWith("/console") ? "text/html" : "application/json")
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
