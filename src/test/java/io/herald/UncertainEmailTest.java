package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.herald.dispatch.SmtpConnections;
import io.herald.testsupport.Breakers;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import io.herald.testsupport.ScriptedSmtpServer;
import org.apache.camel.CamelContext;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Email is never sent twice by Herald itself. An SMTP server that takes the whole message after
 * DATA and then never gives its final answer may have delivered it: the delivery is UNCERTAIN with
 * a reason a person can act on, and it is not retried or parked (the server sees one message). A
 * server that refuses the message after DATA gave a definite answer: that is a plain failure. One that refuses for now
 * (4xx) did not take it: the email is parked and goes out once the server takes it.
 * The email channel's real sender is pointed at a tiny SMTP server in this test for its duration.
 */
class UncertainEmailTest extends HeraldIntegrationTest {

    @Autowired
    SmtpConnections smtp;

    @Autowired
    CamelContext camel;

    private ScriptedSmtpServer server;
    private String originalHost;
    private int originalPort;
    private Object originalReadTimeout;

    @BeforeEach
    void pointTheEmailChannelAtTheScriptedServer() throws IOException {
        server = new ScriptedSmtpServer();
        originalHost = smtp.getHost();
        originalPort = smtp.getPort();
        originalReadTimeout = smtp.getJavaMailProperties().get("mail.smtp.timeout");
        smtp.getJavaMailProperties().put("mail.smtp.timeout", "4000");
        smtp.setHost("127.0.0.1");
        smtp.setPort(server.port());
        smtp.setSession(null);
        smtp.closeIdle();   // connections kept to the usual server are closed, new ones go to this one
    }

    @AfterEach
    void pointItBack() throws IOException {
        smtp.getJavaMailProperties().put("mail.smtp.timeout", originalReadTimeout);
        smtp.setHost(originalHost);
        smtp.setPort(originalPort);
        smtp.setSession(null);
        smtp.closeIdle();
        server.close();
        Breakers.resetAll(camel);   // what this class's refusals counted is not left to the next test class
    }

