package io.herald.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.local.EmbeddedInfrastructure;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.common.ConsumerGroupState;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What a test class with a Herald of its own ({@link OwnHerald}) does to it and reads from it, from the outside: puts a
 * customer in its directory, posts signed billing and support webhooks, calls its API and console as one of the local
 * profile's demo accounts, reads a notification's timeline, finds the mails it sent by idempotency key, and reads its
 * ledger rows (delivery, attempts, scheduled send). One per test instance: it knows that Herald's port and database.
 */
public final class OwnHeraldClient {

    /** The local profile's demo accounts (config/application-local.yaml), as "user:password". */
    public static final String VIEWER = "viewer:viewer-demo";
    public static final String OPERATOR = "operator:operator-demo";
    public static final String ADMIN = "admin:admin-demo";
    public static final String APPROVER = "approver:approver-demo";

    private static final String BILLING_SECRET = "local-demo-billing-secret";
    private static final String SUPPORT_SECRET = "local-demo-webhook-secret";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedInfrastructure infra;
    private final int port;
    private final JdbcTemplate jdbc;
    private final HttpClient http = HttpClient.newHttpClient();

    public OwnHeraldClient(EmbeddedInfrastructure infra, int port, JdbcTemplate jdbc) {
        this.infra = infra;
        this.port = port;
        this.jdbc = jdbc;
    }

    // ---------------------------------------------------------------- the customer directory and the sources

    /**
     * Puts a customer in the directory with the email {@code <id>@example.com}; phone, locale and time zone are left to the
     * directory's defaults where null. Returns the id.
     */
    public String insertCustomer(String id, String displayName, String phone, String locale, String timeZone) {
        Map<String, Object> columns = new LinkedHashMap<>();
        columns.put("customer_id", id);
        columns.put("display_name", displayName);
        columns.put("email", id + "@example.com");
        columns.put("phone", phone);
        columns.put("locale", locale);
        columns.put("time_zone", timeZone);
        columns.values().removeIf(value -> value == null);
        jdbc.update("INSERT INTO customer (" + String.join(", ", columns.keySet()) + ") VALUES ("
                + String.join(", ", columns.keySet().stream().map(c -> "?").toList()) + ")", columns.values().toArray());
        return id;
    }

