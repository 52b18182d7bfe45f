package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import org.junit.jupiter.api.Test;

/** The probes deploy/kubernetes uses: readiness is made of PostgreSQL (db) and Kafka (kafka), liveness of neither. */
class ReadinessProbeTest extends HeraldIntegrationTest {

    @Test
    void readinessReflectsPostgresqlAndKafkaLivenessNeither() throws Exception {
        JsonNode readiness = await().atMost(Duration.ofSeconds(30)).until(() -> health("readiness"),
                body -> body.path("components").path("kafka").path("status").asText().equals("UP"));
        assertThat(readiness.path("status").asText()).isEqualTo("UP");
        assertThat(readiness.path("components").path("db").path("status").asText()).isEqualTo("UP");
        assertThat(readiness.path("components").path("kafka").path("details").path("brokers").asText()).isEqualTo(infra.kafkaBrokers());
        JsonNode liveness = health("liveness");
        assertThat(liveness.path("status").asText()).isEqualTo("UP");
        assertThat(liveness.path("components").has("db")).isFalse();
        assertThat(liveness.path("components").has("kafka")).isFalse();
    }

    private JsonNode health(String group) throws Exception {
        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/actuator/health/" + group))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("admin:admin-demo".getBytes(StandardCharsets.UTF_8)))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(answer.body());
    }
}
