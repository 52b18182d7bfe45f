package io.herald.config;

import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * herald.mail.*: the email channel (SMTP).
 *
 * @param host                  the SMTP server
 * @param port                  its port
 * @param tls                   how the connection is encrypted: opportunistic (the default: STARTTLS when the server offers
 *                              it, any certificate taken, else in clear, as Herald always sent before; refused with a
 *                              username, whose password it would expose), starttls (required,
 *                              before login and message, the certificate checked; port 587), ssl (TLS from the start; port
 *                              465), or none (in clear; a mail catcher or a relay on a trusted network)
 * @param username              SMTP AUTH user; blank: no AUTH
 * @param password              SMTP AUTH password
 * @param from                  the sender of every email: a name and address, as in a From header; its domain is the
 *                              Message-IDs' right-hand side, so an address without one is refused at startup
 * @param heloName              the name Herald gives the SMTP server in its EHLO/HELO greeting: this machine's fully qualified
 *                              name (e.g. herald.example.com) for a relay that refuses a bare one such as localhost; blank:
 *                              the host name Angus Mail finds (often localhost, or a pod's short name)
 * @param ratePerSecond         emails per second of all instances together (the permits are kept in PostgreSQL)
 * @param maxInFlight           emails handed to the SMTP server at once, per instance
 * @param messagesPerConnection an SMTP connection is kept open for up to this many emails
 * @param connectTimeoutMs      SMTP connect, and each server reply before DATA
 * @param readTimeoutMs         a reply not within this after DATA makes the email UNCERTAIN (never sent twice)
 * @param writeTimeoutMs        one write to the SMTP server
 * @param maxRetries            in-process retries of email after the first attempt, 0 or 1 (default: herald.delivery.max-retries)
 * @param retryDelayMs          the email retry's delay (default: herald.delivery.retry-delay-ms)
 * @param maxRetryDelayMs       the longest an email waits in-process for its retry (default: herald.delivery.max-retry-delay-ms)
 */
@Validated
@ConfigurationProperties("herald.mail")
public record MailSettings(@NotNull @DefaultValue("localhost") String host,
                           @Min(1) @Max(65535) @DefaultValue("25") int port,
                           @NotNull @DefaultValue("opportunistic") Tls tls,
                           @NotNull @DefaultValue("") String username,
                           @NotNull @DefaultValue("") @Pattern(regexp = Secrets.NO_EDGE_SPACE, message = Secrets.EDGE_SPACE) String password,
                           @NotNull @DefaultValue("Herald <notifications@herald.local>") String from,
                           @NotNull @DefaultValue("") @Pattern(regexp = HELO_NAME, message = HELO_NAME_MESSAGE) String heloName,
                           @Min(1) @Max(1_000_000) @DefaultValue("20") int ratePerSecond,
                           @Positive @DefaultValue("8") int maxInFlight,
                           @Positive @DefaultValue("100") int messagesPerConnection,
                           @Positive @DefaultValue("10000") int connectTimeoutMs,
                           @Positive @DefaultValue("20000") int readTimeoutMs,
                           @Positive @DefaultValue("10000") int writeTimeoutMs,
                           @Min(0) @Max(value = 1, message = DeliverySettings.ONE_RETRY) Integer maxRetries,
                           @Positive Long retryDelayMs,
                           @Positive Long maxRetryDelayMs) {

    /** Blank, a host name (letters, digits and hyphens in dot-separated labels), or an address literal ([192.0.2.1], [IPv6:…]). */
    static final String HELO_NAME = "|(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
            + "|\\[(?:IPv6:)?[0-9A-Fa-f:.]+\\]";
    static final String HELO_NAME_MESSAGE = "must be a host name such as herald.example.com (letters, digits, hyphens and dots; no"
            + " spaces), an address literal such as [192.0.2.1], or empty for the name Angus Mail finds";

    public MailSettings {
        // With a login, opportunistic would hand the password to any server on the way: its certificate is not checked, and a
        // listener that strips STARTTLS from the server's greeting gets it in clear. Said at startup, naming both keys.
        if (tls == Tls.OPPORTUNISTIC && username != null && !username.isBlank()) {
            throw new IllegalArgumentException("herald.mail.tls is opportunistic while herald.mail.username is set: the SMTP password"
                    + " would go to a server whose certificate is not checked, or in clear if STARTTLS is stripped on the way; set"
                    + " herald.mail.tls to starttls (port 587) or ssl (port 465), or to none only for a relay on a trusted network");
        }
        // Every Message-ID ends in the sender's domain: one without (notifications) would make them all @localhost, which spam
        // filters score badly, and most relays refuse such a sender anyway. Said at startup, naming the key.
        if (from != null && senderDomain(from) == null) {
            throw new IllegalArgumentException("herald.mail.from must be a sender address with a domain after its @ (the domain"
                    + " every Message-ID ends in); was '" + from + "'");
        }
    }

    /**
     * The domain of a sender address ("Herald &lt;notifications@example.com&gt;" gives example.com), lower case, an
     * internationalised one in its ASCII form (xn--…); null when the address has no usable domain or cannot be read.
     */
    public static String senderDomain(String from) {
        try {
            String address = new InternetAddress(from, false).getAddress();
            int at = address == null ? -1 : address.lastIndexOf('@');
            // An internationalised domain (bücher.de) in its ASCII form (xn--bcher-kva.de): a Message-ID is ASCII.
            String domain = at < 0 ? "" : java.net.IDN.toASCII(address.substring(at + 1).strip());
            return domain.isEmpty() || !domain.matches("[A-Za-z0-9.-]+") ? null : domain.toLowerCase(java.util.Locale.ROOT);
        } catch (AddressException | IllegalArgumentException e) {
            return null;
        }
    }

    /** herald.mail.tls: how the SMTP connection is encrypted (written in any case: starttls, STARTTLS). */
    public enum Tls {
        /** In clear: only for a mail catcher or a relay on a trusted network. */
        NONE,
        /**
         * STARTTLS when the server offers it, its certificate not checked (encryption against a listener on the way, not an
         * impostor); in clear when it does not: what a relay that always worked keeps working with.
         */
        OPPORTUNISTIC,
        /** Connects in clear and upgrades with STARTTLS before anything else is sent; a server without STARTTLS is refused. */
        STARTTLS,
        /** TLS from the first byte (SMTPS, "implicit TLS"). */
        SSL
    }
}
