package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.springframework.util.FileSystemUtils;

/**
 * An embedded PostgreSQL that takes TLS connections, as a managed database does (RDS, Azure, Cloud SQL): a CA and a server
 * certificate for localhost signed by it are made here with the JDK's keytool (two runs), and {@link #ca()} is the CA bundle a client is
 * given. {@link #unrelatedCa()} is a CA that did not sign it (a wrong bundle). It also takes connections without TLS
 * (embedded PostgreSQL's pg_hba.conf), so a test shows Herald's are TLS by PostgreSQL's pg_stat_ssl.
 */
public final class TlsPostgres implements AutoCloseable {

    private static final String PASS = "test-store";
    /** A CA certificate that signed nothing here, made once with openssl (the shape a provider's bundle has). */
    public static final String UNRELATED_CA = """
            -----BEGIN CERTIFICATE-----
            MIIBkTCCATegAwIBAgIUY6NvsQ1OThyPWl12+DUW71EB6WMwCgYIKoZIzj0EAwIw
            HjEcMBoGA1UEAwwTRXhhbXBsZSBEYXRhYmFzZSBDQTAeFw0yNjEyMDcwMjA3MDZa
            Fw0zNjEyMDQwMjA3MDZaMB4xHDAaBgNVBAMME0V4YW1wbGUgRGF0YWJhc2UgQ0Ew
            WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQSgwomqGWkoRVVNQhUpFBaUF3dCFCQ
            hmoDb3t7OdZvB3xrZSESmHiKR5XTtx9ZTj/SY2MR28IDehQhq025OWNno1MwUTAd
            BgNVHQ4EFgQUtF7h02/uJbs9gYsn+k698/e3Xf8wHwYDVR0jBBgwFoAUtF7h02/u
            Jbs9gYsn+k698/e3Xf8wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBF
            AiBnNTcrumHfOFcBFR6k2P6Q4k/ZtB266wa5dC8Fia348wIhAJgQUkRxufl9QgDp
            SiyzQZ6TknAXfjGw/Tl7exONrY5f
            -----END CERTIFICATE-----
            """;

    private final Path home;
    private final EmbeddedPostgres postgres;

    private TlsPostgres(Path home, EmbeddedPostgres postgres) {
        this.home = home;
        this.postgres = postgres;
    }

    /** Makes the certificates and starts PostgreSQL with ssl=on on a free port. */
    public static TlsPostgres start() throws Exception {
        Path home = Files.createTempDirectory("herald-tls-pg-");
        String keystore = home.resolve("certificates.p12").toString();
        keytool(home, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname",
                "CN=Herald test database CA", "-ext", "bc:c", "-keystore", keystore, "-storetype", "PKCS12", "-storepass", PASS);
        keytool(home, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname",
                "CN=localhost", "-ext", "SAN=dns:localhost", "-signer", "ca", "-keystore", keystore, "-storetype", "PKCS12", "-storepass", PASS);
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(keystore))) {
            store.load(in, PASS.toCharArray());
        }
        Files.writeString(home.resolve("ca.pem"), pem("CERTIFICATE", store.getCertificate("ca").getEncoded()));
        Files.writeString(home.resolve("server.crt"), pem("CERTIFICATE", store.getCertificate("server").getEncoded()));
        // PostgreSQL reads the key as PEM and only from a file no one else can read.
        Path keyFile = home.resolve("server.key");
        Files.writeString(keyFile, pem("PRIVATE KEY", store.getKey("server", PASS.toCharArray()).getEncoded()));
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(home.resolve("unrelated-ca.pem"), UNRELATED_CA);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", home.resolve("server.crt").toString())
                .setServerConfig("ssl_key_file", keyFile.toString())
                .start();
        return new TlsPostgres(home, postgres);
    }

    /** {@link #start()}, for a static field's initialiser. */
    public static TlsPostgres startForTest() {
        try {
            return start();
        } catch (Exception e) {
            throw new IllegalStateException("the test's PostgreSQL with TLS did not start", e);
        }
    }

    /** The JDBC URL of its postgres database by the name its certificate carries (user and password: postgres). */
    public String url() {
        return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
    }

    /** The same database by an address its certificate does not name. */
    public String urlByAddress() {
        return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres";
    }

    /** The CA that signed its certificate (PEM). */
    public Path ca() {
        return home.resolve("ca.pem");
    }

    /** A CA that did not sign its certificate (PEM). */
    public Path unrelatedCa() {
        return home.resolve("unrelated-ca.pem");
    }

    @Override
    public void close() throws IOException {
        postgres.close();
        FileSystemUtils.deleteRecursively(home);
    }

    private static String pem(String kind, byte[] der) {
        return "-----BEGIN " + kind + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + kind + "-----\n";
    }

    private static void keytool(Path home, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        Process keytool = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("keytool.log").toFile())).start();
        if (!keytool.waitFor(1, TimeUnit.MINUTES) || keytool.exitValue() != 0) {
            throw new IllegalStateException("keytool " + args[0] + " failed; see " + home.resolve("keytool.log"));
        }
    }
}
