package io.herald.tracing;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.herald.HeraldApplication;
import io.herald.config.OpsWebhookSettings;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import io.herald.testsupport.WithoutQuietHours;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * One billing webhook event, traced: the spans an exporter receives share one trace id from the webhook
 * through Kafka, the billing-ingest batch, the mapping and intake, the dispatch batch and, across the ledger
 * (the notification row keeps the traceparent), the SMS channel's route to the provider's HTTP call; the
 * provider (WireMock) got that trace in its traceparent header.
 *
 * <p>Its own Herald (own database, topics and consumer groups) with an in-memory span exporter: the shared
 * test context runs with tracing off, as Herald does when no OTLP endpoint is configured.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@DirtiesContext
@Import(TracingTest.Spans.class)
class TracingTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final String SMS_PATH = "/2010-04-01/Accounts/[^/]+/Messages.json";
    private static final String BILLING_SECRET = "local-demo-billing-secret";
    private static final long RUN = System.nanoTime();
    private static final AtomicInteger EVENTS = new AtomicInteger(800_000_000 + (int) (System.currentTimeMillis() % 100_000_000));

    @TestConfiguration
    static class Spans {
        @Bean
        InMemorySpanExporter spans() {
            return InMemorySpanExporter.create();
        }
    }

    @DynamicPropertySource
    static void ownTracedHerald(DynamicPropertyRegistry registry) {
        infra.heraldSettings().forEach((key, value) -> registry.add(key, () -> value));
        // Its own database and topics: the shared Herald's consumers and senders would otherwise take this event untraced.
        registry.add("herald.db.url", () -> infra.database("tracing_test"));
        String name = "tracing-test-" + RUN;
        for (String topic : List.of("support-events", "billing-events", "crm-events", "notifications", "dead-letters")) {
            registry.add("herald.topics." + topic, () -> name + "." + topic);
        }
        registry.add("herald.topics.replication-factor", () -> "1");
        registry.add("herald.kafka.group-id", () -> name);
        // The shipped catalog, its billing quiet hours aside: the traced SMS goes out at any hour the suite runs.
        registry.add("herald.catalog", () -> WithoutQuietHours.shipped().toString());
        // The CRM outbox is polled (every 500 ms) as in production: polls that find nothing make no trace.
        registry.add("herald.alerts.poll-interval-ms", () -> "2000");
    }

    private final HttpClient http = HttpClient.newHttpClient();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    InMemorySpanExporter exporter;
    @Autowired
    OpsWebhookSettings opsWebhook;

    @Test
    void oneWebhookEventIsOneTraceFromTheWebhookToTheProviderCall() throws Exception {
        String unique = String.valueOf(EVENTS.incrementAndGet());
        String event = Samples.paymentFailedNow(unique);   // stamped now: the shipped catalog drops a late payment_failed
        String key = Samples.paymentFailedKey(unique);
        HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/billing"))
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), event.getBytes(StandardCharsets.UTF_8), BILLING_SECRET))
                .POST(HttpRequest.BodyPublishers.ofString(event, StandardCharsets.UTF_8)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).isEqualTo(202);

        // The provider got the SMS with a W3C traceparent: that is the trace to follow.
        await().atMost(Duration.ofSeconds(30)).until(() -> !smsRequests(key).isEmpty());
        String traceparent = smsRequests(key).get(0).getHeader("traceparent");
        assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
        String traceId = traceparent.split("-")[1];

        // The notification row kept the intake's place in that trace for the senders.
        assertThat(jdbc.queryForObject("SELECT traceparent FROM notification WHERE idempotency_key = ?", String.class, key))
                .startsWith("00-" + traceId + "-");

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            List<SpanData> trace = trace(traceId);
            Set<String> names = trace.stream().map(SpanData::getName).collect(Collectors.toSet());
            assertThat(names).as("span names of trace %s: %s", traceId, describe(trace))
                    .contains("billing-ingest", "billing-mapping", "notification-intake", "dispatch", "deliver-sms");
        });
        List<SpanData> trace = trace(traceId);

        // One root: the webhook's HTTP request; everything else has its parent in the same trace.
        List<SpanData> roots = trace.stream().filter(s -> !s.getParentSpanContext().isValid()).toList();
        assertThat(roots).as(describe(trace)).hasSize(1);
        assertThat(roots.get(0).getName()).isEqualTo("POST");
        assertThat(roots.get(0).getAttributes().toString()).contains("/webhooks/billing");
        Set<String> ids = trace.stream().map(SpanData::getSpanId).collect(Collectors.toSet());
        assertThat(trace).allSatisfy(span -> {
            if (span.getParentSpanContext().isValid()) {
                assertThat(ids).as("parent of %s", span.getName()).contains(span.getParentSpanId());
            }
        });
        // The webhook queued the event on the billing events topic, and the provider call is the span whose id the provider got.
        SpanData queued = only(trace, "tracing-test-" + RUN + ".billing-events");
        assertThat(queued.getParentSpanId()).isEqualTo(roots.get(0).getSpanId());
        SpanData providerCall = trace.stream().filter(s -> s.getSpanId().equals(traceparent.split("-")[2])).findFirst().orElseThrow();
        assertThat(providerCall.getName()).isEqualTo("POST");
        assertThat(providerCall.getAttributes().toString()).contains("Messages.json");
        // The provider call sits under the SMS channel's route, which sits (across the ledger) under intake.
        assertThat(ancestors(trace, providerCall)).contains("deliver-sms", "notification-intake", "billing-ingest");
        assertThat(ancestors(trace, only(trace, "dispatch"))).contains("notification-intake", "billing-ingest");

        // Polls that found nothing (the senders' ticks, the CRM outbox every 500 ms, the failure-alert check) started no
        // trace: every trace the exporter saw began with work - a request to Herald, a Kafka batch or its publish, a digest post.
        assertThat(exporter.getFinishedSpanItems().stream().filter(s -> !s.getParentSpanContext().isValid()).map(SpanData::getName)
                .collect(Collectors.toSet())).allSatisfy(root -> assertThat(
                        root.equals("POST") || root.startsWith("tracing-test-" + RUN + ".") || root.startsWith("deliver-"))
                        .as("a trace began with %s", root).isTrue());
        // The ops webhook's URL (its path is its key) is in no span, although Camel's HTTP client spans name the URL called.
        assertThat(opsWebhook.url()).isNotBlank();
        assertThat(exporter.getFinishedSpanItems()).allSatisfy(span -> assertThat(span.getAttributes().toString()).doesNotContain(opsWebhook.url()));
    }

    private List<LoggedRequest> smsRequests(String key) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(SMS_PATH)).withHeader("Idempotency-Key", equalTo(key + ":sms")));
    }

    private List<SpanData> trace(String traceId) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    private static SpanData only(List<SpanData> trace, String name) {
        List<SpanData> named = trace.stream().filter(s -> s.getName().equals(name)).toList();
        assertThat(named).as("spans named %s", name).hasSize(1);
        return named.get(0);
    }

    private static List<String> ancestors(List<SpanData> trace, SpanData span) {
        List<String> names = new java.util.ArrayList<>();
        SpanData current = span;
        while (current.getParentSpanContext().isValid()) {
            String parent = current.getParentSpanId();
            current = trace.stream().filter(s -> s.getSpanId().equals(parent)).findFirst().orElseThrow();
            names.add(current.getName());
        }
        return names;
    }

    private static String describe(List<SpanData> trace) {
        return trace.stream().map(s -> s.getName() + "(" + s.getKind() + " " + s.getSpanId() + "<-" + s.getParentSpanId() + ")")
                .collect(Collectors.joining(", "));
    }
}
