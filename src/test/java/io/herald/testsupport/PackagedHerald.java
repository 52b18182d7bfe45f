package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.herald.local.EmbeddedInfrastructure;
import org.springframework.util.FileSystemUtils;

/**
 * Herald as the image runs it, as a separate process: the built jar's layers laid out exactly as
 * docker/Dockerfile does (target/image-app), started with docker/entrypoint.sh and the prod
 * profile, configured only by environment variables pointing at the embedded infrastructure.
 */
public final class PackagedHerald {

    public static final String SUPPORT_SECRET = "it-webhook-secret";
    public static final String BILLING_SECRET = "it-billing-secret";
    public static final String ADMIN_PASSWORD = "it-admin-password";
    /**
     * The *IT classes run in two JVMs side by side (failsafe's forkCount): they share one layout of the image, made by the
     * first to need it while the other waits (a file lock), and kept for the rest of the build (a stamp names the jar it was
     * made from: a rebuilt jar is laid out again).
     */
    private static final Path APP_HOME = Path.of("target", "image-app");
    private static final Path STAMP = Path.of("target", "image-app.stamp");
    private static final Path LOCK = Path.of("target", "image-app.lock");
    private static boolean exploded;

    private PackagedHerald() {
    }

    /**
     * The embedded infrastructure, started while the jar's layers are laid out: neither needs the other, and each took 10-20 s
     * at the start of a packaged-jar test class, one after the other.
     */
    public static EmbeddedInfrastructure infrastructureAndAppHome() throws Exception {
        CompletableFuture<Path> layout = CompletableFuture.supplyAsync(() -> {
            try {
                return appHome();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
        EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
        try {
            layout.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        return infra;
    }

    /** Extracts the jar's layers once per build, as the Dockerfile's build stage does. */
    public static synchronized Path appHome() throws IOException, InterruptedException {
        if (exploded) {
            return APP_HOME;
        }
        Path jar;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            jar = files.filter(f -> f.getFileName().toString().matches("herald-.*\\.jar")).findFirst().orElseThrow();
        }
        String stamp = jar.getFileName() + " " + Files.size(jar) + " " + Files.getLastModifiedTime(jar).toMillis();
        try (FileChannel lock = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock held = lock.lock()) {
            if (Files.isDirectory(APP_HOME) && Files.exists(STAMP) && Files.readString(STAMP).equals(stamp)) {
                exploded = true;
                return APP_HOME;
            }
            Path layers = Path.of("target", "image-layers");
            Files.deleteIfExists(STAMP);
            FileSystemUtils.deleteRecursively(layers);
            FileSystemUtils.deleteRecursively(APP_HOME);
            Process extract = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djarmode=tools",
                    "-jar", jar.toString(), "extract", "--layers", "--launcher", "--destination", layers.toString()).inheritIO().start();
            if (!extract.waitFor(2, TimeUnit.MINUTES) || extract.exitValue() != 0) {
                throw new IllegalStateException("could not extract the layers of " + jar);
            }
            for (String layer : List.of("dependencies", "spring-boot-loader", "snapshot-dependencies", "application")) {
                Path from = layers.resolve(layer);
                if (Files.isDirectory(from)) {
                    copyTree(from, APP_HOME);
                }
            }
            Files.writeString(STAMP, stamp);
        }
        exploded = true;
        return APP_HOME;
    }

    /** Everything the prod profile requires, from the environment, pointing at the embedded infrastructure. */
    public static Map<String, String> prodEnvironment(EmbeddedInfrastructure infra, int port, String groupId) {
        Map<String, String> settings = infra.heraldSettings();
        String sandbox = settings.get("herald.providers.base-url");
        Map<String, String> env = new HashMap<>();
        env.put("APP_HOME", APP_HOME.toAbsolutePath().toString());
        // C1 only (as spring-boot:run's optimized launch): a test's Herald lives a few minutes on 2 shared cores, where C2's
        // compilations took a core from the start and the stream (JAVA_OPTS adds to the image's flags, as in production).
        env.put("JAVA_OPTS", "-Xmx512m -XX:TieredStopAtLevel=1");
        env.put("SPRING_PROFILES_ACTIVE", "prod");
        env.put("HERALD_HTTP_PORT", String.valueOf(port));
        env.put("HERALD_DB_URL", settings.get("herald.db.url"));
        env.put("HERALD_DB_USER", settings.get("herald.db.user"));
        env.put("HERALD_DB_PASSWORD", settings.get("herald.db.password"));
        env.put("HERALD_KAFKA_BROKERS", settings.get("herald.kafka.brokers"));
        env.put("HERALD_KAFKA_GROUP_ID", groupId);
        env.put("HERALD_MAIL_HOST", settings.get("herald.mail.host"));
        env.put("HERALD_MAIL_PORT", settings.get("herald.mail.port"));
        env.put("HERALD_MAIL_FROM", "Herald <notifications@herald.example>");
        env.put("HERALD_MAIL_TLS", "none");   // the embedded GreenMail speaks no TLS
        env.put("HERALD_SUPPORT_WEBHOOK_SECRET", SUPPORT_SECRET);
        env.put("HERALD_BILLING_WEBHOOK_SECRET", BILLING_SECRET);
        env.put("HERALD_INCIDENTS_TOKEN", "packaged-test-incidents-token");
        env.put("HERALD_ADMIN_USERNAME", "admin");
        env.put("HERALD_CONSOLE_BASE_URL", "https://herald.example.test");
        env.put("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD);
        env.put("HERALD_CRM_OUTBOX_TABLE", "crm.crm_outbox");
        env.put("HERALD_SMS_URL", sandbox + "/2010-04-01/Accounts/ACit/Messages.json");
        env.put("HERALD_SMS_ACCOUNT_SID", "ACit");
        env.put("HERALD_SMS_AUTH_TOKEN", "it-sms-token");
        env.put("HERALD_SMS_FROM", "+15005550006");
        env.put("HERALD_EMAIL_EVENTS_VERIFICATION_KEY", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETaOKA6fce/prYzwVWCzrjmMycvK5DbPpENMHntjvbV8ROrDcl64VurEdfbb1r+vghBVUB+ucr2Ogi678Ykuf4A==");   // the local DEMO key
        env.put("HERALD_PUSH_URL", sandbox + "/v1/projects/herald-it/messages:send");
        env.put("HERALD_PUSH_ACCESS_TOKEN", "it-push-token");
        env.put("HERALD_OPS_WEBHOOK_URL", sandbox + "/services/it/ops");
        // The shipped catalog without its billing quiet hours: the tests' billing events go out at any hour the suite runs.
        env.put("HERALD_CATALOG", WithoutQuietHours.shipped().toString());
        return env;
    }

    /** Starts docker/entrypoint.sh with exactly this environment, output to the log file. */
    public static Process start(Map<String, String> env, Path log) throws IOException {
        ProcessBuilder builder = new ProcessBuilder("sh", "docker/entrypoint.sh").redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().clear();
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("PATH", System.getProperty("java.home") + File.separator + "bin" + File.pathSeparator + System.getenv("PATH"));
        builder.environment().putAll(env);
        return builder.start();
    }

    /** Starts Herald and waits until its health endpoint answers 200 (up to 3 minutes). */
    public static Process startHealthy(Map<String, String> env, int port, Path log) throws IOException {
        Process herald = start(env, log);
        awaitHealthy(herald, port, log);
        return herald;
    }

    /** Waits until a started Herald's health endpoint answers 200 (up to 3 minutes); kills it if it does not. */
    public static void awaitHealthy(Process herald, int port, Path log) {
        HttpClient http = HttpClient.newHttpClient();
        try {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptionsInstanceOf(IOException.class).until(() -> {
                if (!herald.isAlive()) {
                    throw new AssertionError("Herald exited with " + herald.exitValue() + " before it was healthy; see " + log);
                }
                return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
            });
        } catch (RuntimeException | Error e) {
            herald.destroyForcibly();   // never leave a half-started Herald running after the test
            throw e;
        }
    }

    /** The CRM's outbox in a schema of its own in Herald's database, as production exposes it. */
    public static void createCrmOutbox(EmbeddedInfrastructure infra) throws IOException, SQLException {
        try (Connection db = connect(infra)) {
            db.createStatement().execute("CREATE SCHEMA IF NOT EXISTS crm");
            db.createStatement().execute(Files.readString(Path.of("src/test/resources/samples/crm/outbox.sql"))
                    .replace("CREATE TABLE crm_outbox", "CREATE TABLE IF NOT EXISTS crm.crm_outbox")
                    .replace("CREATE INDEX crm_outbox_unprocessed ON crm_outbox", "CREATE INDEX IF NOT EXISTS crm_outbox_unprocessed ON crm.crm_outbox"));
        }
    }

    public static Connection connect(EmbeddedInfrastructure infra) throws SQLException {
        Map<String, String> settings = infra.heraldSettings();
        return DriverManager.getConnection(settings.get("herald.db.url"), settings.get("herald.db.user"), settings.get("herald.db.password"));
    }

    public static int freePort() throws IOException {
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
