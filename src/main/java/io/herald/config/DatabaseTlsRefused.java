package io.herald.config;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.text.MessageFormat;
import javax.net.ssl.SSLException;

import org.postgresql.util.GT;

/**
 * Tells a PostgreSQL that refused Herald's TLS connection (its certificate not signed by the CA Herald was given, not naming
 * the host Herald connects to, a server without TLS while herald.db.ssl-mode asks for it, one that takes only TLS while it is
 * disabled) from one that did not answer: the first is fixed in herald.db.* or at the server, waiting does not help. Read from
 * the driver's errors under the pool's and Spring's: their types where they say it (an untrusted certificate, a handshake),
 * else their wording in English or in the language the driver writes on this JVM (it translates by the default locale).
 */
public final class DatabaseTlsRefused {

    public static final String UNTRUSTED = "PostgreSQL's certificate is not signed by a CA Herald trusts: set herald.db.ssl-root-cert"
            + " (HERALD_DB_SSL_ROOT_CERT) to your database provider's CA bundle, or check it is the right one";
    public static final String WRONG_HOST = "PostgreSQL's certificate does not name the host in herald.db.url: connect by the host name"
            + " on the certificate (the endpoint your provider gives, not an IP address or an alias), or set herald.db.ssl-mode to verify-ca";
    public static final String NO_TLS = "PostgreSQL does not offer TLS, and herald.db.ssl-mode asks for it (require, verify-ca or"
            + " verify-full): turn TLS on at the database, or check herald.db.url names the right one";
    public static final String TLS_ONLY = "PostgreSQL takes only TLS connections and herald.db.ssl-mode is disable: set herald.db.ssl-mode"
            + " to verify-full (HERALD_DB_SSL_MODE)";
    public static final String CA_FILE = "Herald cannot read the CA file herald.db.ssl-root-cert names (moved or removed since Herald"
            + " started?): mount it where that setting says";
    public static final String HANDSHAKE = "Herald's TLS connection to PostgreSQL failed (no TLS version or cipher both accept, or the"
            + " connection was cut during the handshake): check herald.db.ssl-mode and the database's TLS settings";

    private DatabaseTlsRefused() {
    }

    /** What the operator reads (readiness, the outage alert, a failed start) when the failure is TLS's; null when it is not. */
    public static String reason(Throwable failure) {
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        String found = null;
        for (Throwable cause = failure; cause != null && seen.put(cause, true) == null; cause = cause.getCause()) {
            String message = String.valueOf(cause.getMessage());
            if (cause instanceof CertPathBuilderException || cause instanceof CertPathValidatorException) {
                return UNTRUSTED;
            }
            if (cause instanceof SQLException) {
                if (driverSaid(message, "The hostname {0} could not be verified by hostnameverifier {1}.")) {
                    return WRONG_HOST;
                }
                if (driverSaid(message, "The server does not support SSL.")) {
                    return NO_TLS;
                }
                // The server's own words (its lc_messages, English unless set otherwise), not the driver's.
                if (message.contains("no pg_hba.conf entry") && (message.contains("no encryption") || message.contains("SSL off"))) {
                    return TLS_ONLY;
                }
                if (message.contains("SSL root certificate") || driverSaid(message, "Could not open SSL root certificate file {0}.")
                        || driverSaid(message, "Could not read SSL root certificate file {0}.")
                        || driverSaid(message, "Loading the SSL root certificate {0} into a TrustManager failed.")) {
                    return CA_FILE;
                }
            }
            if (cause instanceof SSLException && found == null) {
                found = HANDSHAKE;   // unless a deeper cause says the certificate was not trusted
            }
        }
        return found;
    }

    /**
     * Whether the driver wrote this message from that English template: in English, or in the language it writes in on this
     * JVM (its translation by the JVM's default locale, German on a German JVM), asked of the driver's own translator. Its
     * arguments (a host name, a file) may be anything: the parts around them are looked for, in order.
     */
    private static boolean driverSaid(String message, String template) {
        for (String written : new String[] {MessageFormat.format(template, ARGUMENT, ARGUMENT), GT.tr(template, ARGUMENT, ARGUMENT)}) {
            int at = 0;
            for (String part : written.split(ARGUMENT)) {
                at = part.isBlank() ? at : message.indexOf(part.strip(), at);
                if (at < 0) {
                    break;
                }
            }
            if (at >= 0) {
                return true;
            }
        }
        return false;
    }

    private static final String ARGUMENT = "\u0001";
}
