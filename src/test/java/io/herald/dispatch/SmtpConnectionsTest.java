package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.net.SocketTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.herald.config.MailSettings;
import io.herald.testsupport.ScriptedSmtpServer;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kept SMTP connections: every mail arrives, and a connection the server dropped while idle is not used. A server's 4xx
 * ("try again later") is MailServerBusy, retried and parked by the route, where a 5xx is a refusal; herald.mail.tls ssl
 * sends over TLS, and starttls sends nothing to a server that does not offer STARTTLS.
 */
class SmtpConnectionsTest {

    private GreenMail server;
    private SmtpConnections sender;
    /** The sender's clock: moved forward instead of waiting for a connection to become idle. */
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final Clock clock = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now.get());
        }
    };

    @BeforeEach
    void start() {
        server = new GreenMail(patient(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort()));
        server.start();
        sender = new SmtpConnections("127.0.0.1", server.getSmtp().getPort(), "", "", 2, clock);
    }

    @AfterEach
    void stop() {
        sender.destroy();
        server.stop();
    }

    @Test
    void everyMailArrivesOnKeptConnections() throws Exception {
        for (int i = 0; i < 5; i++) {
            sender.send(mail("mail " + i));
        }
        assertThat(server.getReceivedMessages()).extracting(MimeMessage::getSubject)
                .containsExactly("mail 0", "mail 1", "mail 2", "mail 3", "mail 4");
    }

    @Test
    void aConnectionTheServerDroppedWhileIdleIsReplacedBeforeSending() throws Exception {
        sender.send(mail("before"));
        int port = server.getSmtp().getPort();
        server.stop();   // drops the kept connection
        server = new GreenMail(patient(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP)));
        server.start();
        now.addAndGet(SmtpConnections.CHECK_AFTER_IDLE_MS + 200);

        sender.send(mail("after"));

        assertThat(server.getReceivedMessages()).extracting(MimeMessage::getSubject).containsExactly("after");
    }

    @Test
    void noAnswerAfterDataIsAnUnknownOutcomeAndNoAnswerBeforeItIsAnOrdinaryFailure() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections timed = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 500, 2000);
            try {
                // Silent before DATA: nothing was handed over, an ordinary I/O failure the route retries.
                scripted.silentAt("RCPT");
                assertThatThrownBy(() -> timed.send(mail("before data"))).isInstanceOf(MessagingException.class)
                        .hasRootCauseInstanceOf(SocketTimeoutException.class);
                assertThat(scripted.messages()).isZero();

                // Silent after the message: it may have been delivered.
                scripted.silentAt(null);
                scripted.finalReply(null);
                assertThatThrownBy(() -> timed.send(mail("after data"))).isInstanceOf(EmailOutcomeUnknown.class)
                        .hasNoCause().hasMessageContaining("took the message (DATA) but gave no final answer");
                assertThat(scripted.messages()).isEqualTo(1);

                // A refusal after DATA is a definite answer, and the next message goes out on a fresh connection.
                scripted.finalReply("554 5.7.1 rejected");
                assertThatThrownBy(() -> timed.send(mail("refused"))).isInstanceOf(MessagingException.class)
                        .hasMessageContaining("554 5.7.1 rejected");
                scripted.finalReply("250 2.0.0 queued");
                timed.send(mail("accepted"));
                assertThat(scripted.messages()).isEqualTo(3);
            } finally {
                timed.destroy();
            }
        }
    }

    @Test
    void asManyConnectionsAreKeptAsMaySendAtOnceSoABusyChannelDoesNotReconnectPerMessage() throws Exception {
        int inFlight = 16;
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections busy = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, inFlight, clock, 2000, 2000, 2000);
            ExecutorService senders = Executors.newFixedThreadPool(inFlight);
            try {
                CyclicBarrier together = new CyclicBarrier(inFlight);
                List<Future<?>> sent = new ArrayList<>();
                for (int s = 0; s < inFlight; s++) {
                    int sender = s;
                    sent.add(senders.submit(() -> {
                        for (int round = 0; round < 4; round++) {
                            together.await();   // all of them send at the same moment, four times
                            busy.send(mail("sender " + sender + " round " + round));
                        }
                        return null;
                    }));
                }
                for (Future<?> each : sent) {
                    each.get(60, TimeUnit.SECONDS);
                }
                assertThat(scripted.messages()).isEqualTo(4 * inFlight);
                assertThat(scripted.sessions()).as("connections opened for 4 rounds of %d mails at once", inFlight)
                        .isLessThanOrEqualTo(inFlight);
            } finally {
                senders.shutdownNow();
                busy.destroy();
            }
        }
    }

    @Test
    void aServerThatStopsReadingMidMessageIsGivenUpOnWithinTheWriteTimeout() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            scripted.deafAtData();
            SmtpConnections timed = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 500);
            try {
                MimeMessage large = mail("larger than the socket buffers");
                large.setText("x".repeat(64 * 1024 * 1024));
                // The server took DATA and then nothing: the message may have been handed over in part, so UNCERTAIN.
                assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThatThrownBy(() -> timed.send(large))
                        .isInstanceOf(EmailOutcomeUnknown.class));
            } finally {
                timed.destroy();
            }
        }
    }

    @Test
    void aServerThatRefusesForNowWithA4xxIsBusyAndNothingWasTaken() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                // 421 at the greeting: Angus Mail's plain MessagingException "Got bad greeting ... response: 421 ..."
                scripted.greeting("421 4.3.2 Service not available, closing transmission channel");
                assertThatThrownBy(() -> relay.send(mail("greeting"))).isInstanceOf(MailServerBusy.class).hasNoCause()
                        .satisfies(busy -> assertThat(ProviderErrors.readable(busy)).isEqualTo("the mail server refused for now: 421 4.3.2"
                                + " Service not available, closing transmission channel; nothing was taken, so it is tried again"));
                scripted.greeting("220 scripted ESMTP");

                // 451 at RCPT (a greylisting relay), 452 at MAIL FROM, 451 after the message: all "not taken, try later".
                scripted.replyAt("RCPT", "451 4.7.1 Try again later");
                assertThatThrownBy(() -> relay.send(mail("rcpt"))).isInstanceOf(MailServerBusy.class).hasNoCause()
                        .hasMessage("451 4.7.1 Try again later");
                scripted.replyAt("RCPT", null);
                scripted.replyAt("MAIL", "452 4.3.1 Insufficient system storage");
                assertThatThrownBy(() -> relay.send(mail("mail from"))).isInstanceOf(MailServerBusy.class)
                        .hasMessage("452 4.3.1 Insufficient system storage");
                scripted.replyAt("MAIL", null);
                assertThat(scripted.messages()).isZero();
                scripted.finalReply("451 4.3.0 Temporary queue failure");
                assertThatThrownBy(() -> relay.send(mail("after data"))).isInstanceOf(MailServerBusy.class)
                        .hasMessage("451 4.3.0 Temporary queue failure");

                // A 5xx is a refusal: not busy, and its reason is the server's answer (the greeting's too).
                scripted.finalReply("250 2.0.0 queued");
                scripted.replyAt("RCPT", "550 5.1.1 No such user");
                assertThatThrownBy(() -> relay.send(mail("unknown user"))).isInstanceOf(RecipientRefused.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused))
                                .startsWith("the mail server refused the recipient s***@example.net (550 5.1.1 No such user), so nothing was sent."));
                scripted.replyAt("RCPT", null);
                scripted.greeting("554 5.7.1 No SMTP service for you");
                assertThatThrownBy(() -> relay.send(mail("refused greeting"))).isInstanceOf(MessagingException.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused))
                                .isEqualTo("the mail server answered 554 5.7.1 No SMTP service for you"));
                scripted.greeting("220 scripted ESMTP");

                relay.send(mail("accepted"));
                assertThat(scripted.messages()).isEqualTo(2);   // the one refused for now after DATA, and this one
            } finally {
                relay.destroy();
            }
        }
    }

    /**
     * A recipient the server refuses (5xx at RCPT: no such mailbox, a domain that takes no mail): a refusal of this one email,
     * not of the server. Its reason names the address masked, as every reason does (the server's reply quotes it in full), and
     * says what to do; a refusal after DATA that quotes the address is masked too.
     */
    @Test
    void aRefusedRecipientIsNamedMaskedWithWhatToDo() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                scripted.replyAt("RCPT", "550 5.1.1 <someone@example.net>: Recipient address rejected: User unknown in virtual mailbox table");
                assertThatThrownBy(() -> relay.send(mail("gone"))).isInstanceOf(RecipientRefused.class).hasNoCause()
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server refused the"
                                + " recipient s***@example.net (550 5.1.1 <s***@example.net>: Recipient address rejected: User unknown in"
                                + " virtual mailbox table), so nothing was sent. Check the address with the customer (the server's words"
                                + " say why: no such mailbox, or a full or disabled one) and correct it in the CRM if it is wrong (its"
                                + " contact change updates Herald's directory), then retry this delivery"));
                assertThat(scripted.messages()).isZero();

                // A full mailbox (5.2.2) at RCPT: the address is right; the customer has to make room, or be reached elsewhere.
                scripted.replyAt("RCPT", "552 5.2.2 <someone@example.net>: Mailbox full");
                assertThatThrownBy(() -> relay.send(mail("full"))).isInstanceOf(RecipientRefused.class).hasNoCause()
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server refused the"
                                + " recipient s***@example.net (552 5.2.2 <s***@example.net>: Mailbox full), so nothing was sent. The"
                                + " customer's mailbox is full: ask them to make room in it (or reach them on another channel), then retry"
                                + " this delivery"));

                scripted.replyAt("RCPT", null);
                scripted.finalReply("554 5.7.1 <someone@example.net>: message rejected as spam");
                assertThatThrownBy(() -> relay.send(mail("spam?"))).isInstanceOf(MessagingException.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email"))
                                .isEqualTo("the mail server answered 554 5.7.1 <s***@example.net>: message rejected as spam"));
            } finally {
                relay.destroy();
            }
        }
    }

    /**
     * The Message-ID's right-hand side is herald.mail.from's domain as DNS writes it: lower case, without the display name, and
     * an internationalised domain (IDN) in its ASCII form (xn--…), as a Message-ID is ASCII; only an address with no usable
     * domain falls back to localhost.
     */
    @Test
    void theMessageIdEndsInTheSendersDomainAsDnsWritesIt() {
        assertThat(EmailMessage.domainOf("\"Herald, Inc\" <Notifications@Example.COM>")).isEqualTo("example.com");
        assertThat(EmailMessage.domainOf("Bücher Shop <info@bücher.de>")).isEqualTo("xn--bcher-kva.de");
        assertThat(EmailMessage.domainOf("Bücher Shop <info@BÜCHER.de>")).isEqualTo("xn--bcher-kva.de");
        assertThat(EmailMessage.domainOf("Shop <info@xn--bcher-kva.de>")).isEqualTo("xn--bcher-kva.de");
        assertThat(EmailMessage.domainOf("notifications")).isEqualTo("localhost");
    }

    /**
     * SMTP 552 (RFC 5321: exceeded storage allocation): the email is larger than the server takes (RFC 3463 5.3.4, 5.2.3), or
     * the customer's mailbox is full (5.2.2). Its reason says what to do, as the other SMTP refusals do, with the server's words
     * masked; a 552 at RCPT without an enhanced code says both.
     */
    @Test
    void a552SaysWhatToDoForAMessageTooLargeOrAFullMailbox() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                scripted.finalReply("552 5.3.4 Message size exceeds fixed maximum message size");
                assertThatThrownBy(() -> relay.send(mail("too large"))).isInstanceOf(MessagingException.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server answered"
                                + " 552 5.3.4 Message size exceeds fixed maximum message size: the email is larger than the mail server"
                                + " accepts, so it was not delivered. Shorten this type's email templates (or raise the mail server's"
                                + " message size limit), then retry this delivery"));

                scripted.finalReply("552 5.2.2 <someone@example.net>: Recipient address rejected: mailbox full");
                assertThatThrownBy(() -> relay.send(mail("full"))).isInstanceOf(MessagingException.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server answered"
                                + " 552 5.2.2 <s***@example.net>: Recipient address rejected: mailbox full: the customer's mailbox is full,"
                                + " so it was not delivered. Ask the customer to make room in it (or reach them on another channel),"
                                + " then retry this delivery"));

                // Gmail's 552 5.7.0 blocks the email for its content (a link or attachment it distrusts): neither its size nor
                // a full mailbox, so the reason gives neither advice, only the server's words.
                scripted.finalReply("552 5.7.0 This message was blocked because its content presents a potential security issue");
                assertThatThrownBy(() -> relay.send(mail("blocked"))).isInstanceOf(MessagingException.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server answered"
                                + " 552 5.7.0 This message was blocked because its content presents a potential security issue"));

                scripted.finalReply("250 2.0.0 queued");
                scripted.replyAt("RCPT", "552 Requested mail action aborted: exceeded storage allocation");
                assertThatThrownBy(() -> relay.send(mail("storage"))).isNotInstanceOf(RecipientRefused.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server answered"
                                + " 552 Requested mail action aborted: exceeded storage allocation: the email is larger than the mail"
                                + " server accepts, or the customer's mailbox is full, so it was not delivered. If the server's words"
                                + " speak of the size, shorten this type's email templates (or raise the mail server's message size"
                                + " limit); if of the mailbox, ask the customer to make room in it; then retry this delivery"));
            } finally {
                relay.destroy();
            }
        }
    }

    /**
     * A 5xx at RCPT about Herald's own sender address (RFC 3463 X.1.7 and X.1.8: Postfix answers its sender checks at RCPT,
     * "Sender address rejected: Domain not found" when herald.mail.from's domain has no DNS) is not the customer's address:
     * every email is refused alike. It must not be read as a refused recipient, whose reason tells the operator to check the
     * customer's address with the customer and which never counts against the email breaker.
     */
    @Test
    void aSenderAddressRefusedAtRcptIsNotTheRecipientsFault() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                scripted.replyAt("RCPT", "550 5.1.8 <notifications@herald.local>: Sender address rejected: Domain not found");
                // Herald's own setup (herald.mail.from), refused for every email alike: parked, not failed (MailSetupRefused).
                assertThatThrownBy(() -> relay.send(mail("from a domain without DNS"))).isInstanceOf(MailSetupRefused.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email"))
                                .startsWith("the mail server refused Herald's sender address (550 5.1.8 <n***@herald.local>: Sender address"
                                        + " rejected: Domain not found): check herald.mail.from"));
                scripted.replyAt("RCPT", "553 5.1.7 <notifications@herald.local>: the sender address is invalid");
                assertThatThrownBy(() -> relay.send(mail("bad sender syntax"))).isNotInstanceOf(RecipientRefused.class);
                assertThat(scripted.messages()).isZero();
            } finally {
                relay.destroy();
            }
        }
    }

    /**
     * A relay that refuses to relay for Herald answers at RCPT too, and servers without enhanced status codes say so in words
     * only (qmail: "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"; Exim: "550 relay not permitted"):
     * every email is refused alike, for Herald's configuration, not for the customer's address.
     */
    @Test
    void aRelayRefusalWithoutEnhancedCodeIsNotTheRecipientsFault() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                scripted.replyAt("RCPT", "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)");
                assertThatThrownBy(() -> relay.send(mail("qmail"))).isNotInstanceOf(RecipientRefused.class)
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email"))
                                .isEqualTo("the mail server answered 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"));
                scripted.replyAt("RCPT", "550 relay not permitted");
                assertThatThrownBy(() -> relay.send(mail("exim"))).isNotInstanceOf(RecipientRefused.class);
                scripted.replyAt("RCPT", "550 Requested action not taken: mailbox unavailable");
                assertThatThrownBy(() -> relay.send(mail("no such mailbox"))).isInstanceOf(RecipientRefused.class);
                assertThat(scripted.messages()).isZero();
            } finally {
                relay.destroy();
            }
        }
    }

    /**
     * The server refuses Herald's login (535 5.7.8: a rotated or mistyped herald.mail.password): it refuses every email alike,
     * like an HTTP provider's 401 refusing Herald's credentials. Nothing was taken; it is MailLoginRefused, which the route
     * retries and parks, so the emails go out once the login is fixed, instead of each failing for good with an alert of its own.
     */
    @Test
    void aLoginTheServerRefusesIsHeraldsCredentialsNotTheEmailAndTheReasonSaysWhatToSet() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            scripted.replyAt("AUTH", "535 5.7.8 Authentication credentials invalid");
            SmtpConnections withLogin = new SmtpConnections("127.0.0.1", scripted.port(), MailSettings.Tls.NONE, "herald", "rotated",
                    100, 8, clock, 2000, 2000, 2000);
            try {
                assertThatThrownBy(() -> withLogin.send(mail("login refused"))).isInstanceOf(MailLoginRefused.class).hasNoCause()
                        .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).isEqualTo("the mail server refused"
                                + " Herald's login (535 5.7.8 Authentication credentials invalid): check herald.mail.username and"
                                + " herald.mail.password (HERALD_MAIL_USERNAME, HERALD_MAIL_PASSWORD); nothing was sent"));
                assertThat(scripted.messages()).isZero();
            } finally {
                withLogin.destroy();
            }
        }
    }

    /**
     * Refusals of Herald's own setup, not of the email: the sender (herald.mail.from), mail without a login, relaying for Herald,
     * the EHLO name, at whichever command the server says it (Postfix delays its refusals to RCPT). Each refuses every email
     * alike: MailSetupRefused, retried and parked by the route like a refused login, its reason naming what to fix. A recipient
     * the server refuses and a refusal after DATA stay what they were.
     */
    @Test
    void refusalsOfHeraldsOwnSetupAreNotTheEmailsAndTheReasonSaysWhatToSet() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections relay = new SmtpConnections("127.0.0.1", scripted.port(), "", "", 100, clock, 2000, 2000, 2000);
            try {
                scripted.replyAt("MAIL", "553 5.7.1 <notifications@herald.local>: Sender address rejected: not owned by user herald");
                assertSetupRefused(relay, "the mail server refused Herald's sender address (553 5.7.1 <n***@herald.local>: Sender address"
                        + " rejected: not owned by user herald): check herald.mail.from (HERALD_MAIL_FROM): it must be an address the"
                        + " relay lets Herald send as (with a login, one that login owns); nothing was sent");
                scripted.replyAt("MAIL", "550 5.7.1 Client does not have permissions to send as this sender");
                assertSetupRefused(relay, "the mail server refused Herald's sender address (550 5.7.1 Client does not have permissions"
                        + " to send as this sender): check herald.mail.from");
                scripted.replyAt("MAIL", "530 5.7.0 Authentication required");
                assertSetupRefused(relay, "the mail server refused Herald's mail without a login (530 5.7.0 Authentication required):"
                        + " set herald.mail.username and herald.mail.password (HERALD_MAIL_USERNAME, HERALD_MAIL_PASSWORD)");
                scripted.replyAt("MAIL", null);

                scripted.replyAt("RCPT", "554 5.7.1 <someone@example.net>: Relay access denied");
                assertSetupRefused(relay, "the mail server refused to relay Herald's mail (554 5.7.1 <s***@example.net>: Relay access"
                        + " denied): the relay must let Herald send, by its permitted senders or networks (Postfix mynetworks: Herald's"
                        + " address), or by a login it accepts (herald.mail.username and herald.mail.password)");
                scripted.replyAt("RCPT", "553 5.7.1 <notifications@herald.local>: Sender address rejected: not owned by user herald");
                assertSetupRefused(relay, "the mail server refused Herald's sender address (553 5.7.1");
                scripted.replyAt("RCPT", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname");
                assertSetupRefused(relay, "the mail server refused Herald's greeting name (504 5.5.2 <localhost>: Helo command rejected:"
                        + " need fully-qualified hostname): set herald.mail.helo-name (HERALD_MAIL_HELO_NAME) to this machine's fully"
                        + " qualified name, e.g. herald.example.com");
                scripted.replyAt("RCPT", null);

                scripted.replyAt("EHLO", "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname");
                scripted.replyAt("HELO", "501 5.5.2 Syntax: HELO hostname");
                assertSetupRefused(relay, "the mail server refused Herald's greeting name (501 5.5.2 Syntax: HELO hostname): set"
                        + " herald.mail.helo-name");
                scripted.replyAt("EHLO", null);
                scripted.replyAt("HELO", null);
                assertThat(scripted.messages()).isZero();

                // Still refusals of this one email: the recipient, and the message after DATA.
                scripted.replyAt("RCPT", "550 5.1.1 No such user");
                assertThatThrownBy(() -> relay.send(mail("unknown user"))).isInstanceOf(RecipientRefused.class);
                scripted.replyAt("RCPT", null);
                scripted.finalReply("554 5.7.1 message rejected as spam");
                assertThatThrownBy(() -> relay.send(mail("spam?"))).isNotInstanceOf(MailSetupRefused.class)
                        .isInstanceOf(MessagingException.class);
                scripted.finalReply("250 2.0.0 queued");
                relay.send(mail("accepted"));
            } finally {
                relay.destroy();
            }
        }
    }

    private void assertSetupRefused(SmtpConnections relay, String reason) {
        assertThatThrownBy(() -> relay.send(mail("refused"))).isInstanceOf(MailSetupRefused.class).hasNoCause()
                .satisfies(refused -> assertThat(ProviderErrors.readable(refused, "email")).startsWith(reason));
    }

    /**
     * herald.mail.helo-name is the name Herald gives in EHLO: relays that demand a fully qualified one (Postfix's
     * reject_non_fqdn_helo_hostname) refused Angus Mail's own choice (localhost, a pod's short name), and with it every email.
     */
    @Test
    void theEhloGreetingCarriesTheConfiguredHeloName() throws Exception {
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections named = new SmtpConnections("127.0.0.1", scripted.port(), MailSettings.Tls.NONE, "herald.example.com", "", "",
                    100, 8, clock, 2000, 2000, 2000);
            try {
                named.send(mail("from a named host"));
                assertThat(scripted.commands()).contains("EHLO herald.example.com");
                assertThat(scripted.messages()).isEqualTo(1);
            } finally {
                named.destroy();
            }
        }
    }

    @Test
    void withTlsSslTheMailGoesOverSmtps() throws Exception {
        GreenMail smtps = new GreenMail(patient(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS).dynamicPort()));
        smtps.start();
        SmtpConnections tls = new SmtpConnections("127.0.0.1", smtps.getSmtps().getPort(), MailSettings.Tls.SSL, "", "", 100, 8, clock,
                5000, 5000, 5000);
        try {
            assertThat(tls.getProtocol()).isEqualTo("smtps");
            // Angus Mail reads the smtps protocol's settings under mail.smtps.*
            assertThat(tls.getJavaMailProperties()).containsEntry("mail.smtps.timeout", "5000")
                    .containsEntry("mail.smtps.ssl.checkserveridentity", "true").doesNotContainKey("mail.smtp.timeout");
            tls.getJavaMailProperties().put("mail.smtps.ssl.trust", "127.0.0.1");   // GreenMail's self-signed certificate
            // It names no host ("GreenMail selfsigned Test Certificate"): the host name check refuses it, as it would a real
            // server's certificate issued for another name. Nothing is sent.
            assertThatThrownBy(() -> tls.send(mail("to the wrong name"))).isInstanceOf(MessagingException.class)
                    .hasRootCauseMessage("No subject alternative names present");
            assertThat(smtps.getReceivedMessages()).isEmpty();

            tls.getJavaMailProperties().put("mail.smtps.ssl.checkserveridentity", "false");   // this test's server only
            tls.setSession(null);
            tls.send(mail("over tls"));
            tls.send(mail("over tls, kept connection"));
            assertThat(smtps.getReceivedMessages()).extracting(MimeMessage::getSubject)
                    .containsExactly("over tls", "over tls, kept connection");
        } finally {
            tls.destroy();
            smtps.stop();
        }
    }

    @Test
    void withTlsStarttlsAServerWithoutStarttlsGetsNothingAndTheReasonSaysWhatToSet() throws Exception {
        SmtpConnections starttls = new SmtpConnections("127.0.0.1", server.getSmtp().getPort(), MailSettings.Tls.STARTTLS, "", "", 100, 8,
                clock, 5000, 5000, 5000);
        try {
            assertThat(starttls.getJavaMailProperties()).containsEntry("mail.smtp.starttls.enable", "true")
                    .containsEntry("mail.smtp.starttls.required", "true").containsEntry("mail.smtp.ssl.checkserveridentity", "true");
            assertThatThrownBy(() -> starttls.send(mail("in clear?"))).isInstanceOf(StartTlsNotOffered.class).hasNoCause()
                    .satisfies(refused -> assertThat(ProviderErrors.readable(refused))
                            .startsWith("the mail server 127.0.0.1:" + server.getSmtp().getPort() + " does not offer STARTTLS")
                            .contains("nothing was sent", "herald.mail.port", "587", "herald.mail.tls to ssl", "465", "to none"));
            assertThat(server.getReceivedMessages()).isEmpty();
        } finally {
            starttls.destroy();
        }
        // With a login: neither the login nor the message is sent in clear; the server sees only EHLO.
        try (ScriptedSmtpServer scripted = new ScriptedSmtpServer()) {
            SmtpConnections withLogin = new SmtpConnections("127.0.0.1", scripted.port(), MailSettings.Tls.STARTTLS, "herald", "secret",
                    100, 8, clock, 2000, 2000, 2000);
            try {
                assertThatThrownBy(() -> withLogin.send(mail("in clear?"))).isInstanceOf(StartTlsNotOffered.class);
                assertThat(scripted.commands()).noneMatch(command -> command.toUpperCase().matches("(AUTH|MAIL|RCPT|DATA).*"));
                assertThat(scripted.messages()).isZero();
            } finally {
                withLogin.destroy();
            }
        }
    }

    /**
     * The default, opportunistic: a relay without STARTTLS (as Herald always sent to before herald.mail.tls) still gets the
     * mail, in clear; one that offers it would be asked to upgrade, its certificate taken as it is.
     */
    @Test
    void withTlsOpportunisticARelayWithoutStarttlsStillGetsTheMail() throws Exception {
        SmtpConnections opportunistic = new SmtpConnections("127.0.0.1", server.getSmtp().getPort(), MailSettings.Tls.OPPORTUNISTIC, "", "",
                100, 8, clock, 5000, 5000, 5000);
        try {
            assertThat(opportunistic.getJavaMailProperties()).containsEntry("mail.smtp.starttls.enable", "true")
                    .containsEntry("mail.smtp.ssl.trust", "*").doesNotContainKey("mail.smtp.starttls.required");
            opportunistic.send(mail("as before"));
            assertThat(server.getReceivedMessages()).extracting(MimeMessage::getSubject).containsExactly("as before");
        } finally {
            opportunistic.destroy();
        }
    }

    private MimeMessage mail(String subject) throws Exception {
        MimeMessage message = new MimeMessage(sender.getSession());
        message.setFrom(new InternetAddress("notifications@herald.local"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress("someone@example.net"));
        message.setSubject(subject);
        message.setText("text");
        return message;
    }

    /**
     * GreenMail gives a server 2 s to start; its SMTPS server (a TLS context built first) took longer twice in four runs on
     * a loaded machine and the test failed before reaching Herald's code.
     */
    private static ServerSetup patient(ServerSetup setup) {
        setup.setServerStartupTimeout(30_000);
        return setup;
    }
}
