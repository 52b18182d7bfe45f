package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.util.FileSystemUtils;

/**
 * The image's start command (docker/entrypoint.sh on the exploded layered jar, exactly as the
 * Dockerfile lays it out) run as a separate process with the prod profile, configured only by
 * environment variables that point at the embedded infrastructure.
 */
class ProdStartIT {

    private static final String SECRET = "it-webhook-secret";
    private static final String ADMIN_PASSWORD = "it-admin-password";
    private static final Path APP_HOME = Path.of("target", "image-app");
    private static EmbeddedInfrastructure infra;

    private final HttpClient http = HttpClient.newHttpClient();
    private Process herald;
    private Path output;

    @BeforeAll
    static void explodeTheJarLikeTheDockerfile() throws Exception {
        infra = EmbeddedInfrastructure.start();
        // The CRM exposes its outbox in a schema of its own in Herald's database (Flyway owns public).
        try (Connection db = connect()) {
            db.createStatement().execute("CREATE SCHEMA IF NOT EXISTS crm");
            db.createStatement().execute(Files.readString(Path.of("src/test/resources/samples/crm/outbox.sql"))
                    .replace("CREATE TABLE crm_outbox", "CREATE TABLE IF NOT EXISTS crm.crm_outbox")
                    .replace("CREATE INDEX crm_outbox_unprocessed ON crm_outbox", "CREATE INDEX IF NOT EXISTS crm_outbox_unprocessed ON crm.crm_outbox"));
        }
        Path jar;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            jar = files.filter(f -> f.getFileName().toString().matches("herald-.*\\.jar")).findFirst().orElseThrow();
        }
        Path layers = Path.of("target", "image-layers");
        FileSystemUtils.deleteRecursively(layers);
        FileSystemUtils.deleteRecursively(APP_HOME);
        Process extract = new ProcessBuilder(java(), "-Djarmode=tools", "-jar", jar.toString(), "extract", "--layers",
                "--launcher", "--destination", layers.toString()).inheritIO().start();
        assertThat(extract.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(extract.exitValue()).isZero();
        for (String layer : List.of("dependencies", "spring-boot-loader", "snapshot-dependencies", "application")) {
            Path from = layers.resolve(layer);
            if (Files.isDirectory(from)) {
                copyTree(from, APP_HOME);
            }
        }
    }

    @AfterEach
    void stopHerald() throws Exception {
        if (herald != null && herald.isAlive()) {
            herald.destroy();
            herald.waitFor(30, TimeUnit.SECONDS);
            herald.destroyForcibly();
        }
    }

    @Test
    void startsWithTheProdProfileFromEnvironmentAndDeliversASignedWebhook() throws Exception {
        int port = freePort();
        herald = start(prodEnvironment(port));
        String base = "http://localhost:" + port;
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                .until(() -> get(base + "/actuator/health", null).statusCode() == 200);

        // Hawtio, Jolokia and the actuator need the admin login outside the local profile.
        assertThat(get(base + "/actuator/hawtio/", null).statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/jolokia/search/org.apache.camel:type=routes,*", null).statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/hawtio/", "admin:wrong").statusCode()).isEqualTo(401);
        assertThat(get(base + "/actuator/hawtio/", "admin:" + ADMIN_PASSWORD).statusCode()).isEqualTo(200);
        assertThat(get(base + "/actuator/jolokia/search/org.apache.camel:type=routes,*", "admin:" + ADMIN_PASSWORD).body())
                .contains("support-webhook", "deliver-email");

