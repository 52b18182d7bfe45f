package io.herald.dispatch;

import java.io.OutputStream;
import java.time.Clock;
import java.util.Date;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.config.MailSettings;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.URLName;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.StreamProvider;
import org.apache.camel.component.mail.DefaultJavaMailSender;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;
import org.eclipse.angus.mail.smtp.SMTPTransport;
import org.eclipse.angus.mail.util.MailStreamProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The email channel's SMTP sender (camel-mail {@code javaMailSender=#smtpConnections}): it keeps
 * connections open between messages. camel-mail's own sender connects, greets and quits for every
 * message, which cost ~45 ms per mail against the local SMTP server (more with TLS) and bounded
 * the whole dispatch; a kept connection sends the next message in well under a millisecond.
 *
 * <p>A connection sends at most {@code herald.mail.messages-per-connection} messages, then quits
 * (servers limit that, and it spreads load). As many are kept idle as may send at once
 * ({@code herald.mail.max-in-flight}), so a busy channel does not close and open one per message. One
 * idle for a while is checked with a NOOP before use, and one idle longer than {@link #IDLE_CLOSE_MS}
 * is closed rather than trusted. A connection that fails in any way is closed and never reused; the
 * failure goes to the route's error handling exactly as before (connection trouble is retried, a
 * rejection fails the delivery). Nothing is re-sent here, so the at-most-once rules of the email
 * channel are unchanged.
 *
 * <p>Every connect, read and write has a timeout (herald.mail.connect-timeout-ms, read-timeout-ms,
 * write-timeout-ms), so a hanging server never holds a delivery. The write timeouts of all connections
 * share one timer thread (left to itself, Angus Mail starts a thread for every connection). Once the
 * server has accepted the DATA command the message is being handed over: a failure without an answer
 * from then on (a read timeout waiting for the final 250, a dropped connection) may have left the
 * message delivered, so it is raised as {@link EmailOutcomeUnknown} and the delivery becomes UNCERTAIN, never retried.
 * A failure before DATA, or an explicit refusal after it, is reported as before.
 *
 * <p>A 4xx reply, at any point (421 at the greeting, 450/451/452 at MAIL FROM or RCPT, 451 after the message, 454 at
 * login), means the server did not take the message and asks to be tried later: it is raised as {@link MailServerBusy},
 * which the route retries and then parks like an unreachable provider. A 5xx reply is a refusal and fails the delivery; one
 * about the recipient's address at RCPT is raised as {@link RecipientRefused}, a refusal of this one email; a 5xx refusing
 * Herald's login as {@link MailLoginRefused}, retried and parked like a busy server (it refuses every email alike), and so is
 * a 5xx refusing Herald's own setup, its sender address, mail without a login, relaying or its EHLO name ({@link MailSetupRefused}).
 *
 * <p>herald.mail.tls chooses the encryption: opportunistic (the default) upgrades with STARTTLS when the server offers it,
 * taking any certificate, and sends in clear when it does not (as before the setting existed: an upgrade never stops a relay
 * that worked); starttls upgrades the connection before login and message and refuses a server that does not offer it
 * ({@link StartTlsNotOffered}, parked: nothing was sent in clear); ssl speaks TLS from the start (protocol smtps, whose
 * settings Angus Mail reads under mail.smtps.*); none sends in clear. The server's certificate and host name are checked
 * with starttls and ssl.
 *
 * <p>herald.mail.helo-name, when set, is the name Herald gives in EHLO/HELO (mail.smtp.localhost): relays that demand a fully
 * qualified name (Postfix's reject_non_fqdn_helo_hostname) refuse Angus Mail's own choice, localhost or a pod's short name.
 *
 * <p>Credentials are applied only when {@code herald.mail.username} is set: with a username, even an
 * empty one, JavaMail attempts AUTH, and an open relay or mail catcher then refuses the message.
 */
@Component
public class SmtpConnections extends DefaultJavaMailSender implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(SmtpConnections.class);

    /**
     * jakarta.mail looks up its StreamProvider for every MIME part it creates or writes (several per
     * email) and, unless this property names it, does so by a ServiceLoader scan of every jar on the
     * classpath: ~10% of Herald's CPU under load. Naming Angus Mail's (the one on the classpath) skips
     * the scan. A value set by the operator is kept.
     */
    static {
        if (System.getProperty(StreamProvider.class.getName()) == null) {
            System.setProperty(StreamProvider.class.getName(), MailStreamProvider.class.getName());
        }
    }

    /** Idle longer than this: ask the server (NOOP) whether the connection is still open before using it. */
    static final long CHECK_AFTER_IDLE_MS = 1_000;
    /** Idle longer than this: close it instead (servers drop idle SMTP sessions after a few minutes or less). */
    static final long IDLE_CLOSE_MS = 30_000;

    /** Timeouts when none are configured (the package-private constructor, for tests). */
    static final int DEFAULT_TIMEOUT_MS = 10_000;
    /** Idle connections kept when not configured (the package-private constructors, for tests). */
    static final int DEFAULT_MAX_IDLE = 8;

    private static final class Connection {
        final DataPhaseTransport transport;
        int sent;
        long lastUsed;

        Connection(DataPhaseTransport transport) {
            this.transport = transport;
        }
    }

    private final Deque<Connection> idle = new ConcurrentLinkedDeque<>();
    /** Idle connections kept: as many as may send at once (herald.mail.max-in-flight). */
    private final int maxIdle;
    private final ScheduledThreadPoolExecutor writeTimeouts;
    private final int readTimeoutMs;
    private final int messagesPerConnection;
    /** How long a connection has been idle is read from this clock (a test moves it instead of waiting). */
    private final Clock clock;

    @Autowired
    public SmtpConnections(MailSettings mail) {
        this(mail.host(), mail.port(), mail.tls(), mail.heloName(), mail.username(), mail.password(), mail.messagesPerConnection(),
                mail.maxInFlight(), Clock.systemUTC(), mail.connectTimeoutMs(), mail.readTimeoutMs(), mail.writeTimeoutMs());
    }

    SmtpConnections(String host, int port, String username, String password, int messagesPerConnection, Clock clock) {
        this(host, port, username, password, messagesPerConnection, clock, DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS);
    }

    SmtpConnections(String host, int port, String username, String password, int messagesPerConnection, Clock clock,
                    int connectTimeoutMs, int readTimeoutMs, int writeTimeoutMs) {
        this(host, port, username, password, messagesPerConnection, DEFAULT_MAX_IDLE, clock, connectTimeoutMs, readTimeoutMs, writeTimeoutMs);
    }

    SmtpConnections(String host, int port, String username, String password, int messagesPerConnection, int maxIdle, Clock clock,
                    int connectTimeoutMs, int readTimeoutMs, int writeTimeoutMs) {
        this(host, port, MailSettings.Tls.NONE, username, password, messagesPerConnection, maxIdle, clock, connectTimeoutMs, readTimeoutMs,
                writeTimeoutMs);
    }

    SmtpConnections(String host, int port, MailSettings.Tls tls, String username, String password, int messagesPerConnection, int maxIdle,
                    Clock clock, int connectTimeoutMs, int readTimeoutMs, int writeTimeoutMs) {
        this(host, port, tls, "", username, password, messagesPerConnection, maxIdle, clock, connectTimeoutMs, readTimeoutMs, writeTimeoutMs);
    }

    SmtpConnections(String host, int port, MailSettings.Tls tls, String heloName, String username, String password, int messagesPerConnection,
                    int maxIdle, Clock clock, int connectTimeoutMs, int readTimeoutMs, int writeTimeoutMs) {
        this.clock = clock;
        this.maxIdle = Math.max(1, maxIdle);
        this.writeTimeouts = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "smtp-write-timeouts");
            thread.setDaemon(true);
            return thread;
        });
        this.writeTimeouts.setRemoveOnCancelPolicy(true);   // a timeout is scheduled and cancelled for every write
        this.readTimeoutMs = readTimeoutMs;
        this.messagesPerConnection = Math.max(1, messagesPerConnection);
        // Angus Mail reads each setting under its protocol's name: mail.smtp.* for smtp, mail.smtps.* for smtps.
        String protocol = tls == MailSettings.Tls.SSL ? "smtps" : "smtp";
        String prefix = "mail." + protocol + ".";
        setProtocol(protocol);
        setHost(host);
        setPort(port);
        getJavaMailProperties().put(prefix + "connectiontimeout", String.valueOf(connectTimeoutMs));
        getJavaMailProperties().put(prefix + "timeout", String.valueOf(readTimeoutMs));
        getJavaMailProperties().put(prefix + "writetimeout", String.valueOf(writeTimeoutMs));
        getJavaMailProperties().put(prefix + "executor.writetimeout", writeTimeouts);
        if (!heloName.isBlank()) {
            // the name in EHLO/HELO; left to itself Angus Mail says localhost or the pod's short name, which many relays refuse
            getJavaMailProperties().put(prefix + "localhost", heloName.strip());
        }
        if (tls == MailSettings.Tls.STARTTLS) {
            // required: a server that does not offer STARTTLS gets neither the login nor the message in clear
            getJavaMailProperties().put(prefix + "starttls.enable", "true");
            getJavaMailProperties().put(prefix + "starttls.required", "true");
        }
        if (tls == MailSettings.Tls.OPPORTUNISTIC) {
            getJavaMailProperties().put(prefix + "starttls.enable", "true");
            getJavaMailProperties().put(prefix + "ssl.trust", "*");
            getJavaMailProperties().put(prefix + "ssl.checkserveridentity", "false");
        }
        if (tls == MailSettings.Tls.STARTTLS || tls == MailSettings.Tls.SSL) {
            getJavaMailProperties().put(prefix + "ssl.checkserveridentity", "true");
        }
        if (!username.isBlank()) {
            setUsername(username);
            setPassword(password);
            getJavaMailProperties().put(prefix + "auth", "true");
        }
    }

    /** As camel-mail's sender (sent date, Message-ID kept), but on a kept connection. */
    @Override
    public void send(MimeMessage message) throws MessagingException {
        if (message.getSentDate() == null) {
            message.setSentDate(new Date());
        }
        String messageId = message.getMessageID();
        message.saveChanges();
        if (messageId != null) {
            message.setHeader("Message-ID", messageId);
        }
        Connection connection = borrow();
        connection.transport.dataAccepted = false;
        try {
            connection.transport.sendMessage(message, message.getAllRecipients());
        } catch (MessagingException | RuntimeException e) {
            close(connection);
            if (connection.transport.dataAccepted && !refusedByServer(e)) {
                log.warn("SMTP server accepted DATA and then gave no answer; the message may have been delivered", e);
                throw new EmailOutcomeUnknown("the SMTP server took the message (DATA) but gave no final answer (waited up to "
                        + readTimeoutMs + " ms, herald.mail.read-timeout-ms), so it may have been delivered");
            }
            if (e instanceof MessagingException refused) {
                throwIfBusy(refused);
                RecipientRefused recipient = RecipientRefused.in(refused);
                if (recipient != null) {
                    log.debug("The refusal in full", e);
                    throw recipient;
                }
                throwIfSetupRefused(refused, false);
            }
            throw e;
        }
        connection.sent++;
        connection.lastUsed = clock.millis();
        if (connection.sent >= messagesPerConnection || idle.size() >= maxIdle) {
            close(connection);
        } else {
            idle.offerFirst(connection);
        }
    }

    private Connection borrow() throws MessagingException {
        for (Connection kept = idle.pollFirst(); kept != null; kept = idle.pollFirst()) {
            long idleMs = clock.millis() - kept.lastUsed;
            if (idleMs > IDLE_CLOSE_MS) {
                close(kept);
            } else if (idleMs <= CHECK_AFTER_IDLE_MS || kept.transport.isConnected()) {
                return kept;
            } else {
                close(kept);
            }
        }
        DataPhaseTransport transport = new DataPhaseTransport(getSession(), new URLName(getProtocol(), getHost(), getPort(), null,
                getUsername(), getPassword()), getProtocol());
        try {
            transport.connect(getHost(), getPort(), getUsername(), getPassword());
        } catch (MessagingException e) {
            if (e.getMessage() != null && e.getMessage().contains(STARTTLS_REQUIRED)) {
                log.warn("SMTP server {}:{} does not offer STARTTLS (herald.mail.tls starttls): nothing sent", getHost(), getPort(), e);
                throw new StartTlsNotOffered("the mail server " + getHost() + ":" + getPort() + " does not offer STARTTLS");
            }
            throwIfBusy(e);
            if (e instanceof AuthenticationFailedException) {
                log.warn("SMTP server {}:{} refused Herald's login ({}): nothing sent", getHost(), getPort(), e.getMessage());
                throw MailLoginRefused.of(e.getMessage());
            }
            throwIfSetupRefused(e, transport.greetingRefused);
            throw e;
        }
        return new Connection(transport);
    }

    /** A refusal of Herald's own setup (sender, login, relaying, EHLO name) is thrown as {@link MailSetupRefused}, logged here. */
    private void throwIfSetupRefused(MessagingException e, boolean atGreeting) {
        MailSetupRefused setup = MailSetupRefused.in(e, atGreeting);
        if (setup != null) {
            log.warn("SMTP server {}:{} refused Herald's setup, not this email ({}): nothing sent", getHost(), getPort(),
                    io.herald.logging.Masking.mask(String.valueOf(e.getMessage()).strip()));
            log.debug("The refusal in full", e);
            throw setup;
        }
    }

    /** Angus Mail's words when mail.smtp.starttls.required is set and the server's EHLO lists no STARTTLS. */
    private static final String STARTTLS_REQUIRED = "STARTTLS is required but host does not support STARTTLS";

    /** The greeting Angus Mail refuses: "Got bad greeting from SMTP host: h, port: p, response: 421 ...". */
    private static final Pattern BAD_GREETING = Pattern.compile("Got bad greeting .*response: *(\\d{3}.*)", Pattern.DOTALL);
    /** A reply line as Angus Mail puts it in an exception's message: the code first. */
    private static final Pattern REPLY_LINE = Pattern.compile("^(\\d{3})[ -]");

    /**
     * A refusal whose SMTP replies are all 4xx is thrown as {@link MailServerBusy} (logged here: it carries no cause); anything
     * else, a 5xx among them or no reply at all, is left to the caller to throw as it is.
     */
    private void throwIfBusy(MessagingException e) {
        String firstReply = null;
        boolean onlyTemporary = true;
        for (Exception t = e; t != null; t = t instanceof MessagingException m ? m.getNextException() : null) {
            String reply = replyOf(t);
            if (reply != null) {
                firstReply = firstReply == null ? reply : firstReply;
                onlyTemporary &= reply.startsWith("4");
            }
        }
        if (firstReply == null || !onlyTemporary) {
            return;
        }
        // An expected answer (a greylisting relay gives it to every new sender): its words, without a stack trace per email.
        log.warn("SMTP server {}:{} refused for now ({}): the message was not taken", getHost(), getPort(), firstReply);
        log.debug("The refusal in full", e);
        throw new MailServerBusy(firstReply);
    }

    /** The server's reply line an exception carries (its first line, code first), or null if it carries none. */
    static String replyOf(Exception t) {
        String message = t.getMessage() == null ? "" : t.getMessage().strip();
        Matcher greeting = BAD_GREETING.matcher(message);
        if (greeting.find()) {
            message = greeting.group(1).strip();
        }
        String line = message.lines().findFirst().orElse("").strip();
        int code = t instanceof SMTPSendFailedException sent ? sent.getReturnCode()
                : t instanceof SMTPAddressFailedException address ? address.getReturnCode()
                : t instanceof SMTPSenderFailedException sender ? sender.getReturnCode()
                : REPLY_LINE.matcher(line).find() ? Integer.parseInt(line.substring(0, 3)) : -1;
        if (code < 400 || code > 599) {
            return null;
        }
        return line.startsWith(String.valueOf(code)) ? line : code + " " + line;
    }

    /** The server answered with a reply code (4xx/5xx): a definite refusal, the message was not taken. */
    private static boolean refusedByServer(Exception e) {
        return e instanceof SMTPSendFailedException refused && refused.getReturnCode() >= 400;
    }

    /** An SMTP transport that notes when the server accepted DATA (354): from then on the message is being handed over. */
    static final class DataPhaseTransport extends SMTPTransport {
        volatile boolean dataAccepted;
        /** The server refused Herald's HELO (after its EHLO): the name Herald greets it with, herald.mail.helo-name. */
        volatile boolean greetingRefused;

        /** protocol: smtp, or smtps for TLS from the start (herald.mail.tls ssl); Angus Mail reads mail.&lt;protocol&gt;.* */
        DataPhaseTransport(Session session, URLName url, String protocol) {
            super(session, url, protocol, "smtps".equals(protocol));
        }

        @Override
        protected void helo(String domain) throws MessagingException {
            try {
                super.helo(domain);
            } catch (MessagingException e) {
                greetingRefused = true;
                throw e;
            }
        }

        @Override
        protected OutputStream data() throws MessagingException {
            OutputStream out = super.data();
            dataAccepted = true;
            return out;
        }

        @Override
        protected OutputStream bdat() throws MessagingException {
            OutputStream out = super.bdat();
            dataAccepted = true;
            return out;
        }
    }

    private static void close(Connection connection) {
        try {
            connection.transport.close();
        } catch (MessagingException e) {
            log.debug("closing an SMTP connection failed: {}", e.getMessage());
        }
    }

    /** Closes the connections kept idle; the next message opens a new one (to the host and port set by then). */
    public void closeIdle() {
        for (Connection kept = idle.pollFirst(); kept != null; kept = idle.pollFirst()) {
            close(kept);
        }
    }

    /** Herald stops: the kept connections are closed and the write-timeout timer ends (no more sends after this). */
    @Override
    public void destroy() {
        closeIdle();
        writeTimeouts.shutdownNow();
    }
}
