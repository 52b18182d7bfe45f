package io.herald.config;

import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * TLS to PostgreSQL (herald.db.ssl-mode, herald.db.ssl-root-cert), as managed databases ask for it (RDS, Azure, Cloud SQL:
 * TLS with the server's certificate checked against their CA bundle). The same settings may also be written into
 * herald.db.url (?sslmode=verify-full&amp;sslrootcert=…), as the providers' own instructions show. A setting the driver would
 * refuse only when it first connects (a misspelt sslmode, a CA file that is not there, one that holds no certificate), or one
 * it would silently not use (a CA file with a mode that does not check the certificate), stops startup here naming the key:
 * the driver's own refusal came as a stack trace from Flyway.
 */
public final class DatabaseTls {

    /** The driver's class that checks the server's certificate against the JVM's own trusted CAs. */
    static final String JVM_TRUSTED_CAS = "org.postgresql.ssl.DefaultJavaSSLFactory";

    private DatabaseTls() {
    }

    /** herald.db.ssl-mode: the PostgreSQL driver's sslmode values (written verify-full, VERIFY_FULL, …). */
    public enum SslMode implements SettingChoice {
        DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

        /** Whether this mode checks the server's certificate (and so reads a CA file). */
        public boolean verifies() {
            return this == VERIFY_CA || this == VERIFY_FULL;
        }

        /** As the driver and the README write it: verify-full. */
        @Override
        public String spelled() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** As the driver reads sslmode: in any case (sslmode=REQUIRE connects as require). */
        static SslMode fromDriver(String value) {
            for (SslMode mode : values()) {
                if (mode.spelled().equalsIgnoreCase(value)) {
                    return mode;
                }
            }
            return null;
        }
    }

    /**
     * The mode the URL asks for, as the driver reads it: its sslmode; without one, ssl=true (or a bare ssl) is verify-full;
     * null when the URL says neither.
     */
    static SslMode urlMode(Map<String, String> inUrl) {
        String sslmode = inUrl.get("sslmode");
        if (sslmode != null) {
            return SslMode.fromDriver(sslmode);
        }
        String ssl = inUrl.get("ssl");
        return ssl != null && (ssl.isEmpty() || Boolean.parseBoolean(ssl)) ? SslMode.VERIFY_FULL : null;
    }

    /** Refuses, naming the key, TLS settings the driver would refuse at its first connection or would not use. */
    static void check(String url, SslMode sslMode, String sslRootCert) {
        Map<String, String> inUrl = parameters(url);
        String urlMode = inUrl.get("sslmode");
        if (urlMode != null && SslMode.fromDriver(urlMode) == null) {
            throw new IllegalArgumentException("herald.db.url sets sslmode=" + urlMode + ", which PostgreSQL's driver does not know: write"
                    + " one of disable, allow, prefer, require, verify-ca, verify-full (managed databases: verify-full), or leave it out"
                    + " of the URL and set herald.db.ssl-mode (HERALD_DB_SSL_MODE)");
        }
        if (sslMode != null && urlMode != null && urlMode(inUrl) != sslMode) {
            throw new IllegalArgumentException("herald.db.ssl-mode is " + sslMode.spelled() + " while herald.db.url sets sslmode=" + urlMode
                    + ", and the URL's would win: set it in one place");
        }
        String urlRootCert = inUrl.get("sslrootcert");
        boolean rootCertSet = sslRootCert != null && !sslRootCert.isBlank();
        if (rootCertSet && urlRootCert != null && !urlRootCert.equals(sslRootCert.strip())) {
            throw new IllegalArgumentException("herald.db.ssl-root-cert names " + sslRootCert.strip() + " while herald.db.url sets"
                    + " sslrootcert=" + urlRootCert + ", and the URL's would win: set it in one place");
        }
        String key = rootCertSet ? "herald.db.ssl-root-cert" : "herald.db.url";
        String rootCert = rootCertSet ? sslRootCert.strip() : urlRootCert;
        SslMode mode = sslMode != null ? sslMode : urlMode(inUrl) != null ? urlMode(inUrl) : SslMode.PREFER;
        if (rootCert == null || rootCert.isBlank()) {
            return;
        }
        String names = rootCertSet ? " names " : " sets sslrootcert=";
        if (!mode.verifies()) {
            throw new IllegalArgumentException(key + names + rootCert + " while herald.db.ssl-mode is " + mode.spelled()
                    + (sslMode == null && urlMode(inUrl) == null ? " (the driver's default)" : "") + ", which does not check PostgreSQL's"
                    + " certificate, so the file would not be used and anyone on the way could pose as the database: set"
                    + " herald.db.ssl-mode to verify-full (HERALD_DB_SSL_MODE), or remove the file");
        }
        Path file = Path.of(rootCert);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(key + names + rootCert + ", which is not a file Herald can read: mount your database"
                    + " provider's CA bundle (as a Kubernetes secret or config map) and give its path");
        }
        int certificates;
        try (InputStream in = Files.newInputStream(file)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in).size();
        } catch (Exception unreadable) {
            certificates = 0;
        }
        if (certificates == 0) {
            throw new IllegalArgumentException(key + names + rootCert + ", which holds no certificate Herald can read: give your"
                    + " database provider's CA bundle as it publishes it (PEM text, -----BEGIN CERTIFICATE-----)");
        }
    }

    /**
     * The driver properties Herald's connections take (its pool's and Flyway's): sslmode and sslrootcert as set; with a mode
     * that checks the certificate and no CA file, the JVM's own trusted CAs (the driver would otherwise look for
     * ~/.postgresql/root.crt, which no container has). What the URL sets itself wins, as the driver reads it last.
     */
    public static Properties driverProperties(HeraldSettings.Db db) {
        Properties properties = new Properties();
        Map<String, String> inUrl = parameters(db.url());
        if (db.sslMode() != null) {
            properties.setProperty("sslmode", db.sslMode().spelled());
        }
        boolean rootCertSet = db.sslRootCert() != null && !db.sslRootCert().isBlank();
        if (rootCertSet) {
            properties.setProperty("sslrootcert", db.sslRootCert().strip());
        }
        SslMode mode = db.sslMode() != null ? db.sslMode() : urlMode(inUrl);
        if (mode != null && mode.verifies() && !rootCertSet && !inUrl.containsKey("sslrootcert") && !inUrl.containsKey("sslfactory")) {
            properties.setProperty("sslfactory", JVM_TRUSTED_CAS);
        }
        return properties;
    }

    /** The parameters written after the URL's '?', decoded as the driver decodes them. */
    static Map<String, String> parameters(String url) {
        Map<String, String> parameters = new LinkedHashMap<>();
        int query = url == null ? -1 : url.indexOf('?');
        if (query < 0) {
            return parameters;
        }
        for (String pair : url.substring(query + 1).split("&")) {
            int equals = pair.indexOf('=');
            String name = equals < 0 ? pair : pair.substring(0, equals);
            String value = equals < 0 ? "" : pair.substring(equals + 1);
            if (!name.isEmpty()) {
                parameters.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
            }
        }
        return parameters;
    }
}
