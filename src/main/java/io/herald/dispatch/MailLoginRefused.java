package io.herald.dispatch;

/**
 * The SMTP server refused Herald's login (535 5.7.8 at AUTH: a rotated or mistyped herald.mail.password). It refuses every
 * email alike, as an HTTP provider's 401 refuses Herald's credentials: nothing was taken, so the email route retries and then
 * parks it (routes/error-handling.camel.yaml, provider-unreachable), counted by the email breaker, and the parked emails go
 * out once the login is fixed, instead of each failing for good with an alert of its own. The message is the delivery's
 * reason. No cause, for the same reason as {@link MailServerBusy}.
 */
public class MailLoginRefused extends RuntimeException {

    MailLoginRefused(String reason) {
        super(reason);
    }

    /** From the server's reply to AUTH (quoted, masked: a username may be an address), or null when the failure carries none. */
    static MailLoginRefused of(String reply) {
        String said = reply == null ? "" : reply.strip();
        String quoted = said.matches("(?s)5\\d\\d[ -].*") ? " (" + ProviderErrors.quoted(io.herald.logging.Masking.mask(said), 300) + ")" : "";
        return new MailLoginRefused("the mail server refused Herald's login" + quoted + ": check herald.mail.username and"
                + " herald.mail.password (HERALD_MAIL_USERNAME, HERALD_MAIL_PASSWORD); nothing was sent");
    }
}
