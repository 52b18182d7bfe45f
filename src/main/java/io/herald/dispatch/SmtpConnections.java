package io.herald.dispatch;

import java.time.Clock;
import java.util.Date;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;

import jakarta.mail.MessagingException;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.StreamProvider;
import org.apache.camel.component.mail.DefaultJavaMailSender;
import org.eclipse.angus.mail.util.MailStreamProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The email channel's SMTP sender (camel-mail {@code javaMailSender=#smtpConnections}): it keeps
 * connections open between messages. camel-mail's own sender connects, greets and quits for every
 * message, which cost ~45 ms per mail against the local SMTP server (more with TLS) and bounded
 * the whole dispatch; a kept connection sends the next message in well under a millisecond.
 *
 * <p>A connection sends at most {@code herald.mail.messages-per-connection} messages, then quits
 * (servers limit that, and it spreads load). One idle for a while is checked with a NOOP before
 * use, and one idle longer than {@link #IDLE_CLOSE_MS} is closed rather than trusted. A connection
 * that fails in any way is closed and never reused; the failure goes to the route's error handling
 * exactly as before (connection trouble is retried, a rejection fails the delivery). Nothing is
 * re-sent here, so the at-most-once rules of the email channel are unchanged.
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
    /** Connect and read timeout, as the smtp endpoint had (connectionTimeout=10000). */
    static final int TIMEOUT_MS = 10_000;
    /** Idle connections kept; more concurrent sends open more, and close them afterwards. */
    static final int MAX_IDLE = 8;

    private static final class Connection {
        final Transport transport;
        int sent;
        long lastUsed;

        Connection(Transport transport) {
            this.transport = transport;
        }
    }

    private final Deque<Connection> idle = new ConcurrentLinkedDeque<>();
    private final int messagesPerConnection;
    /** How long a connection has been idle is read from this clock (a test moves it instead of waiting). */
    private final Clock clock;

    @Autowired
    public SmtpConnections(@Value("${herald.mail.host}") String host,
                           @Value("${herald.mail.port}") int port,
                           @Value("${herald.mail.username:}") String username,
                           @Value("${herald.mail.password:}") String password,
                           @Value("${herald.mail.messages-per-connection:100}") int messagesPerConnection) {
        this(host, port, username, password, messagesPerConnection, Clock.systemUTC());
    }

    SmtpConnections(String host, int port, String username, String password, int messagesPerConnection, Clock clock) {
        this.clock = clock;
        this.messagesPerConnection = Math.max(1, messagesPerConnection);
        setProtocol("smtp");
        setHost(host);
        setPort(port);
        getJavaMailProperties().put("mail.smtp.connectiontimeout", String.valueOf(TIMEOUT_MS));
        getJavaMailProperties().put("mail.smtp.timeout", String.valueOf(TIMEOUT_MS));
        if (!username.isBlank()) {
            setUsername(username);
            setPassword(password);
            getJavaMailProperties().put("mail.smtp.auth", "true");
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
        try {
            connection.transport.sendMessage(message, message.getAllRecipients());
        } catch (MessagingException | RuntimeException e) {
            close(connection);
            throw e;
        }
        connection.sent++;
        connection.lastUsed = clock.millis();
        if (connection.sent >= messagesPerConnection || idle.size() >= MAX_IDLE) {
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
        Transport transport = getSession().getTransport(getProtocol());
        transport.connect(getHost(), getPort(), getUsername(), getPassword());
        return new Connection(transport);
    }

    private static void close(Connection connection) {
        try {
            connection.transport.close();
        } catch (MessagingException e) {
            log.debug("closing an SMTP connection failed: {}", e.getMessage());
        }
    }

    @Override
    public void destroy() {
        for (Connection kept = idle.pollFirst(); kept != null; kept = idle.pollFirst()) {
            close(kept);
        }
    }
}