    /** Posts a Stripe-style event to the billing webhook, signed now with the local demo secret; it must be accepted (202). */
    public void postBilling(String event) {
        byte[] bytes = event.getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> posted = send(HttpRequest.newBuilder(uri("/webhooks/billing"))
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), bytes, BILLING_SECRET))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)));
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
    }

    /** Posts a Zendesk-style event to the support webhook, signed now with the local demo secret; it must be accepted (202). */
    public void postSupport(String event) {
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        HttpResponse<String> posted = send(HttpRequest.newBuilder(uri("/webhooks/support"))
                .header("Content-Type", "application/json")
                .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp)
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk(SUPPORT_SECRET, timestamp, event.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString(event)));
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
    }

    /**
     * Waits until this Herald's consumer group {@code group} has all its {@code members} (herald.kafka.consumers) and is
     * not rebalancing. Right after start-up the consumer threads may join one by one: the first takes every partition and
     * reads; a later one makes the group rebalance, which the first learns of only at its next heartbeat (up to 3 s). A
     * record it had polled into its batch by then (camel-kafka batching) is still handled by it, and read again by the
     * partition's new owner from the last committed offset. The ledger absorbs that repeat (nothing is sent twice) but counts
     * it as one more suppressed duplicate, so a test counting the duplicates of events it repeats waits for this first.
     */
    public void awaitConsumerGroupSettled(String group, int members) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
                return described.state() == ConsumerGroupState.STABLE && described.members().size() == members;
            });
        }
    }

    // ---------------------------------------------------------------- what the customer receives

    /** The mails Herald sent for a notification (matched by their X-Herald-Idempotency-Key header). */
    public List<MimeMessage> mailsFor(String key) {
        return mails((key + ":email")::equals);
    }

    /** The mail Herald sent for a notification, once it arrives (30 s at most). */
    public MimeMessage awaitMailFor(String key) {
        await().atMost(Duration.ofSeconds(30)).until(() -> !mailsFor(key).isEmpty());
        return mailsFor(key).get(0);
    }

    /** The mails whose X-Herald-Idempotency-Key starts with this (every notification of a ticket, say). */
    public List<MimeMessage> mailsForKeysStartingWith(String prefix) {
        return mails(key -> key.startsWith(prefix));
    }

    private List<MimeMessage> mails(Predicate<String> key) {
        return Arrays.stream(infra.mail().getReceivedMessages()).filter(m -> {
            try {
                String header = m.getHeader("X-Herald-Idempotency-Key", null);
                return header != null && key.test(header);
            } catch (Exception e) {
                return false;
            }
        }).toList();
    }

    // ---------------------------------------------------------------- what people see in the API and the console

    /**
     * Any path as one of the demo accounts (or null: no login), with an optional JSON body. A console page is asked for as
     * HTML, the API as JSON, CSV reports and actuator endpoints as they come.
     */
    public HttpResponse<String> as(String account, String method, String path, String json) {
        return authorized(account == null ? null : basic(account), method, path, json);
    }

    /** The same call with a Bearer token (an OIDC access token) instead of a demo account. */
    public HttpResponse<String> bearer(String token, String method, String path, String json) {
        return authorized("Bearer " + token, method, path, json);
    }

    private HttpResponse<String> authorized(String authorization, String method, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (method.equals("GET") && path.startsWith("/console")) {
            request.header("Accept", "text/html");
        } else if (!path.startsWith("/actuator") && !path.contains(".csv")) {
            request.header("Accept", "application/json");
        }
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return send(request);
    }

    /** Submits a console form (application/x-www-form-urlencoded) as one of the demo accounts; redirects are not followed. */
    public HttpResponse<String> postForm(String account, String path, String form) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Authorization", basic(account))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)));
    }

    /** A notification's timeline as GET /api/notifications/{id} shows it to the demo operator. */
    public JsonNode timeline(long notificationId) {
        HttpResponse<String> response = as(OPERATOR, "GET", "/api/notifications/" + notificationId, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return json(response).get("timeline");
    }

    /** The first timeline entry whose "what" is this. */
    public static JsonNode entry(JsonNode timeline, String what) {
        for (JsonNode entry : timeline) {
            if (entry.get("what").asText().equals(what)) {
                return entry;
            }
        }
        throw new AssertionError("no '" + what + "' in the timeline: " + timeline);
    }

    /** The "error" of a refused API call, as the caller reads it. */
    public static String error(HttpResponse<String> response) {
        return json(response).get("error").asText();
    }

    public static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- the ledger

    public long notificationId(String key) {
        return jdbc.queryForObject("SELECT id FROM notification WHERE idempotency_key = ?", Long.class, key);
    }

    /** The ledger row of a notification's delivery on a channel (empty until it exists). */
    public Map<String, Object> delivery(String key, String channel) {
        return jdbc.queryForList("SELECT d.* FROM delivery d JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ?"
                + " AND d.channel = ?", key, channel).stream().findFirst().orElse(Map.of());
    }

    /** Every attempt of that delivery, oldest first: outcome and reason. */
    public List<Map<String, Object>> attempts(String key, String channel) {
        return jdbc.queryForList("SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = ? ORDER BY a.id", key, channel);
    }

    /** The notification's scheduled send (quiet hours, reminder, held), empty if it has none. */
    public Map<String, Object> scheduled(String key) {
        return jdbc.queryForList("SELECT s.* FROM scheduled_send s JOIN notification n ON n.id = s.notification_id WHERE n.idempotency_key = ?",
                key).stream().findFirst().orElse(Map.of());
    }

    /** The scheduled send, once dispatch has made it (30 s at most). */
    public Map<String, Object> awaitScheduled(String key) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> scheduled(key), row -> !row.isEmpty());
    }

    /**
     * When db-scheduler's durable timer for this notification is due: its current one ("4711", or "4711.1" once it was
     * scheduled again after it fired, ScheduledSends.scheduleAfterClaim).
     */
    public Instant timerAt(String key) {
        long id = notificationId(key);
        return jdbc.queryForObject("""
                SELECT t.execution_time FROM scheduled_tasks t JOIN scheduled_send s ON s.notification_id = ?
                WHERE t.task_name = 'herald-scheduled-send'
                  AND t.task_instance = CASE WHEN s.timer = 0 THEN CAST(s.notification_id AS TEXT) ELSE s.notification_id || '.' || s.timer END""",
                Timestamp.class, id).toInstant();
    }

    // ----------------------------------------------------------------

    private URI uri(String path) {
        return URI.create("http://localhost:" + port + path);
    }

    private static String basic(String account) {
        return "Basic " + Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8));
    }

    private HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling Herald at " + request.build().uri(), e);
        }
    }
}