        // The real path through the packaged application, for a customer in the (unseeded) prod directory.
        try (Connection db = connect()) {
            db.createStatement().execute("INSERT INTO customer (customer_id, display_name, email, locale) "
                    + "VALUES ('cus_RkT4aB7cD9eF1g', 'Jenny Rosen', 'jenny.rosen@example.org', 'en-GB') ON CONFLICT DO NOTHING");
        }
        infra.mail().purgeEmailFromAllMailboxes();
        String ticket = String.valueOf(900_000 + (System.nanoTime() % 90_000));
        String event = Samples.supportEvent("ticket.comment_added.json", ticket);
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create(base + "/webhooks/support"))
                .header("Content-Type", "application/json")
                .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk(SECRET, timestamp, event.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(event)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(60)).until(() -> infra.mail().getReceivedMessages().length == 1);
        MimeMessage mail = infra.mail().getReceivedMessages()[0];
        assertThat(mail.getSubject()).isEqualTo("New reply on your request #" + ticket + ": Printer error E-42 after update");

        // The CRM outbox, polled from the CRM's schema.
        try (Connection db = connect()) {
            db.createStatement().execute("INSERT INTO crm.crm_outbox (aggregate, event_type, payload) VALUES ('order', 'order.confirmed', '"
                    + Samples.text("crm/order.confirmed.json").replace("ORD-100234", "ORD-IT" + ticket) + "')");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> infra.mail().getReceivedMessages().length == 2);
        assertThat(infra.mail().getReceivedMessages()[1].getSubject()).isEqualTo("Order ORD-IT" + ticket + " confirmed: 129.90 EUR");
        assertThat(Files.readString(output)).doesNotContain("jenny.rosen@example.org");
    }

    @Test
    void aCrmOutboxTableThatCannotBeReadStopsStartupNamingTheSetting() throws Exception {
        Map<String, String> env = prodEnvironment(freePort());
        env.put("HERALD_CRM_OUTBOX_TABLE", "crm.no_such_outbox");
        herald = start(env);

        assertThat(herald.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(herald.exitValue()).isNotZero();
        assertThat(Files.readString(output))
                .contains("herald.crm.outbox-table (HERALD_CRM_OUTBOX_TABLE): the CRM outbox table 'crm.no_such_outbox' cannot be read")
                .contains("HERALD_CRM_ENABLED=false");
    }

    @Test
    void aMissingRequiredSettingStopsStartupNamingIt() throws Exception {
        Map<String, String> env = prodEnvironment(freePort());
        env.remove("HERALD_SUPPORT_WEBHOOK_SECRET");
        env.remove("HERALD_DB_URL");
        herald = start(env);

        assertThat(herald.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(herald.exitValue()).isNotZero();
        assertThat(Files.readString(output))
                .contains("missing required settings")
                .contains("herald.db.url (environment variable HERALD_DB_URL)")
                .contains("herald.support.webhook-secret (environment variable HERALD_SUPPORT_WEBHOOK_SECRET)");
    }

    private Process start(Map<String, String> env) throws IOException {
        output = Files.createTempFile("herald-prod-", ".log");
        ProcessBuilder builder = new ProcessBuilder("sh", "docker/entrypoint.sh")
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().clear();
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("PATH", System.getProperty("java.home") + File.separator + "bin" + File.pathSeparator + System.getenv("PATH"));
        builder.environment().putAll(env);
        return builder.start();
    }

    private static Map<String, String> prodEnvironment(int port) {
        Map<String, String> env = new HashMap<>();
        Map<String, String> settings = infra.heraldSettings();
        env.put("APP_HOME", APP_HOME.toAbsolutePath().toString());
        env.put("JAVA_OPTS", "-Xmx512m");
        env.put("SPRING_PROFILES_ACTIVE", "prod");
        env.put("HERALD_HTTP_PORT", String.valueOf(port));
        env.put("HERALD_DB_URL", settings.get("herald.db.url"));
        env.put("HERALD_DB_USER", settings.get("herald.db.user"));
        env.put("HERALD_DB_PASSWORD", settings.get("herald.db.password"));
        env.put("HERALD_KAFKA_BROKERS", settings.get("herald.kafka.brokers"));
        env.put("HERALD_KAFKA_GROUP_ID", "herald-prod-it");
        env.put("HERALD_MAIL_HOST", settings.get("herald.mail.host"));
        env.put("HERALD_MAIL_PORT", settings.get("herald.mail.port"));
        env.put("HERALD_MAIL_FROM", "Herald <notifications@herald.example>");
        env.put("HERALD_SUPPORT_WEBHOOK_SECRET", SECRET);
        env.put("HERALD_BILLING_WEBHOOK_SECRET", "it-billing-secret");
        env.put("HERALD_ADMIN_USERNAME", "admin");
        env.put("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD);
        env.put("HERALD_CRM_OUTBOX_TABLE", "crm.crm_outbox");
        String sandbox = settings.get("herald.providers.base-url");
        env.put("HERALD_SMS_URL", sandbox + "/2010-04-01/Accounts/ACit/Messages.json");
        env.put("HERALD_SMS_ACCOUNT_SID", "ACit");
        env.put("HERALD_SMS_AUTH_TOKEN", "it-sms-token");
        env.put("HERALD_SMS_FROM", "+15005550006");
        env.put("HERALD_PUSH_URL", sandbox + "/v1/projects/herald-it/messages:send");
        env.put("HERALD_PUSH_ACCESS_TOKEN", "it-push-token");
        env.put("HERALD_OPS_WEBHOOK_URL", sandbox + "/services/it/ops");
        return env;
    }

    private HttpResponse<String> get(String url, String basicAuth) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).GET();
        if (basicAuth != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(basicAuth.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Connection connect() throws SQLException {
        Map<String, String> settings = infra.heraldSettings();
        return DriverManager.getConnection(settings.get("herald.db.url"), settings.get("herald.db.user"), settings.get("herald.db.password"));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : paths.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
