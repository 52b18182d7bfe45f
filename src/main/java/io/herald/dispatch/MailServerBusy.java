package io.herald.dispatch;

/**
 * The SMTP server refused for now with a 4xx reply (421 at its greeting, 450/451/452 at MAIL FROM or RCPT, 451 after the
 * message, 454 at login): by SMTP's rules the message was not taken and may be offered again later. The email route
 * retries it like an unreachable provider and then parks it (routes/error-handling.camel.yaml, provider-unreachable);
 * a 5xx refusal still fails the delivery. The message is the server's reply line (its answer, fit for the ledger's
 * reason). It carries no cause on purpose: Camel matches onException along the cause chain from the innermost cause,
 * and the MessagingException behind it would select delivery-failed. The technical detail is logged by SmtpConnections.
 */
public class MailServerBusy extends RuntimeException {

    public MailServerBusy(String reply) {
        super(reply);
    }
}
