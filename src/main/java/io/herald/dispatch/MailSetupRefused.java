package io.herald.dispatch;

import java.util.Locale;
import java.util.regex.Pattern;

import io.herald.logging.Masking;
import jakarta.mail.MessagingException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;

/**
 * The SMTP server refused Herald's own setup, not this email: its sender address (herald.mail.from: 553 5.7.1 "Sender address
 * rejected: not owned by user", or another 5xx at MAIL FROM about the sender), mail without a login (530 5.7.0 "Authentication
 * required": herald.mail.username is empty), relaying for Herald (554 5.7.1 "Relay access denied" at RCPT: Herald's address
 * is not among the relay's permitted networks), unencrypted mail (530 "Must issue a STARTTLS command first") or the name Herald
 * greets it with (504 5.5.2 "Helo command rejected: need fully-qualified hostname", at EHLO/HELO or, from a Postfix that delays
 * its refusals, at RCPT). Each refuses every email alike, as a refused login does ({@link MailLoginRefused}): nothing was
 * taken, so the email route retries and then parks it (routes/error-handling.camel.yaml, provider-unreachable), counted by the
 * email breaker, and the parked emails go out once the setting is fixed, instead of each failing for good with an alert of
 * its own; after the last park it is FAILED with this reason, as any parked delivery. A recipient the server refuses
 * ({@link RecipientRefused}) and a refusal of the message after DATA are not these. The message is the delivery's reason:
 * the server's words masked, and the setting to fix. No cause, for the same reason as {@link MailServerBusy}.
 */
public class MailSetupRefused extends RuntimeException {

    /** Also the reason of a delivery FAILED after its last park: so it promises nothing about sending later. */
    private static final String NOTHING_SENT = "; nothing was sent";

    private static final Pattern HELO = Pattern.compile("(?i)\\b(helo|ehlo)\\b");
    private static final Pattern SENDER = Pattern.compile("(?i)sender address rejected|not owned by user|sender .*not (allowed|permitted)");
    private static final Pattern STARTTLS_FIRST = Pattern.compile("(?i)starttls");
    private static final Pattern LOGIN_REQUIRED = Pattern.compile("(?i)^530[ -]|^5\\d\\d[ -]5\\.7\\.0\\b.*auth|authentication required"
            + "|must authenticate|login required");
    private static final Pattern RELAY = Pattern.compile("(?i)relay(ing)? (access )?(denied|not permitted|prohibited|not allowed)"
            + "|not permitted to relay|unable to relay|relay not permitted");
    /** At MAIL FROM, a 5xx about the sender: 550/553/554, or an enhanced 5.1.x/5.7.x (not 552 for the size, nor 5.5.x syntax). */
    private static final Pattern ABOUT_THE_SENDER = Pattern.compile("^(55[034]|5\\d\\d[ -]5\\.[17]\\.\\d{1,3})(?![\\d])");

    MailSetupRefused(String reason) {
        super(reason);
    }

    /**
     * The refusal of Herald's own setup in this failure, or null when it holds none. {@code atGreeting}: the server refused
     * Herald's EHLO and HELO (the connection's greeting), whatever its words.
     */
    static MailSetupRefused in(MessagingException e, boolean atGreeting) {
        for (Exception t = e; t != null; t = t instanceof MessagingException m ? m.getNextException() : null) {
            String reply = SmtpConnections.replyOf(t);
            if (reply == null || !reply.startsWith("5")) {
                continue;
            }
            String said = " (" + ProviderErrors.quoted(Masking.mask(reply), 300) + ")";
            String command = t instanceof SMTPSendFailedException sent ? sent.getCommand()
                    : t instanceof SMTPSenderFailedException sender ? sender.getCommand() : null;
            boolean atMailFrom = t instanceof SMTPSenderFailedException
                    || command != null && command.toUpperCase(Locale.ROOT).startsWith("MAIL FROM");
            if (atGreeting || HELO.matcher(reply).find()) {
                return new MailSetupRefused("the mail server refused Herald's greeting name" + said + ": set herald.mail.helo-name"
                        + " (HERALD_MAIL_HELO_NAME) to this machine's fully qualified name, e.g. herald.example.com, one the relay"
                        + " accepts" + NOTHING_SENT);
            }
            if (STARTTLS_FIRST.matcher(reply).find()) {
                return new MailSetupRefused("the mail server refused Herald's mail without encryption" + said + ": set herald.mail.tls"
                        + " to starttls (port 587) or ssl (port 465)" + NOTHING_SENT);
            }
            if (LOGIN_REQUIRED.matcher(reply).find()) {
                return new MailSetupRefused("the mail server refused Herald's mail without a login" + said + ": set"
                        + " herald.mail.username and herald.mail.password (HERALD_MAIL_USERNAME, HERALD_MAIL_PASSWORD) to the relay's"
                        + " account, with herald.mail.tls starttls or ssl" + NOTHING_SENT);
            }
            if (RELAY.matcher(reply).find()) {
                return new MailSetupRefused("the mail server refused to relay Herald's mail" + said + ": the relay must let Herald"
                        + " send, by its permitted senders or networks (Postfix mynetworks: Herald's address), or by a login it accepts"
                        + " (herald.mail.username and herald.mail.password)" + NOTHING_SENT);
            }
            if (SENDER.matcher(reply).find() || atMailFrom && ABOUT_THE_SENDER.matcher(reply).find()) {
                return new MailSetupRefused("the mail server refused Herald's sender address" + said + ": check herald.mail.from"
                        + " (HERALD_MAIL_FROM): it must be an address the relay lets Herald send as (with a login, one that login"
                        + " owns)" + NOTHING_SENT);
            }
        }
        return null;
    }
}
