package io.herald.dispatch;

/**
 * An email was handed to the SMTP server past the DATA command and then no answer came: it may have
 * been delivered. The delivery becomes UNCERTAIN (routes/error-handling.camel.yaml), never retried or
 * parked, so Herald never sends an email twice by itself. It carries no cause on purpose: Camel
 * matches onException along the cause chain, and an I/O cause would select the retry policy.
 * The technical detail is logged by SmtpConnections.
 */
public class EmailOutcomeUnknown extends RuntimeException {

    public EmailOutcomeUnknown(String message) {
        super(message);
    }
}
