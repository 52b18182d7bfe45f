package io.herald;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;

import javax.sql.DataSource;

import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.OpsAlerts;
import io.herald.testsupport.Polls;
import io.herald.testsupport.Redeliveries;
import io.herald.testsupport.Samples;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * An operator controls routes live from Hawtio: the route MBeans' suspend(), resume(), stop() and start(), through Hawtio's
 * Jolokia as its Camel tab calls them. What was accepted meanwhile is delivered once afterwards, and a resumed route is the
 * route it was.
 */
class RouteControlFromHawtioTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    @Autowired
    DataSource dataSource;

    /** Every route is left started for the tests after these (they share this Herald). */
    @AfterEach
    void everyRouteStarted() throws Exception {
        for (Route route : camel.getRoutes()) {
            ServiceStatus status = camel.getRouteController().getRouteStatus(route.getRouteId());
            if (status == ServiceStatus.Suspended) {
                camel.getRouteController().resumeRoute(route.getRouteId());
            } else if (status != ServiceStatus.Started) {
                camel.getRouteController().startRoute(route.getRouteId());
            }
        }
    }

    /**
     * The Kafka consumers suspended from Hawtio, the source consumer and dispatch: the webhook still accepts, and once they
     * are resumed the event is delivered, once.
     */
    @Test
    void eventsAcceptedWhileKafkaConsumersAreSuspendedAreDeliveredOnceAfterResume() throws Exception {
        hawtio("support-ingest", "suspend");
        hawtio("dispatch", "suspend");
        String key = postTicket();
        hawtio("support-ingest", "resume");
        await().atMost(Duration.ofSeconds(20)).until(() -> notifications(key) == 1);
        assertThat(delivery(key, "email")).as("dispatch is suspended: nothing is queued yet").isEmpty();
        hawtio("dispatch", "resume");
        awaitMailFor(key);
        assertThat(mailsFor(key)).hasSize(1);
    }

    /**
     * Suspended and resumed from Hawtio, the in-app route meets a database blip (its connection cut while it writes the
     * message, as a failover does): the step is tried again, as on a route never suspended, and the customer has the message
     * within seconds. It used to fail at once: Camel readies a route's error handlers for shutdown when it suspends the route,
     * so they stop retrying what may not be retried while stopping (Herald's "until the database is back" steps), and only a
     * start undoes that, not a resume; the delivery then stayed SENDING until the stale-sendings sweep, minutes later.
     */
    @Test
    void aRouteResumedFromHawtioStillWaitsOutADatabaseBlip() throws Exception {
        hawtio("deliver-in-app", "suspend");
        hawtio("deliver-in-app", "resume");
        String key;
        try (Connection lock = dataSource.getConnection()) {
            lock.setAutoCommit(false);
            lock.createStatement().execute("LOCK TABLE inbox_message IN SHARE MODE");   // the in-app insert waits here
            key = postTicket();
            Integer waiting = await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForList(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO inbox_message%'",
                    Integer.class), pids -> pids.size() == 1).get(0);
            jdbc.queryForObject("SELECT pg_terminate_backend(?)", Boolean.class, waiting);
            lock.rollback();
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> "SENT".equals(delivery(key, "in_app").get("state")));
        assertThat(jdbc.queryForObject("SELECT count(*) FROM inbox_message m JOIN delivery d ON d.id = m.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?", Integer.class, key)).isEqualTo(1);
    }

    /**
     * The support mapping route stopped from Hawtio for longer than a source consumer waits for it (30 s): the event waits,
     * tried again until the route is started, then reaches its customer once, and nothing is quarantined for it.
     */
    @Test
    void anEventWhoseMappingRouteIsStoppedInHawtioWaitsForItInsteadOfBeingQuarantined() throws Exception {
        String ticket = newTicketId();
        String key = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        try (Redeliveries redeliveries = Redeliveries.of(camel, "support-ingest")) {
            hawtio("support-mapping", "stop");
            assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket)).statusCode()).isEqualTo(202);
            // support-ingest waits up to 30 s for the mapping route, then tries again. (It used to hand the whole batch to the
            // quarantine, which could not hold it: an ERROR "source event is not valid JSON (it is empty)" and a refused insert,
            // every 30 s, the consumer reconnecting each time.)
            await().atMost(Duration.ofSeconds(45)).until(redeliveries::mostOfOneExchange, tries -> tries >= 1);
            hawtio("support-mapping", "start");
            awaitMailFor(key);
            assertThat(mailsFor(key)).hasSize(1);
            assertThat(quarantined(ticket)).isZero();
        } finally {
            jdbc.update("DELETE FROM unrouted_event WHERE source = 'support' AND raw_payload LIKE ?", "%" + ticket + "%");
        }
    }

    /**
     * A webhook route suspended from Hawtio: Camel's health check (logged every 5 s while it is DOWN, and shown in health's
     * details) says that what its sender posts meanwhile is refused and may not come again, not "its work waits", which
     * is true of the senders and pollers but told an operator that nothing was being lost while billing events were refused.
     */
    @Test
    void aWebhookRouteSuspendedInHawtioIsSaidToRefuseItsCallsNotToKeepThem() throws Exception {
        hawtio("incidents-webhook", "suspend");
        try {
            assertThat(org.apache.camel.health.HealthCheckHelper.invoke(camel).stream()
                    .filter(result -> result.getCheck().getId().equals("route:incidents-webhook")).findFirst().orElseThrow().getMessage())
                    .hasValue("route incidents-webhook is suspended (from Hawtio): what is posted to it is refused until it is resumed, and"
                            + " a sender that does not retry will not send it again (Hawtio: Camel, Routes, Resume)");
        } finally {
            hawtio("incidents-webhook", "resume");
        }
    }

    /**
     * deliver-email suspended from Hawtio: a payment-failed event's SMS goes out, its email waits in the ledger, due and not
     * claimed, and once the route is resumed the customer has the email within seconds, once. It used to be claimed anyway:
     * its sender thread waited 30 s for the route, failed with a stack trace, and the email then waited out its claim lease
     * (2 minutes) after the route was back.
     */
    @Test
    void aDeliveryRouteSuspendedInHawtioHoldsOnlyItsChannelAndSendsAtOnceWhenResumed() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        hawtio("deliver-email", "suspend");
        // Camel's health check (logged every 5 s while it is DOWN) says why in words, not with an empty message.
        assertThat(org.apache.camel.health.HealthCheckHelper.invoke(camel).stream()
                .filter(result -> result.getCheck().getId().equals("route:deliver-email")).findFirst().orElseThrow().getMessage())
                .hasValue("route deliver-email is suspended (from Hawtio): its work waits until it is resumed (Hawtio: Camel, Routes, Resume)");
        assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> infra.providers().findAll(postRequestedFor(
                urlPathMatching("/2010-04-01/Accounts/ACdemo/Messages.json")).withHeader("Idempotency-Key", equalTo(key + ":sms"))).size() == 1);
        // The email stays due and unclaimed (no lease taken) for as long as its route is suspended.
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() -> jdbc.queryForObject(
                "SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?"
                        + " AND d.channel = 'email' AND d.state = 'PENDING' AND d.claim_token IS NULL AND d.next_attempt_at <= now()",
                Integer.class, key) == 1 && mailsFor(key).isEmpty());
        hawtio("deliver-email", "resume");
        await().atMost(Duration.ofSeconds(10)).until(() -> !mailsFor(key).isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> "SENT".equals(delivery(key, "email").get("state")));
        assertThat(mailsFor(key)).hasSize(1);
    }

    /**
     * An operator re-drives a quarantined event while notification-intake is stopped from Hawtio: the console's re-drive
     * answers, 409 saying a route it goes through is not running and to start it, within Camel's 30 s wait for the route.
     * (It used to be tried again for as long as the route stayed stopped: the request never answered, its thread held.)
     */
    @Test
    void aRedriveWhileNotificationIntakeIsStoppedAnswersSayingSoInsteadOfWaitingForIt() throws Exception {
        String ticket = newTicketId();
        long event = jdbc.queryForObject("""
                INSERT INTO unrouted_event (source, source_event_id, outcome, step, reason, raw_payload)
                VALUES ('support', ?, 'QUARANTINED', 'identity', 'requester unknown', ?) RETURNING id""", Long.class,
                "zd-" + ticket, Samples.supportEvent("ticket.status_changed.json", ticket));
        try {
            hawtio("notification-intake", "stop");
            java.util.concurrent.CompletableFuture<HttpResponse<String>> redrive = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return api("POST", "/api/quarantine/" + event + "/redrive");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            HttpResponse<String> answer = await().atMost(Duration.ofSeconds(50)).until(() -> redrive.isDone() ? redrive.join() : null,
                    java.util.Objects::nonNull);
            assertThat(answer.statusCode()).isEqualTo(409);
            assertThat(answer.body()).contains("is not running", "start it").doesNotContain("Exception", "direct:");
            assertThat(jdbc.queryForObject("SELECT status FROM unrouted_event WHERE id = ?", String.class, event)).isEqualTo("OPEN");
        } finally {
            hawtio("notification-intake", "start");
            jdbc.update("DELETE FROM unrouted_event WHERE id = ?", event);
        }
    }

    /**
     * deliver-sms suspended and crm-outbox-poll stopped from Hawtio, and left so past herald.alerts.route-stopped-after (4 s
     * here, 5 minutes shipped): each is announced once on the ops webhook, in words an operator acts on (what is not
     * happening, which route, since when, how many SMS wait, Resume or Start it in Hawtio), and once more when it runs again.
     * Before, only camelHealth DOWN and a log line said so, and the SMS piled up unseen.
     */
    @Test
    void aRouteLeftStoppedOrSuspendedInHawtioIsAnnouncedOnTheOpsWebhookOnceAndAgainWhenItRuns() throws Exception {
        String smsDown = "SMS deliveries are not being sent";
        String smsBack = "SMS deliveries are being sent again";
        String crmDown = "New CRM events (orders, contact changes) are not being picked up";
        String crmBack = "New CRM events are being picked up again";
        int smsDownBefore = OpsAlerts.accepted(infra.providers(), smsDown).size();
        int smsBackBefore = OpsAlerts.accepted(infra.providers(), smsBack).size();
        int crmDownBefore = OpsAlerts.accepted(infra.providers(), crmDown).size();
        int crmBackBefore = OpsAlerts.accepted(infra.providers(), crmBack).size();
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        // The outage polls are held until the SMS waits: on a busy machine dispatch took longer than the 4 s, and the alert
        // said "0 SMS deliveries waiting". (Suspended, not stopped: the timer ticks on, without its start delay.)
        camel.getRouteController().suspendRoute("outage-alerts");
        hawtio("deliver-sms", "suspend");
        hawtio("crm-outbox-poll", "stop");
        assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "PENDING".equals(delivery(key, "sms").get("state")));
        camel.getRouteController().resumeRoute("outage-alerts");
        String sms = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), smsDown),
                alerts -> alerts.size() > smsDownBefore).get(smsDownBefore);
        assertThat(sms).containsPattern("SMS deliveries are not being sent: they wait in the ledger\\. Herald's route deliver-sms has been"
                        + " suspended since \\d\\d:\\d\\d UTC, [1-9]\\d* SMS deliveries waiting\\. Nothing is lost")
                .contains("in Hawtio (Camel, Routes) select deliver-sms and click Resume. It is suspended on instance ");
        String crm = await().atMost(Duration.ofSeconds(30)).until(() -> OpsAlerts.accepted(infra.providers(), crmDown),
                alerts -> alerts.size() > crmDownBefore).get(crmDownBefore);
        assertThat(crm).contains("Herald's route crm-outbox-poll has been stopped since ", "select crm-outbox-poll and click Start.");
        // Announced once, not at every poll while it lasts: a whole poll that began after both were seen (each poll posts what
        // it composes before it ends) posted neither again.
        Polls.awaitWhole(camel, "outage-alerts", 1, Duration.ofSeconds(20));
        assertThat(OpsAlerts.accepted(infra.providers(), smsDown)).hasSize(smsDownBefore + 1);
        assertThat(OpsAlerts.accepted(infra.providers(), crmDown)).hasSize(crmDownBefore + 1);

        hawtio("deliver-sms", "resume");
        hawtio("crm-outbox-poll", "start");
        await().atMost(Duration.ofSeconds(20)).until(() -> OpsAlerts.accepted(infra.providers(), smsBack).size() > smsBackBefore
                && OpsAlerts.accepted(infra.providers(), crmBack).size() > crmBackBefore);
        assertThat(OpsAlerts.accepted(infra.providers(), smsBack).get(smsBackBefore))
                .containsPattern("SMS deliveries are being sent again: Herald's route deliver-sms is running again since \\d\\d:\\d\\d UTC"
                        + " on instance \\S+");
        await().atMost(Duration.ofSeconds(20)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        Polls.awaitWhole(camel, "outage-alerts", 1, Duration.ofSeconds(20));
        assertThat(OpsAlerts.accepted(infra.providers(), smsBack)).hasSize(smsBackBefore + 1);
        assertThat(OpsAlerts.accepted(infra.providers(), smsDown)).hasSize(smsDownBefore + 1);
    }

    /**
     * An operator resends an SMS while deliver-sms is stopped from Hawtio: the answer comes at once (not after Camel's wait for
     * the route: 5 s here, 30 s shipped) and says the resend is recorded and waits for the route; the parked-resends poll
     * leaves it alone meanwhile, and once the route is started the customer gets the copy, once. Before, the request hung for
     * the wait and answered "pending", and the resend, taken by the parked-resends poll later, waited a 5-minute lease.
     */
    @Test
    void aResendWhileItsDeliveryRouteIsStoppedInHawtioAnswersAtOnceAndIsSentOnceTheRouteRuns() throws Exception {
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        assertThat(postSignedBilling(Samples.paymentFailed(unique)).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "SENT".equals(delivery(key, "sms").get("state")));
        long sms = ((Number) delivery(key, "sms").get("id")).longValue();
        hawtio("deliver-sms", "stop");
        long start = System.nanoTime();
        HttpResponse<String> answer = apiAs(OPERATOR, "POST", "/api/deliveries/" + sms + "/resend",
                "{\"confirm\": true, \"comment\": \"customer deleted it\"}");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        assertThat(answer.body()).contains("\"state\":\"PARKED\"", "recorded", "deliver-sms is not running",
                "sent as soon as").doesNotContain("Exception", "direct:");
        assertThat(took).as("answered before Camel's wait for the stopped route (5 s here)").isLessThan(Duration.ofSeconds(4));
        long resend = jdbc.queryForObject("SELECT id FROM delivery_resend WHERE delivery_id = ?", Long.class, sms);
        // The parked-resends poll does not take it (no lease) while the route is stopped.
        Polls.awaitWhole(camel, "parked-deliveries", 2, Duration.ofSeconds(20));
        assertThat(jdbc.queryForObject("SELECT outcome = 'PARKED' AND next_attempt_at <= now() FROM delivery_resend WHERE id = ?",
                Boolean.class, resend)).isTrue();
        hawtio("deliver-sms", "start");
        await().atMost(Duration.ofSeconds(15)).until(() -> "SENT".equals(jdbc.queryForObject(
                "SELECT outcome FROM delivery_resend WHERE id = ?", String.class, resend)));
        assertThat(infra.providers().findAll(postRequestedFor(urlPathMatching("/2010-04-01/Accounts/ACdemo/Messages.json"))
                .withHeader("Idempotency-Key", equalTo(key + ":sms:resend-" + resend)))).hasSize(1);
    }

    private int quarantined(String ticket) {
        return jdbc.queryForObject("SELECT count(*) FROM unrouted_event WHERE source = 'support' AND raw_payload LIKE ?", Integer.class,
                "%" + ticket + "%");
    }

    private void hawtio(String route, String operation) throws Exception {
        HttpResponse<String> answer = apiAs(ADMIN, "POST", "/actuator/hawtio/jolokia", """
                {"type": "exec", "mbean": "org.apache.camel:context=%s,type=routes,name=\\"%s\\"", "operation": "%s()"}"""
                .formatted(camel.getManagementName(), route, operation));
        assertThat(answer.body()).as(route + " " + operation).contains("\"status\":200");
    }

    private String postTicket() throws Exception {
        String ticket = newTicketId();
        assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket)).statusCode()).isEqualTo(202);
        return "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
    }

    private long notifications(String key) {
        return jdbc.queryForObject("SELECT count(*) FROM notification WHERE idempotency_key = ?", Long.class, key);
    }
}
