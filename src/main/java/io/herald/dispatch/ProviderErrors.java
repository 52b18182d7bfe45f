package io.herald.dispatch;

import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.regex.Pattern;

import javax.net.ssl.SSLException;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.herald.ledger.StoredText;
import jakarta.mail.MessagingException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.springframework.stereotype.Component;

/**
 * What a failed provider call means: whether it is worth retrying (5xx, 408, 429, 401; the route
 * configuration also retries refused connections, and parks a call the open circuit breaker
 * refused), and one sentence an operator can act on. The HTTP error may arrive wrapped (the circuit breaker wraps it).
 */
@Component
public class ProviderErrors {

    /** Exchange property: the delay the provider asked for with Retry-After (RetryPolicies uses it). */
    public static final String RETRY_AFTER_MS = "heraldRetryAfterMs";

    /**
     * The last transient answer of each channel's provider (in this JVM, like its circuit breaker), so the reason
     * of a call the open breaker turned away still says what the provider answered before it opened.
     */
    private static final Map<String, String> LAST_ANSWER = new java.util.concurrent.ConcurrentHashMap<>();

    private final PushAccessTokens pushTokens;

    public ProviderErrors(PushAccessTokens pushTokens) {
        this.pushTokens = pushTokens;
    }

    /**
     * Used as onWhen in routes/error-handling.camel.yaml: a 5xx, 408 or 429, or a 401 refusing Herald's credentials, is worth retrying. It
     * also notes a Retry-After (seconds) for RetryPolicies, which sets the next retry's delay. Never throws.
     */
    public boolean retryable(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        if (cause == null) {
            cause = exchange.getException();
        }
        exchange.removeProperty(RETRY_AFTER_MS);
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                int status = http.getStatusCode();
                Long retryAfter = retryAfterMillis(http);
                if (retryAfter != null) {
                    exchange.setProperty(RETRY_AFTER_MS, retryAfter);
                }
                // 401: the provider refuses Herald's credentials, for every message alike (a rotated SMS auth token, an expired
                // push token): retried, parked and counted towards the breaker, so the backlog goes out once they are fixed,
                // rather than each message failing for good with an alert of its own.
                String channel = exchange.getProperty(ChannelDelivery.CHANNEL, String.class);
                // FCM's 401 THIRD_PARTY_AUTH_ERROR is about the project's APNs or web push keys, for this message's device:
                // a refusal of the message (FAILED, a first-success chain goes on), not of Herald's token.
                boolean credentialsRefused = status == 401 && (http.getResponseBody() == null
                        || !http.getResponseBody().contains("THIRD_PARTY_AUTH_ERROR"));
                boolean transientTrouble = status >= 500 || status == 408 || status == 429 || credentialsRefused;
                if (credentialsRefused && "push".equals(channel)) {
                    // the retry takes a new token from the service account
                    pushTokens.refused();
                }
                if (transientTrouble && channel != null) {   // a refusal of one message (4xx) never opens the breaker
                    LAST_ANSWER.put(channel, readable(http) + " (at " + java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + ")");
                }
                return transientTrouble;
            }
        }
        return false;
    }

    /**
     * After the circuit breaker: a provider that refused this one message (invalid number, bad token)
     * answered inside the breaker without counting as a provider failure; here it becomes the same
     * HttpOperationFailedException a refused call raises, so the delivery FAILS with the provider's reason.
     */
    public void failIfRefused(Exchange exchange) throws HttpOperationFailedException {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        if (status != null && status >= 300) {
            throw new HttpOperationFailedException(exchange.getMessage().getHeader(Exchange.HTTP_URI, "provider", String.class), status,
                    exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_TEXT, String.class), null, Map.of(),
                    exchange.getMessage().getBody(String.class));
        }
    }

    /** Exchange property: the recipient refusal the email route kept inside its breaker (routes/deliver-email.camel.yaml). */
    public static final String RECIPIENT_REFUSED = "heraldRecipientRefused";

    /**
     * After the email breaker: a recipient the SMTP server refused (RecipientRefused, kept inside the breaker so that it does not
     * count against it, as an HTTP provider's refusal of one message does not) is raised again, so the delivery FAILS with its reason.
     */
    public void failIfRecipientRefused(Exchange exchange) {
        RecipientRefused refused = exchange.getProperty(RECIPIENT_REFUSED, RecipientRefused.class);
        if (refused != null) {
            exchange.removeProperty(RECIPIENT_REFUSED);
            throw refused;
        }
    }

    /**
     * Inside the circuit breaker, right after the call: a 401 (an accepted answer there, okStatusCodeRange) refusing Herald's
     * credentials is raised as the HttpOperationFailedException camel-http would raise, so it counts towards the breaker and is
     * retried; FCM's 401 THIRD_PARTY_AUTH_ERROR is one device's refusal and left to refused-by-provider.
     */
    public void failIfCredentialsRefused(Exchange exchange) throws HttpOperationFailedException {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        if (status != null && status == 401) {
            String body = exchange.getMessage().getBody(String.class);
            exchange.getMessage().setBody(body);   // read once: a stream would be empty for the reason
            if (body == null || !body.contains("THIRD_PARTY_AUTH_ERROR")) {
                failIfRefused(exchange);
            }
        }
    }

    /**
     * The HTTP channels' default refusalCheck (routes/deliver-http-template.camel.yaml): a refusal needs no reading of
     * the provider's own before refused-by-provider fails it. Push reads its dead tokens (receipts.UnregisteredPushTokens).
     */
    public void checkRefusal(Exchange exchange) {
        // nothing to read
    }

    private static Long retryAfterMillis(HttpOperationFailedException http) {
        Map<String, String> headers = http.getResponseHeaders();
        if (headers == null) {
            return null;
        }
        for (Map.Entry<String, String> header : headers.entrySet()) {
            if ("Retry-After".equalsIgnoreCase(header.getKey()) && header.getValue() != null) {
                return RetryAfter.millis(header.getValue(), java.time.Instant.now());   // seconds or an HTTP date
            }
        }
        return null;
    }

    /** The provider's HTTP status, when it answered with one. */
    static Integer statusOf(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                return http.getStatusCode();
            }
            if (t instanceof io.herald.receipts.AddressGone gone) {
                return gone.status();
            }
        }
        return null;
    }

    /** A 552 reply's RFC 3463 code: 5.2.2 a full mailbox; 5.3.4 or 5.2.3 a message over the server's (or mailbox's) size limit. */
    private static final Pattern SMTP_552 = Pattern.compile("^552(?:[ -](5\\.\\d\\.\\d{1,3})(?!\\d))?");

    /**
     * What to do about SMTP 552 (RFC 5321: exceeded storage allocation), by its enhanced code: a full mailbox is the customer's
     * to empty, a message too large is the templates' (or the server's limit); without a code, both are said. "" for any other reply,
     * and for a 552 with another enhanced code (Gmail's 5.7.0 blocks the content), which is neither.
     */
    private static String tooLargeOrFull(String reply) {
        java.util.regex.Matcher code = SMTP_552.matcher(reply);
        if (!code.find()) {
            return "";
        }
        String enhanced = code.group(1);
        if ("5.2.2".equals(enhanced)) {
            return ": the customer's mailbox is full, so it was not delivered. Ask the customer to make room in it (or reach them on"
                    + " another channel), then retry this delivery";
        }
        if ("5.3.4".equals(enhanced) || "5.2.3".equals(enhanced)) {
            return ": the email is larger than the mail server accepts, so it was not delivered. Shorten this type's email templates"
                    + " (or raise the mail server's message size limit), then retry this delivery";
        }
        if (enhanced != null) {
            // Another enhanced code (Gmail's 552 5.7.0: the content was blocked): neither size nor mailbox; the server's words say why.
            return "";
        }
        return ": the email is larger than the mail server accepts, or the customer's mailbox is full, so it was not delivered."
                + " If the server's words speak of the size, shorten this type's email templates (or raise the mail server's message"
                + " size limit); if of the mailbox, ask the customer to make room in it; then retry this delivery";
    }

    /**
     * An SMTP reply: a 4xx or 5xx code at the start of a line (Angus Mail puts the server's reply in the message), or after
     * "response:" in the greeting Angus Mail refused ("Got bad greeting from SMTP host: …, response: 554 …").
     */
    private static final Pattern SMTP_REPLY = Pattern.compile("(?m)(?:^|^Got bad greeting .*response: *)([45]\\d\\d[ -].*)$");

    /**
     * What an error that is neither the provider's answer nor a known condition says in the ledger: not its raw text (that
     * goes to the log, with the delivery's id), only that Herald failed and where to look.
     */
    static final String UNEXPECTED = "an unexpected error inside Herald, not an answer from the provider; Herald's log has its"
            + " details on the line with this delivery's id; retry the delivery once the cause is fixed";

    static String readable(Throwable cause) {
        return readable(cause, null);
    }

    /** A run of letters, digits and {@code _-:} long enough to be a device token, an API key or a signature. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_:-]{40,}");
    private static final Pattern HTML = Pattern.compile("(?is)^\\s*(<!doctype html|<html|<head|<body|<h1|<title)");
    /** A program's error text (a Java exception, a stack frame, a Python traceback), not an API's answer. */
    private static final Pattern EXCEPTION = Pattern.compile("(?:^|[\\s:(\\[])(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b"
            + "|^\\s*at [\\w$.]+\\(|Traceback \\(most recent call last\\)|^\\s*(?:Unhandled )?[A-Z][A-Za-z]*Exception\\b");

    /**
     * What the provider's answer says, for a person: its API's JSON (what Twilio, FCM or Slack explain) up to 300 characters;
     * an HTML page (a proxy's or a server's error page, often with a stack trace) named as such, not copied; any other text,
     * its first line; a program's exception text (a stack trace's first line) named, not copied. Token-shaped runs (a device
     * token or key a provider echoes back) are hidden, email addresses and phone numbers masked as in the logs (a provider
     * quoting the recipient: "+4915123456789 is not a valid number").
     */
    static String answerBody(String body) {
        String text = body == null ? "" : body.strip();
        if (text.isEmpty()) {
            return "";
        }
        if (HTML.matcher(text).find()) {
            return "an HTML error page, not the provider's API answer (a proxy or load balancer in front of it, or the provider's server"
                    + " itself failing); its text is not kept";
        }
        if (!text.startsWith("{") && !text.startsWith("[")) {
            text = text.lines().findFirst().orElse("").strip();
        }
        if (EXCEPTION.matcher(text).find()) {
            return "an error from the provider's own software (an exception's text, not the provider's API answer); its text is not kept";
        }
        text = TOKEN.matcher(text).replaceAll(match -> hasMixedCharacters(match.group()) ? "[token hidden]" : match.group());
        text = io.herald.logging.Masking.mask(text);
        return quoted(text, 301);
    }

    /**
     * Text the provider sent, as a reason may quote it: on one line (a JSON answer's line breaks and indentation are one space),
     * other control characters and bidi overrides shown as visible escapes (StoredText.label, as quarantine reasons quote fields),
     * so the provider's text can neither reverse what an operator reads nor add a line of its own; cut to {@code max}.
     */
    static String quoted(String text, int max) {
        return text == null ? "" : StoredText.label(LINE_BREAKS.matcher(text).replaceAll(" "), max);
    }

    private static final Pattern LINE_BREAKS = Pattern.compile("\\s*\\R\\s*");

    /** Upper and lower case letters and digits together: a token, not a word or a repeated id. */
    private static boolean hasMixedCharacters(String run) {
        return run.chars().anyMatch(Character::isUpperCase) && run.chars().anyMatch(Character::isLowerCase)
                && run.chars().anyMatch(Character::isDigit);
    }

    /**
     * The same, naming the channel's own settings (herald.sms.url, herald.mail.port…) where it points to one; {@code channel}
     * null leaves "herald.&lt;channel&gt;".
     */
    static String readable(Throwable cause, String channel) {
        String settings = channel == null ? "herald.<channel>" : "herald." + ("email".equals(channel) ? "mail" : channel.replace('_', '-'));
        // The mail server has a host and a port, not a URL.
        String reason = "email".equals(channel) ? reason(cause).replace("herald.<channel>.url", "herald.mail.host and .port") : reason(cause);
        return reason.replace("herald.<channel>", settings);
    }

    private static String reason(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof HttpOperationFailedException http) {
                String body = answerBody(http.getResponseBody());
                Long retryAfter = retryAfterMillis(http);
                return "provider answered HTTP " + http.getStatusCode() + " " + quoted(nullToEmpty(http.getStatusText()), 100)
                        + (retryAfter == null ? "" : " (Retry-After " + retryAfter / 1000 + "s)")
                        + (body.isEmpty() ? "" : ": " + body) + FcmErrorCodes.whatToDo(http.getResponseBody())
                        + TwilioErrorCodes.whatToDo(http.getResponseBody())
                        + (http.getStatusCode() == 401 && !String.valueOf(http.getResponseBody()).contains("THIRD_PARTY_AUTH_ERROR") ? " (the provider refuses Herald's"
                        + " credentials: check herald.<channel>'s token, service account or account settings)" : "");
            }
            if (t instanceof CallNotPermittedException open) {
                String last = LAST_ANSWER.get(open.getCausingCircuitBreakerName().replace("-provider-breaker", "").replace('-', '_'));
                return "provider circuit breaker is open after repeated failures" + (last == null ? "" : " (last answer: " + last + ")")
                        + "; the provider was not called";
            }
            if (t instanceof EmailOutcomeUnknown) {
                return t.getMessage();
            }
            if (t instanceof MailServerBusy) {
                return "the mail server refused for now: " + quoted(io.herald.logging.Masking.mask(t.getMessage()), 300)
                        + "; nothing was taken, so it is tried again";
            }
            if (t instanceof RecipientRefused || t instanceof MailLoginRefused || t instanceof MailSetupRefused) {
                return t.getMessage();
            }
            if (t instanceof StartTlsNotOffered) {
                return t.getMessage() + ", and herald.mail.tls is starttls: Herald sends neither its login nor the email unencrypted, so"
                        + " nothing was sent. Set herald.mail.port to the server's STARTTLS port (usually 587), or herald.mail.tls to ssl"
                        + " with its TLS port (usually 465), or to none only for a relay on a trusted network; the parked emails then go out";
            }
            if (t instanceof ProviderAnswerLost lost) {
                // Only on a channel that re-sends cut-off calls (elsewhere CutOffCalls makes it UNCERTAIN).
                return lost.what("herald.<channel>") + "; the call may have reached it, so it is tried again with the same idempotency key";
            }
            if (t instanceof PushAccessTokens.PushTokenUnavailable) {
                return t.getMessage() + "; FCM was not called";
            }
            if (t instanceof ConnectException) {
                return "provider unreachable (connection refused): nothing answers at the address of herald.<channel>.url"
                        + " (or a firewall refuses Herald); nothing was sent";
            }
            if (t instanceof ConnectTimeoutException || t instanceof SocketTimeoutException && t.getMessage() != null
                    && t.getMessage().toLowerCase(java.util.Locale.ROOT).contains("connect")) {
                return "provider unreachable: no connection within the connect timeout (herald.<channel>.connect-timeout-ms); nothing was sent";
            }
            if (t instanceof SocketTimeoutException) {
                return "provider did not answer within the response timeout (herald.<channel>.response-timeout-ms); the call may have"
                        + " reached it, so it is tried again with the same idempotency key";
            }
            if (t instanceof MessagingException && t.getMessage() != null) {
                java.util.regex.Matcher reply = SMTP_REPLY.matcher(t.getMessage().strip());
                if (reply.find()) {
                    // The mail server's own answer (a refusal at its greeting, at RCPT, after DATA, or of Herald's login): its reply
                    // line says why. An address it quotes (the recipient's, often) is masked, as in every reason.
                    String said = reply.group(1).strip();
                    return "the mail server answered " + quoted(io.herald.logging.Masking.mask(said), 300) + tooLargeOrFull(said);
                }
            }
            if (t instanceof UnknownHostException) {
                return "provider unreachable: its host name " + t.getMessage() + " does not resolve (check herald.<channel>.url or DNS)";
            }
            if (t instanceof SSLException || t instanceof java.security.cert.CertificateException
                    || t instanceof java.security.cert.CertPathBuilderException || t instanceof java.security.cert.CertPathValidatorException) {
                return "provider unreachable: " + tls(cause) + "; nothing was sent. Check the provider's address (herald.<channel>.url) and its certificate";
            }
            if (t instanceof NoHttpResponseException) {
                return "provider closed the connection without an answer; the call may have reached it, so it is tried again with the"
                        + " same idempotency key";
            }
            if (t instanceof SocketException) {
                String said = t.getMessage() == null ? "" : t.getMessage().toLowerCase(java.util.Locale.ROOT);
                return said.contains("reset") ? "the provider closed the connection abruptly (connection reset)"
                        : said.contains("broken pipe") ? "the connection to the provider broke while Herald was sending (broken pipe)"
                        : "the connection to the provider failed (a network error, not the provider's answer)";
            }
            if (t instanceof TemplateMissing || t instanceof MessageTooLong || t instanceof UnusableAddress || t instanceof io.herald.receipts.AddressGone
                    || t instanceof TypeNotInCatalog) {
                return t.getMessage();
            }
        }
        return cause == null ? "unknown error" : UNEXPECTED;
    }

    /** What went wrong in a TLS handshake, in words: whose certificate, and why Herald does not trust it (never the JDK's text). */
    private static String tls(Throwable cause) {
        boolean untrustedIssuer = false;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.security.cert.CertificateExpiredException) {
                return "its TLS certificate has expired";
            }
            if (t instanceof java.security.cert.CertificateNotYetValidException) {
                return "its TLS certificate is not valid yet (or this machine's clock is wrong)";
            }
            String said = t.getMessage() == null ? "" : t.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (said.contains("subject alternative") || said.contains("doesn't match") || said.contains("does not match")) {
                return "its TLS certificate is for another host name than the one Herald called";
            }
            untrustedIssuer |= t instanceof java.security.cert.CertPathBuilderException || said.contains("pkix");
        }
        return untrustedIssuer ? "its TLS certificate is not signed by an authority Herald's Java trusts (self-signed, or an"
                + " unknown issuer)" : "the TLS handshake failed (the provider and Herald agree on no protocol or cipher, or the"
                + " connection was cut during it)";
    }

    /** True when {@link #readable} has nothing better than {@link #UNEXPECTED}: the log line must then carry the error itself. */
    static boolean unexpected(Throwable cause) {
        return cause != null && readable(cause).equals(UNEXPECTED);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}
