package io.herald.dispatch;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import io.herald.HeraldApplication;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.OwnHerald;
import io.herald.testsupport.OwnHeraldClient;
import io.herald.testsupport.Samples;
import io.herald.testsupport.TestFiles;
import io.herald.testsupport.WithoutQuietHours;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * FCM HTTP v1 takes only short-lived access tokens, minted from a Firebase service account. Herald is given the service
 * account's key file (herald.push.service-account-file, here a key made for the test, its token endpoint the WireMock
 * sandbox's): it signs the account's assertion (RS256, verified here with the key's public half), fetches a token, sends
 * pushes with it, and after FCM refuses it (401: revoked, expired early) fetches a new one for the retry. A fixed token
 * (herald.push.access-token) stopped working for good when it expired, each push failing with an alert of its own.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
@AutoConfigureObservability(tracing = false)
@DirtiesContext
class PushServiceAccountTest {

    private static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PUSH_PATH = "/v1/projects/[^/]+/messages:send";
    private static final String TOKEN_PATH = "/oauth2-test/token";
    private static final String CLIENT = "herald@herald-test.iam.gserviceaccount.com";
    private static final KeyPair KEY = rsa();

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;
    OwnHeraldClient herald;

    @BeforeEach
    void client() {
        herald = new OwnHeraldClient(infra, port, jdbc);
    }

    @DynamicPropertySource
    static void serviceAccount(DynamicPropertyRegistry registry) {
        OwnHerald.register(registry, infra, "push-service-account-test");
        registry.add("herald.catalog", () -> WithoutQuietHours.shipped().toString());
        registry.add("herald.push.service-account-file", () -> keyFile().toString());
    }

    @Test
    void pushesCarryATokenMintedFromTheServiceAccountAndANewOneAfterFcmRefusesIt() throws Exception {
        String scenario = "tokens-" + UUID.randomUUID();
        infra.providers().stubFor(WireMock.post(urlPathEqualTo(TOKEN_PATH)).inScenario(scenario).whenScenarioStateIs(Scenario.STARTED)
                .willReturn(token("ya29.first")).willSetStateTo("second"));
        infra.providers().stubFor(WireMock.post(urlPathEqualTo(TOKEN_PATH)).inScenario(scenario).whenScenarioStateIs("second")
                .willReturn(token("ya29.second")));

        // The first push goes out with the minted token.
        String first = reply("cus_sa_first");
        await().atMost(Duration.ofSeconds(45)).until(() -> "SENT".equals(herald.delivery(first, "push").get("state")));
        assertThat(fcmCalls(first)).extracting(call -> call.getHeader("Authorization")).containsExactly("Bearer ya29.first");
        LoggedRequest asked = infra.providers().findAll(postRequestedFor(urlPathEqualTo(TOKEN_PATH))).get(0);
        Map<String, String> form = form(asked.getBodyAsString());
        assertThat(form).containsEntry("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        JsonNode claims = verified(form.get("assertion"));
        assertThat(claims.get("iss").asText()).isEqualTo(CLIENT);
        assertThat(claims.get("aud").asText()).isEqualTo("https://oauth2.googleapis.com/token");   // what Google checks
        assertThat(claims.get("scope").asText()).contains(PushAccessTokens.SCOPE);

        // FCM now refuses that token: the retry fetches a new one and the push is sent with it, once.
        infra.providers().stubFor(WireMock.post(urlPathMatching(PUSH_PATH)).withHeader("Authorization", equalTo("Bearer ya29.first"))
                .atPriority(1).willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                        .withBody("{\"error\": {\"code\": 401, \"message\": \"Request had invalid authentication credentials.\","
                                + " \"status\": \"UNAUTHENTICATED\"}}")));
        String second = reply("cus_sa_second");
        await().atMost(Duration.ofSeconds(45)).until(() -> "SENT".equals(herald.delivery(second, "push").get("state")));
        assertThat(fcmCalls(second)).extracting(call -> call.getHeader("Authorization"))
                .containsExactly("Bearer ya29.first", "Bearer ya29.second");
        assertThat(herald.attempts(second, "push")).extracting(a -> a.get("outcome")).containsExactly("RETRYING", "SENT");
        assertThat(herald.attempts(second, "push").get(0).get("reason").toString())
                .contains("provider answered HTTP 401", "the provider refuses Herald's credentials");
        await().atMost(Duration.ofSeconds(30)).until(() -> "SKIPPED".equals(herald.delivery(second, "sms").get("state")));
        assertThat(herald.delivery(second, "sms").get("reason").toString()).as("first-success: the push went out, no SMS")
                .contains("already sent by push");
    }

    /** A file that is no service account key stops startup (this bean's construction) naming the setting, not at the first push. */
    @Test
    void aFileThatIsNoServiceAccountKeyIsRefusedNamingTheSetting() throws IOException {
        Path notAKey = TestFiles.file("not-a-service-account.json");
        // A complete key of another kind (a user's, as gcloud writes it): not a service account.
        Files.writeString(notAKey, "{\"type\": \"authorized_user\", \"client_id\": \"1.apps.googleusercontent.com\","
                + " \"client_secret\": \"d-test\", \"refresh_token\": \"1//test\"}");
        io.herald.config.PushSettings settings = new io.herald.config.PushSettings("", "", 50, 16, null, null, false, null, null, null,
                null, 1000, notAKey.toString(), 10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PushAccessTokens(settings))
                .hasMessageStartingWith("herald.push.service-account-file (HERALD_PUSH_SERVICE_ACCOUNT_FILE) '" + notAKey
                        + "' is not a readable Firebase service account key");
    }

    /**
     * A token endpoint that takes the request and never answers: google-auth alone waits 20 s per try and tries again, holding
     * a push sender for a minute or more. The call now waits the push call's own timeouts at most, and the push is parked.
     */
    @Test
    void aTokenEndpointThatDoesNotAnswerIsGivenUpWithinThePushTimeouts() {
        infra.providers().stubFor(WireMock.post(urlPathEqualTo("/hanging-token")).willReturn(token("ya29.late").withFixedDelay(30_000)));
        io.herald.config.PushSettings settings = new io.herald.config.PushSettings("", "", 50, 16, null, null, false, null, null, null,
                null, 1000, keyFile("/hanging-token", "push-hanging-token.json").toString(), 10);
        PushAccessTokens tokens = new PushAccessTokens(settings, 500, 1000);
        long start = System.nanoTime();
        org.assertj.core.api.Assertions.assertThatThrownBy(tokens::current).isInstanceOf(PushAccessTokens.PushTokenUnavailable.class)
                .hasMessage("the push provider's access token could not be fetched from the service account's token endpoint"
                        + " (herald.push.service-account-file): the token endpoint did not answer within 1500 ms"
                        + " (herald.push.connect-timeout-ms + response-timeout-ms)");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).isLessThan(java.time.Duration.ofSeconds(10));
        assertThat(ProviderErrors.readable(new RuntimeException(new PushAccessTokens.PushTokenUnavailable("x")), "push")).endsWith("x; FCM was not called");
    }

    /** An agent's reply to a new customer with a push token (first-success: push first); its idempotency key. */
    private String reply(String customer) {
        String id = customer + UUID.randomUUID().toString().substring(0, 6);
        jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Sam Account', ?, ?, ?::jsonb)",
                id, id + "@example.net", "+4477009" + (10000 + Math.abs(id.hashCode()) % 89999),
                "[\"fcm:" + UUID.randomUUID().toString().replace("-", "") + "\"]");
        String ticket = String.valueOf(100000 + Math.abs(id.hashCode()) % 800000);
        herald.postSupport(Samples.supportEvent("ticket.comment_added.json", ticket).replace("cus_RkT4aB7cD9eF1g", id));
        return "support:agent_replied:" + ticket + ":41000000000555";
    }

    private List<LoggedRequest> fcmCalls(String key) {
        return infra.providers().findAll(postRequestedFor(urlPathMatching(PUSH_PATH)).withHeader("Idempotency-Key",
                com.github.tomakehurst.wiremock.client.WireMock.matching(java.util.regex.Pattern.quote(key + ":push:") + "[0-9a-f]{16}")));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder token(String value) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                .withBody("{\"access_token\": \"" + value + "\", \"expires_in\": 3599, \"token_type\": \"Bearer\"}");
    }

    /** The JWT's claims, once its RS256 signature is verified with the service account key's public half. */
    private static JsonNode verified(String jwt) throws Exception {
        String[] parts = jwt.split("\\.");
        assertThat(parts).hasSize(3);
        assertThat(JSON.readTree(Base64.getUrlDecoder().decode(parts[0])).get("alg").asText()).isEqualTo("RS256");
        Signature rs256 = Signature.getInstance("SHA256withRSA");
        rs256.initVerify(KEY.getPublic());
        rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
        assertThat(rs256.verify(Base64.getUrlDecoder().decode(parts[2]))).as("signed with the service account's key").isTrue();
        return JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new java.util.HashMap<>();
        for (String pair : body.split("&")) {
            String[] nameValue = pair.split("=", 2);
            form.put(URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8), URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8));
        }
        return form;
    }

    /** A Firebase-style service account key file for a key made for this test, its token endpoint the WireMock sandbox. */
    private static Path keyFile() {
        return keyFile(TOKEN_PATH, "push-service-account.json");
    }

    private static Path keyFile(String tokenPath, String name) {
        String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(KEY.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
        Map<String, String> account = Map.of("type", "service_account", "project_id", "herald-test", "private_key_id", "test-key-1",
                "private_key", pem, "client_email", CLIENT, "client_id", "1234567890",
                "token_uri", "http://127.0.0.1:" + infra.providers().port() + tokenPath);
        try {
            Path file = TestFiles.file(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, JSON.writeValueAsString(account));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