    @Test
    void noFinalAnswerAfterDataMakesTheEmailUncertainAndItIsNeverSentAgain() throws Exception {
        server.finalReply(null);   // takes the message, never answers
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "UNCERTAIN"));
        assertThat(delivery(key, "email").get("reason").toString())
                .startsWith("email outcome unknown: the SMTP server took the message (DATA) but gave no final answer")
                .contains("herald.mail.read-timeout-ms", "it may have been delivered")
                .endsWith("check whether the customer received it, and resend if not");
        assertThat(attempts(key)).extracting(a -> a.get("outcome")).containsExactly("UNCERTAIN");
        // Not retried, not parked: the server received the message once, and no other try follows.
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).untilAsserted(() -> {
            assertThat(server.messagesFor(key)).isEqualTo(1);
            assertThat(delivery(key, "email")).containsEntry("state", "UNCERTAIN");
        });
        // The other channels went out as usual.
        assertThat(delivery(key, "sms")).containsEntry("state", "SENT");

        // The email provider reports it delivered, naming the mail by the Message-ID Herald gave it: the receipt settles what
        // a person would otherwise check (it used to be kept UNMATCHED, and the delivery stayed UNCERTAIN: "resend if not").
        String messageId = server.messageIdFor(key);
        assertThat(messageId).startsWith("<" + delivery(key, "email").get("id") + ".").endsWith("@herald.local>");
        HttpResponse<String> answer = postEmailEvents("[{\"email\": \"customer@example.org\", \"timestamp\": 1763720000, \"smtp-id\": \""
                + messageId + "\", \"event\": \"delivered\", \"response\": \"250 OK\", \"sg_event_id\": \"uncertain-" + key + "\"}]");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "DELIVERED"));
        assertThat(jdbc.queryForObject("SELECT outcome FROM delivery_receipt WHERE provider_event_id = ?", String.class, "uncertain-" + key))
                .isEqualTo("APPLIED");
    }

    @Test
    void aRefusalAfterDataIsADefiniteAnswerAndFailsTheEmail() throws Exception {
        server.finalReply("554 5.7.1 Message rejected as spam");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "FAILED"));
        assertThat(delivery(key, "email").get("reason").toString()).contains("554 5.7.1 Message rejected as spam");
        assertThat(server.messagesFor(key)).isEqualTo(1);
    }

    /** A 4xx ("try again later", here a greylisting relay at RCPT) means the message was not taken: parked, and sent once it is taken. */
    @Test
    void aTemporaryRefusalParksTheEmailAndItGoesOutOnceTheServerTakesIt() throws Exception {
        server.replyAt("RCPT", "451 4.7.1 Greylisted, try again later");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "PARKED"));
        assertThat(delivery(key, "email").get("reason").toString())
                .startsWith("email provider unavailable: the mail server refused for now: 451 4.7.1 Greylisted, try again later;"
                        + " nothing was taken, so it is tried again; parked, next attempt at ");
        assertThat(server.messagesFor(key)).isZero();

        server.replyAt("RCPT", null);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "SENT"));
        assertThat(server.messagesFor(key)).isEqualTo(1);
    }

    /**
     * A recipient the mail server refuses (550 5.1.1 at RCPT: no such mailbox) is a refusal of that one email, as an HTTP
     * provider's 4xx is of one SMS: it fails with the address masked and what to do, and it does not count against the email
     * breaker ("a refusal of one message never opens the breaker"). Five such customers in a row used to open it, and the next
     * customer's email was parked as if the mail server were down.
     */
    @Test
    void refusedRecipientsFailTheirOwnEmailsAndTheNextCustomersEmailGoesOut() throws Exception {
        Breakers.resetAll(camel);
        server.replyAt("RCPT TO:<GONE.", "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in virtual mailbox table");
        for (int i = 0; i < 5; i++) {
            String customer = "cus_gone" + newTicketId();
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Gone Away', ?, '+447700900123')",
                    customer, "gone." + customer + "@example.org");
            String unique = newTicketId();
            String key = Samples.paymentFailedKey(unique);
            assertThat(postSignedBilling(Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "FAILED"));
            assertThat(delivery(key, "email").get("reason")).isEqualTo("email not sent: the mail server refused the recipient g***@example.org"
                    + " (550 5.1.1 <g***@example.org>: Recipient address rejected: User unknown in virtual mailbox table), so nothing was"
                    + " sent. Check the address with the customer (the server's words say why: no such mailbox, or a full or disabled one)"
                    + " and correct it in the CRM if it is wrong (its contact change updates Herald's directory), then retry this delivery");
        }
        assertThat(emailBreaker().getMetrics().getNumberOfFailedCalls()).as("failed calls counted by the email breaker").isZero();

        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));
        await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, "email").get("state"), state -> List.of("SENT", "PARKED", "FAILED").contains(state));
        assertThat(delivery(key, "email")).as("the next customer's email").containsEntry("state", "SENT");
        assertThat(server.messagesFor(key)).isEqualTo(1);
    }

    /**
     * The mail server refuses Herald's login (535 5.7.8: a rotated or mistyped herald.mail.password) for every email alike, as
     * an HTTP provider's 401 refuses Herald's credentials: the email is parked with a reason that names the settings, and goes
     * out once the login is accepted. It used to fail for good, each email with an alert of its own, to be retried by hand.
     */
    @Test
    void aRefusedLoginParksTheEmailAndItGoesOutOnceTheLoginIsAccepted() throws Exception {
        Breakers.resetAll(camel);
        Object auth = smtp.getJavaMailProperties().get("mail.smtp.auth");
        smtp.setUsername("herald");
        smtp.setPassword("rotated-yesterday");
        smtp.getJavaMailProperties().put("mail.smtp.auth", "true");
        smtp.setSession(null);
        smtp.closeIdle();
        server.replyAt("AUTH", "535 5.7.8 Authentication credentials invalid");
        try {
            String unique = newTicketId();
            String key = Samples.paymentFailedKey(unique);
            postSignedBilling(Samples.paymentFailed(unique));

            await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, "email").get("state"), state -> List.of("PARKED", "FAILED").contains(state));
            assertThat(delivery(key, "email")).containsEntry("state", "PARKED");
            assertThat(delivery(key, "email").get("reason").toString()).startsWith("email provider unavailable: the mail server refused"
                    + " Herald's login (535 5.7.8 Authentication credentials invalid): check herald.mail.username and herald.mail.password");
            assertThat(server.messagesFor(key)).isZero();

            server.replyAt("AUTH", null);   // the password is fixed
            await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "SENT"));
            assertThat(server.messagesFor(key)).isEqualTo(1);
        } finally {
            smtp.setUsername(null);
            smtp.setPassword(null);
            if (auth == null) {
                smtp.getJavaMailProperties().remove("mail.smtp.auth");
            } else {
                smtp.getJavaMailProperties().put("mail.smtp.auth", auth);
            }
            smtp.setSession(null);
            smtp.closeIdle();
        }
    }

    /**
     * The relay refuses Herald's sender address (553 5.7.1 at MAIL FROM: herald.mail.from is not an address it lets Herald send
     * as) for every email alike: the email is parked with a reason naming herald.mail.from, and goes out once the relay accepts
     * it. It used to fail for good, each email with an alert of its own, to be retried by hand.
     */
    @Test
    void aRefusedSenderAddressParksTheEmailAndItGoesOutOnceTheServerAcceptsIt() throws Exception {
        Breakers.resetAll(camel);
        server.replyAt("MAIL", "553 5.7.1 <notifications@herald.local>: Sender address rejected: not owned by user herald");
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).until(() -> delivery(key, "email").get("state"), state -> List.of("PARKED", "FAILED").contains(state));
        assertThat(delivery(key, "email")).containsEntry("state", "PARKED");
        assertThat(delivery(key, "email").get("reason").toString()).startsWith("email provider unavailable: the mail server refused"
                + " Herald's sender address (553 5.7.1 <n***@herald.local>: Sender address rejected: not owned by user herald): check"
                + " herald.mail.from (HERALD_MAIL_FROM)");
        assertThat(server.messagesFor(key)).isZero();

        server.replyAt("MAIL", null);   // herald.mail.from, or the relay's permitted senders, fixed
        await().atMost(Duration.ofSeconds(45)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "SENT"));
        assertThat(server.messagesFor(key)).isEqualTo(1);
    }

    private CircuitBreaker emailBreaker() {
        for (Route route : camel.getRoutes()) {
            if (route.getRouteId().equals("deliver-email")) {
                for (Processor processor : route.filter("*")) {
                    if (processor instanceof ResilienceProcessor breaker) {
                        return breaker.getCircuitBreaker();
                    }
                }
            }
        }
        throw new AssertionError("no breaker on deliver-email");
    }

    private List<Map<String, Object>> attempts(String key) {
        return jdbc.queryForList("SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email' ORDER BY a.id", key);
    }
}
