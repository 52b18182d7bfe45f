package io.herald.testsupport;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import io.herald.HeraldApplication;
import io.herald.local.EmbeddedInfrastructure;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.util.FileSystemUtils;

/**
 * Boots the whole of Herald, its real routes from routes/ included, on the embedded
 * PostgreSQL, Kafka and SMTP server. Every subclass shares one Spring context (same config).
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@AutoConfigureObservability(tracing = false)   // metrics are exported (/actuator/prometheus), as in a real run
public abstract class HeraldIntegrationTest {

    public static final String SUPPORT_SECRET = "local-demo-webhook-secret";
    public static final String BILLING_SECRET = "local-demo-billing-secret";
    private static final AtomicInteger TICKETS = new AtomicInteger((int) (System.currentTimeMillis() % 100_000) * 10);

    protected static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    /** The private half of the DEMO email-events verification key in config/application-local.yaml. Test code only. */
    protected static final String EMAIL_EVENTS_DEMO_KEY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzZA3G1HE9+rptSmeBrWQWaNpRsDrCRMougfbyoaJgoGhRANCAARNo4oDp9x7+mtjPBVYLOuOYzJy8rkNs+kQ0wee2O9tXxE6sNyXrhW6sR19tvWv6+CEFVQH65yvY6CLrvxiS5/g";
    protected final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    protected int port;

    @Autowired
    protected JdbcTemplate jdbc;

    /** A copy of routes/ that tests may edit (the reload test does); the real folder is never touched. */
    protected static final Path ROUTES = copyOf(Path.of("routes"), TestFiles.file("test-routes"), ".camel.yaml");

    /** A copy of datasonnet/*.ds and *.libsonnet that tests may edit (the mapping-fix test does). */
    protected static final Path MAPPINGS = copyOf(Path.of("datasonnet"), TestFiles.file("test-mappings"), ".ds", ".libsonnet");

    /** A copy of templates/ that tests may edit (the live template edit test does). */
    protected static final Path TEMPLATES = TestFiles.copyOfTree(Path.of("templates"), "test-templates");

    @DynamicPropertySource
    static void pointAtEmbeddedInfrastructure(DynamicPropertyRegistry registry) {
        infra.heraldSettings().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("herald.routes", () -> "file:" + ROUTES + "/*.camel.yaml");
        registry.add("camel.main.routes-reload-directory", ROUTES::toString);
        registry.add("herald.mappings-dir", MAPPINGS::toString);
        registry.add("herald.templates-dir", TEMPLATES::toString);
        // The shared context tests the per-notification ops path; OpsDigestTest runs the shipped catalog (digests).
        registry.add("herald.catalog", () -> OpsEachCatalog.file().toString());
        // With one ops post per notification, the shipped 1/s would leave a test's burst posting for minutes into the
        // next tests (IntakeBatchTest sends 250); OpsDigestTest keeps the shipped 1/s for its digests.
        registry.add("herald.ops-webhook.rate-per-second", () -> "50");
        // The retention tests that drop partitions themselves wait for the first run (Polls.afterFirstRetentionRun): soon.
        registry.add("herald.retention.first-run-delay-ms", () -> "5000");
        // A 1 MB CRM order (CrmSourceTest) maps in 6-7 s on a busy machine, and took 38 s once beside a parallel fork: the
        // shipped 30 s would quarantine it there. LiveConfigEditsTest gives its slow mapping 3 s in its copy of the CRM route.
        registry.add("herald.ingest.mapping-time-limit", () -> "PT2M");
        // A route an operator stopped (RouteControlFromHawtioTest) is waited for 5 s at a time, not Camel's 30 s: each of its
        // callers tries again (ingest), gives the delivery back (senders) or answers (a re-drive), whatever the wait.
        registry.add("camel.component.direct.timeout", () -> "5000");
        // A route left stopped or suspended is announced on the ops webhook after this (shipped 5 minutes): RouteControlFromHawtioTest
        // waits for the announcement. Tests that hold a route longer post such an alert too; alerts are told apart by their text.
        registry.add("herald.alerts.route-stopped-after", () -> "PT4S");
    }

    private static Path copyOf(Path folder, Path copy, String... suffixes) {
        try {
            FileSystemUtils.deleteRecursively(copy);
            Files.createDirectories(copy);
            try (Stream<Path> files = Files.list(folder)) {
                for (Path file : files.filter(f -> Stream.of(suffixes).anyMatch(f.toString()::endsWith)).toList()) {
                    Files.copy(file, copy.resolve(file.getFileName()));
                }
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeEach
    void emptyInbox() throws Exception {
        infra.mail().purgeEmailFromAllMailboxes();
    }

    /** A ticket id no other test uses, so each test's events are new notifications. */
    /** The ledger row of one notification's delivery on a channel (empty until it exists). */
    protected Map<String, Object> delivery(String key, String channel) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.*, c.subject, c.rendered_body FROM delivery d"
                + " JOIN notification n ON n.id = d.notification_id LEFT JOIN delivery_content c ON c.delivery_id = d.id"
                + " WHERE n.idempotency_key = ? AND d.channel = ?", key, channel);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    /** Every attempt of that delivery, oldest first: outcome, provider status, reason. */
    protected List<Map<String, Object>> attempts(String key, String channel) {
        return jdbc.queryForList("SELECT a.outcome, a.provider_status, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ? ORDER BY a.id", key, channel);
    }

    /** SMS deliveries parked by an outage: their notification as dispatch stored it, the SMS row PARKED with its reason. */
    protected List<String> parkedSms(String run, String customer, int count, int parkedCount, String nextAttempt) {
        return ParkedSms.insert(jdbc, run, customer, count, parkedCount, nextAttempt);
    }

    protected static String newTicketId() {
        return String.valueOf(TICKETS.incrementAndGet());
    }

    protected HttpResponse<String> post(String path, String contentType, byte[] body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> postSignedBilling(String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return post("/webhooks/billing", "application/json", bytes,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), bytes, BILLING_SECRET)));
    }

    /**
     * Posts an email event batch signed as SendGrid signs it (ECDSA P-256, SHA-256, over timestamp + body, base64 DER) with
     * the private half of the DEMO verification key in config/application-local.yaml (test code only).
     */
    protected HttpResponse<String> postEmailEvents(String body) throws Exception {
        String timestamp = String.valueOf(Instant.now().getEpochSecond());
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(EMAIL_EVENTS_DEMO_KEY)));
        Signature ecdsa = Signature.getInstance("SHA256withECDSA");
        ecdsa.initSign(key);
        ecdsa.update((timestamp + body).getBytes(StandardCharsets.UTF_8));
        return post("/webhooks/email/events", "application/json", body.getBytes(StandardCharsets.UTF_8), Map.of(
                "X-Twilio-Email-Event-Webhook-Signature", Base64.getEncoder().encodeToString(ecdsa.sign()),
                "X-Twilio-Email-Event-Webhook-Timestamp", timestamp));
    }

    /** Publishes raw events to a topic the way the billing system's own producer would. */
    protected void publish(String topic, String key, String... values) throws Exception {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (String value : values) {
                producer.send(new ProducerRecord<>(topic, key, value)).get();
            }
        }
    }

    /** The mail Herald sent for a notification (matched by its X-Herald-Idempotency-Key header), once it arrives. */
    protected MimeMessage awaitMailFor(String idempotencyKey) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsFor(idempotencyKey).isEmpty());
        return mailsFor(idempotencyKey).get(0);
    }

    protected List<MimeMessage> mailsFor(String idempotencyKey) {
        return Arrays.stream(infra.mail().getReceivedMessages()).filter(m -> {
            try {
                return (idempotencyKey + ":email").equals(m.getHeader("X-Herald-Idempotency-Key", null));
            } catch (Exception e) {
                return false;
            }
        }).toList();
    }

    /** Calls Herald's operator API (open in the local profile), JSON in and out. */
    /** The local profile's demo accounts (config/application-local.yaml). */
    public static final String VIEWER = "viewer:viewer-demo";
    public static final String OPERATOR = "operator:operator-demo";
    public static final String ADMIN = "admin:admin-demo";

    /** The API as the demo operator. */
    protected HttpResponse<String> api(String method, String path) throws Exception {
        return apiAs(OPERATOR, method, path, null);
    }

    /** The API as the demo operator, with a JSON body. */
    protected HttpResponse<String> apiJson(String method, String path, String json) throws Exception {
        return apiAs(OPERATOR, method, path, json);
    }

    /** Any path as one of the demo accounts ("user:password", or null for no login), optionally with a JSON body. */
    protected HttpResponse<String> apiAs(String account, String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("Accept", "application/json");
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (account != null) {
            request.header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A console form post with Basic credentials (no CSRF form token needed), as a script would; redirects are not followed. */
    protected HttpResponse<String> consoleFormAs(String account, String path, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> postSupport(String body, String timestamp, String signature) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/support"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (timestamp != null) {
            request.header("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
        }
        if (signature != null) {
            request.header("X-Zendesk-Webhook-Signature", signature);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    protected HttpResponse<String> postSignedSupport(String body) throws Exception {
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        return postSupport(body, timestamp, Signatures.zendesk(SUPPORT_SECRET, timestamp, body.getBytes(StandardCharsets.UTF_8)));
    }
}
