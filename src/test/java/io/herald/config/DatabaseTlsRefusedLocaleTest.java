package io.herald.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.DriverManager;
import java.util.Locale;
import java.util.Properties;
import java.util.ResourceBundle;

import org.junit.jupiter.api.Test;
import org.postgresql.util.GT;

/**
 * A TLS refusal is named the same on a JVM whose default locale is not English: the driver writes its messages in that
 * language (it ships German, French, Japanese, ... translations), and Herald used to read only the English ones, so on a
 * German JVM "the server does not offer TLS" was reported as "PostgreSQL did not answer", which waiting does not fix.
 * A stand-in server answers the driver's TLS request as PostgreSQL does ('N': no TLS; 'S': TLS, then the driver reads its CA).
 */
class DatabaseTlsRefusedLocaleTest {

    @Test
    void aTlsRefusalIsNamedOnAGermanOrJapaneseJvmAsOnAnEnglishOne() throws Exception {
        for (Locale locale : new Locale[] {Locale.ENGLISH, Locale.GERMANY, Locale.JAPAN}) {
            Locale before = Locale.getDefault();
            Locale.setDefault(locale);
            // The driver picks its language once, when it first writes a message; in a JVM started in that locale it is this.
            ResourceBundle driverBefore = driverMessages(locale.equals(Locale.ENGLISH) ? null
                    : ResourceBundle.getBundle("org.postgresql.translation.messages", locale));
            try {
                assertThat(DatabaseTlsRefused.reason(refusal('N', "require", null))).as("%s: no TLS", locale)
                        .isEqualTo(DatabaseTlsRefused.NO_TLS);
                assertThat(DatabaseTlsRefused.reason(refusal('S', "verify-full", "/nonexistent/herald-ca.pem"))).as("%s: CA file", locale)
                        .isEqualTo(DatabaseTlsRefused.CA_FILE);
            } finally {
                Locale.setDefault(before);
                driverMessages(driverBefore);
            }
        }
    }

    /** The driver's own error for a connection to a server that answers its TLS request with {@code answer}. */
    private static Throwable refusal(char answer, String sslMode, String rootCert) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread stand = new Thread(() -> {
                try (Socket client = server.accept(); InputStream in = client.getInputStream()) {
                    in.readNBytes(8);   // SSLRequest: length and code
                    client.getOutputStream().write(answer);
                    client.getOutputStream().flush();
                    in.read();   // until the driver lets go
                } catch (Exception ignored) {
                    // the driver closed the connection
                }
            });
            stand.setDaemon(true);
            stand.start();
            Properties properties = new Properties();
            properties.setProperty("user", "herald");
            properties.setProperty("sslmode", sslMode);
            properties.setProperty("connectTimeout", "5");
            if (rootCert != null) {
                properties.setProperty("sslrootcert", rootCert);
            }
            Throwable failure = catchThrowable(() -> DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + "/herald", properties).close());
            assertThat(failure).isNotNull();
            return failure;
        }
    }

    /** Sets the driver's message bundle (null: English, untranslated); answers the one it had. */
    private static ResourceBundle driverMessages(ResourceBundle bundle) throws Exception {
        Field instance = GT.class.getDeclaredField("_gt");
        instance.setAccessible(true);
        Field field = GT.class.getDeclaredField("bundle");
        field.setAccessible(true);
        Object gt = instance.get(null);
        ResourceBundle before = (ResourceBundle) field.get(gt);
        field.set(gt, bundle);
        return before;
    }
}
