package io.herald.dispatch;

/**
 * herald.mail.tls is starttls and the SMTP server does not offer STARTTLS: Herald sends neither its login nor the message
 * in clear, so nothing was sent. Retried and parked like an unreachable provider (routes/error-handling.camel.yaml,
 * provider-unreachable): the setting or the server may be corrected meanwhile, and the parked emails then go out. No
 * cause, for the same reason as {@link MailServerBusy}.
 */
public class StartTlsNotOffered extends RuntimeException {

    public StartTlsNotOffered(String message) {
        super(message);
    }
}
