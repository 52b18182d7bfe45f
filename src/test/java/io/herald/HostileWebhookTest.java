package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;

import io.herald.testsupport.HeraldIntegrationTest;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.connector.Request;
import org.apache.catalina.valves.RemoteIpValve;
import org.apache.catalina.valves.ValveBase;
import io.herald.testsupport.Signatures;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.web.embedded.tomcat.TomcatWebServer;
import org.springframework.boot.web.servlet.context.ServletWebServerApplicationContext;

/**
 * Each class of hostile request the webhooks meet, as real senders produce it: every one ends in a 202 with the
 * event on its Kafka topic, or in a 4xx with one inbound_rejection row (status, readable reason, bounded
 * excerpt); never a 500, and nothing in a stored reason is for engineers only.
 */
class HostileWebhookTest extends HeraldIntegrationTest {

    private static final int LIMIT = 1_048_576;
    private static final String BILLING_TOPIC = "herald.billing.events";
    private static final String SUPPORT_TOPIC = "herald.support.events";
    /** What a reason for people never contains: exception names, parser and database internals. */
    private static final Pattern TECHNICAL = Pattern.compile(
            "Exception|Error:|java\\.|jakarta\\.|org\\.|com\\.fasterxml|\\[Source|CTRL-CHAR|code \\d+\\)|Unexpected character"
                    + "|Unrecognized token|Internal Error|SQL|varying|byte sequence|Invalid UTF-8|null$");

    private long before;

    @BeforeEach
    void rememberLastRejection() {
        before = jdbc.queryForObject("SELECT coalesce(max(id), 0) FROM inbound_rejection", Long.class);
    }

    @AfterEach
    void everyStoredReasonIsReadable() {
        for (String reason : jdbc.queryForList("SELECT reason FROM inbound_rejection WHERE id > ?", String.class, before)) {
            assertThat(reason).doesNotContainPattern(TECHNICAL).isNotBlank();
        }
    }

    @Test
    void invalidUtf8IsRefusedWith400AndKeptReadably() throws Exception {
        String marker = marker();
        byte[] body = concat(("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\", \"note\": \"").getBytes(StandardCharsets.UTF_8),
                new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE, (byte) 0xED, (byte) 0xA0, (byte) 0x80},
                "\"}".getBytes(StandardCharsets.UTF_8));

        HttpResponse<String> signed = signedBilling("application/json", body);
        HttpResponse<String> unsigned = post("/webhooks/support", "application/json", body, Map.of());

        assertThat(signed.statusCode()).isEqualTo(400);
        assertThat(signed.body()).contains("not valid UTF-8");
        assertThat(unsigned.statusCode()).isEqualTo(401);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("http_status")).containsExactly(400, 401);
        assertThat(rows.get(0).get("reason").toString()).isEqualTo(
                "body is not valid UTF-8 (invalid byte at offset " + (body.length - 9) + "); send the event as JSON in UTF-8");
        assertThat(rows.get(1).get("reason").toString()).isEqualTo("missing X-Zendesk-Webhook-Signature header");
        for (Map<String, Object> row : rows) {
            assertThat(row.get("body_bytes")).isEqualTo((long) body.length);
            assertThat(row.get("body_excerpt").toString()).contains("evt_" + marker).contains("\uFFFD");
        }
    }

    @Test
    void aNulByteInANonJsonBodyIsRefusedAndKeptWithoutIt() throws Exception {
        String marker = marker();
        byte[] body = ("not json " + marker + "\u0000 after a NUL").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> signed = signedBilling("application/json", body);
        HttpResponse<String> unsigned = post("/webhooks/billing", "text/plain", body, Map.of());

        assertThat(signed.statusCode()).isEqualTo(400);
        assertThat(unsigned.statusCode()).isEqualTo(401);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("http_status")).containsExactly(400, 401);
        assertThat(rows.get(0).get("reason").toString())
                .isEqualTo("body is not valid JSON (at line 1, column 1); expected one JSON object (the event)");
        assertThat(rows.get(1).get("reason").toString()).isEqualTo("missing Stripe-Signature header");
        assertThat(rows).allSatisfy(row -> assertThat(row.get("body_excerpt")).isEqualTo("not json " + marker + " after a NUL"));
    }

    @Test
    void aFormUrlencodedBodyIsRefusedWith415() throws Exception {
        String marker = marker();
        byte[] body = ("id=evt_" + marker + "&type=invoice.paid&data%5Bobject%5D=x").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> signed = signedBilling("application/x-www-form-urlencoded", body);
        HttpResponse<String> unsigned = post("/webhooks/support", "application/x-www-form-urlencoded", body, Map.of());

        assertThat(signed.statusCode()).isEqualTo(415);
        assertThat(unsigned.statusCode()).isEqualTo(415);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("http_status")).containsExactly(415, 415);
        assertThat(rows).extracting(r -> r.get("reason")).containsOnly("content type is 'application/x-www-form-urlencoded'; expected application/json");
        assertThat(rows).allSatisfy(row -> {
            assertThat(row.get("content_type")).isEqualTo("application/x-www-form-urlencoded");
            assertThat(row.get("body_excerpt")).isEqualTo(new String(body, StandardCharsets.UTF_8));
        });
    }

    @Test
    void aPostToAWebhookPathHeraldDoesNotHaveIsAnswered404InWordsAndKept() throws Exception {
        String marker = marker();
        byte[] body = ("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\"}").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> wrong = post("/webhooks/stripe", "application/json", body, Map.of());

        assertThat(wrong.statusCode()).isEqualTo(404);
        String reason = "Herald has no webhook at /webhooks/stripe; its webhooks are /webhooks/billing, /webhooks/email/events,"
                + " /webhooks/incidents, /webhooks/sms/inbound, /webhooks/sms/status, /webhooks/support: correct the URL configured at the sender";
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(wrong.body()).get("reason").asText()).isEqualTo(reason);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0)).containsEntry("source", "unknown").containsEntry("http_status", 404).containsEntry("reason", reason)
                .containsEntry("body_excerpt", new String(body, StandardCharsets.UTF_8));
        assertThat(apiAs(OPERATOR, "GET", "/console/rejected?kind=unknown_path", null).body()).contains(reason);
        // The webhooks Herald has are not affected.
        assertThat(signedBilling("application/json", body).statusCode()).isEqualTo(202);
    }

    /**
     * A sender configured with a trailing slash (https://…/webhooks/sms/status/) or a proxy that joins its prefix with a
     * double slash (//webhooks/billing) reaches no webhook: the sender was answered 404 "there is nothing at …" or 400 "the
     * address itself cannot be used", and nothing was kept, so no operator could see the customer's STOP or the lost
     * events. Both are refused 404 naming the path to use, and kept with the request's first bytes. So is a path in the
     * wrong case (/Webhooks/Billing, as a sender's form may capitalise it), which was answered 403 by the console's CSRF
     * check, with no row, and /webhooks/BILLING, refused without naming the path meant.
     */
    @Test
    void aWebhookPathWithATrailingOrDoubleSlashIsRefusedNamingThePathAndKept() throws Exception {
        String marker = marker();
        byte[] form = ("MessageSid=SM" + marker + "&From=%2B447700900123&Body=STOP").getBytes(StandardCharsets.UTF_8);
        byte[] event = ("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\"}").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> trailing = post("/webhooks/sms/inbound/", "application/x-www-form-urlencoded", form, Map.of());
        HttpResponse<String> doubled = post("//webhooks/billing", "application/json", event, Map.of());
        HttpResponse<String> capitalised = post("/Webhooks/Billing", "application/json", event, Map.of());
        HttpResponse<String> upper = post("/webhooks/BILLING", "application/json", event, Map.of());

        assertThat(List.of(trailing.statusCode(), doubled.statusCode(), capitalised.statusCode(), upper.statusCode())).containsOnly(404);
        assertThat(trailing.body()).contains("send it to /webhooks/sms/inbound");
        assertThat(capitalised.body()).contains("send it to /webhooks/billing");
        List<Map<String, Object>> rows = newRejections();
        String path = " (lower case, no trailing slash, no double slash): correct the URL configured at the sender";
        assertThat(rows).extracting(r -> r.get("source") + " " + r.get("http_status") + " " + r.get("reason")).containsExactly(
                "unknown 404 Herald has no webhook at /webhooks/sms/inbound/; send it to /webhooks/sms/inbound" + path,
                "unknown 404 Herald has no webhook at //webhooks/billing; send it to /webhooks/billing" + path,
                "unknown 404 Herald has no webhook at /Webhooks/Billing; send it to /webhooks/billing" + path,
                "unknown 404 Herald has no webhook at /webhooks/BILLING; send it to /webhooks/billing" + path);
        assertThat(rows).extracting(r -> r.get("body_excerpt")).containsExactly(new String(form, StandardCharsets.UTF_8),
                new String(event, StandardCharsets.UTF_8), new String(event, StandardCharsets.UTF_8), new String(event, StandardCharsets.UTF_8));
    }

    /**
     * Behind a TLS-terminating proxy or ingress every request comes from the proxy's address; the caller's is in the
     * X-Forwarded-For the proxy appends to. The Rejected webhooks page named the proxy (here 127.0.0.1) for every refusal.
     * Now it names the caller, the last address before Herald's own proxies: one the caller wrote itself into the header
     * (203.0.113.66) is not taken, nor is a private proxy address in the chain (10.0.0.7). A viewer sees the address
     * masked (the last 8 bits of IPv4, the last 80 of IPv6); until now a viewer saw every caller's address whole.
     */
    @Test
    void aRefusedWebhookThroughAProxyIsShownFromTheCallerNotTheProxy() throws Exception {
        String marker = marker();
        byte[] body = ("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\"}").getBytes(StandardCharsets.UTF_8);

        assertThat(post("/webhooks/billing", "application/json", body, Map.of("X-Forwarded-For", "203.0.113.66, 198.51.100.23, 10.0.0.7",
                "X-Forwarded-Proto", "https")).statusCode()).isEqualTo(401);

        long id = jdbc.queryForObject("SELECT max(id) FROM inbound_rejection", Long.class);
        assertThat(jdbc.queryForObject("SELECT remote_addr FROM inbound_rejection WHERE id = ?", String.class, id)).isEqualTo("198.51.100.23");
        assertThat(fromColumn(ADMIN, id)).isEqualTo("198.51.100.23");
        assertThat(fromColumn(OPERATOR, id)).isEqualTo("198.51.100.23");
        // A caller's address is personal data, kept 400 days: a viewer sees the network, not the machine, as it sees
        // "j•••@example.org" for an email; the whole page says it nowhere else either.
        assertThat(fromColumn(VIEWER, id)).isEqualTo("198.51.100.•••");
        assertThat(apiAs(VIEWER, "GET", "/console/rejected?source=billing", null).body()).doesNotContain("198.51.100.23");

        assertThat(post("/webhooks/billing", "application/json", body, Map.of("X-Forwarded-For", "2001:db8:85a3::8a2e:370:7334"))
                .statusCode()).isEqualTo(401);
        long ipv6 = jdbc.queryForObject("SELECT max(id) FROM inbound_rejection", Long.class);
        assertThat(fromColumn(ADMIN, ipv6)).isEqualTo("2001:db8:85a3::8a2e:370:7334");
        assertThat(fromColumn(VIEWER, ipv6)).isEqualTo("2001:db8:85a3:•••");   // the first 48 bits: the network
        assertThat(apiAs(VIEWER, "GET", "/console/rejected?source=billing", null).body()).doesNotContain("8a2e:370:7334");

        // A proxy that writes the caller's port too (Tomcat's valve passes "address:port" through as the address): the
        // address alone is kept, as for any other caller; the port was stored with it and a viewer saw it unmasked.
        assertThat(post("/webhooks/billing", "application/json", body, Map.of("X-Forwarded-For", "198.51.100.7:5678"))
                .statusCode()).isEqualTo(401);
        long withPort = jdbc.queryForObject("SELECT max(id) FROM inbound_rejection", Long.class);
        assertThat(jdbc.queryForObject("SELECT remote_addr FROM inbound_rejection WHERE id = ?", String.class, withPort)).isEqualTo("198.51.100.7");
        assertThat(fromColumn(VIEWER, withPort)).isEqualTo("198.51.100.•••");
        assertThat(post("/webhooks/billing", "application/json", body, Map.of("X-Forwarded-For", "[2001:db8::1]:443"))
                .statusCode()).isEqualTo(401);
        long ipv6WithPort = jdbc.queryForObject("SELECT max(id) FROM inbound_rejection", Long.class);
        assertThat(jdbc.queryForObject("SELECT remote_addr FROM inbound_rejection WHERE id = ?", String.class, ipv6WithPort)).isEqualTo("2001:db8::1");
    }

    /**
     * Only a proxy at a private address is believed (server.forward-headers-strategy: native, Tomcat's RemoteIpValve with
     * server.tomcat.remoteip.internal-proxies at its default, as the README says). The test's own requests come from
     * 127.0.0.1, which is such an address, so what a caller on the internet gets is shown on the valve Herald runs with, given
     * the request as Tomcat hands it over: a caller at 203.0.113.7 that sends its own X-Forwarded-For, X-Forwarded-Proto and
     * X-Forwarded-Host stays 203.0.113.7 on plain http with its own Host; the same headers from the ingress at 10.42.0.12
     * give the caller's address, https and the public host.
     */
    @Test
    void forwardedHeadersAreBelievedFromAPrivateProxyOnly() throws Exception {
        RemoteIpValve running = java.util.Arrays.stream(((TomcatWebServer) webServer.getWebServer()).getTomcat().getEngine().getPipeline().getValves())
                .filter(RemoteIpValve.class::isInstance).map(RemoteIpValve.class::cast).findFirst()
                .orElseThrow(() -> new AssertionError("Herald's Tomcat reads no forwarded headers (server.forward-headers-strategy is not native)"));
        assertThat(running.getInternalProxies()).isEqualTo(new RemoteIpValve().getInternalProxies());   // Tomcat's default, as the README says
        assertThat(running.getTrustedProxies()).isNull();

        assertThat(asSeenBehind(running, "203.0.113.7")).isEqualTo("203.0.113.7 http herald-internal:8080");
        assertThat(asSeenBehind(running, "10.42.0.12")).isEqualTo("198.51.100.23 https herald.example.com:443");
        assertThat(asSeenBehind(running, "192.168.1.20")).isEqualTo("198.51.100.23 https herald.example.com:443");
        assertThat(asSeenBehind(running, "172.32.0.1")).isEqualTo("172.32.0.1 http herald-internal:8080");
    }

    @Autowired
    ServletWebServerApplicationContext webServer;

    /** What Herald sees of a request from {@code peer} that says it forwards 198.51.100.23 over https for herald.example.com. */
    private static String asSeenBehind(RemoteIpValve running, String peer) throws Exception {
        RemoteIpValve valve = new RemoteIpValve();
        valve.setInternalProxies(running.getInternalProxies());
        valve.setTrustedProxies(running.getTrustedProxies());
        valve.setRemoteIpHeader(running.getRemoteIpHeader());
        valve.setProxiesHeader(running.getProxiesHeader());
        valve.setProtocolHeader(running.getProtocolHeader());
        valve.setProtocolHeaderHttpsValue(running.getProtocolHeaderHttpsValue());
        valve.setHostHeader(running.getHostHeader());
        valve.setPortHeader(running.getPortHeader());
        StringBuilder seen = new StringBuilder();
        valve.setNext(new ValveBase() {
            @Override
            public void invoke(Request request, org.apache.catalina.connector.Response response) {
                seen.append(request.getRemoteAddr()).append(' ').append(request.getScheme()).append(' ')
                        .append(request.getServerName()).append(':').append(request.getServerPort());
            }
        });
        Request request = new Request(new Connector());
        request.setCoyoteRequest(new org.apache.coyote.Request());
        request.setRemoteAddr(peer);
        request.setRemoteHost(peer);
        request.getCoyoteRequest().scheme().setString("http");
        request.getCoyoteRequest().serverName().setString("herald-internal");
        request.getCoyoteRequest().setServerPort(8080);
        request.getCoyoteRequest().getMimeHeaders().addValue("X-Forwarded-For").setString("198.51.100.23");
        request.getCoyoteRequest().getMimeHeaders().addValue("X-Forwarded-Proto").setString("https");
        request.getCoyoteRequest().getMimeHeaders().addValue("X-Forwarded-Host").setString("herald.example.com");
        valve.invoke(request, null);
        return seen.toString();
    }

    /** The Rejected webhooks page's "From" for one refusal, as {@code account} sees it. */
    private String fromColumn(String account, long id) throws Exception {
        String page = apiAs(account, "GET", "/console/rejected?source=billing", null).body();
        java.util.regex.Matcher row = Pattern.compile("data-id=\"" + id + "\">(.*?)</tr>", Pattern.DOTALL).matcher(page);
        assertThat(row.find()).as("refusal %s on the page", id).isTrue();
        List<String> cells = new ArrayList<>();
        java.util.regex.Matcher cell = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL).matcher(row.group(1));
        while (cell.find()) {
            cells.add(cell.group(1));
        }
        return cells.get(5);
    }

    /**
     * Camel's HTTP binding reads a form-encoded body into headers before any route runs, and answered 500, recorded
     * nowhere, for one that is not name=value pairs ("{}", as curl sends JSON without a Content-Type) or has a broken
     * %-escape. Every webhook now refuses it with a row: 415 where JSON is expected, 400 where a form is.
     */
    @Test
    void aFormBodyCamelCouldNotReadIsRefusedOnEveryWebhookNeverA500() throws Exception {
        String marker = marker();
        List<String> paths = List.of("/webhooks/billing", "/webhooks/support", "/webhooks/incidents", "/webhooks/email/events",
                "/webhooks/sms/status", "/webhooks/sms/inbound");
        List<String> bodies = List.of("{\"id\": \"" + marker + "\"}", "MessageSid=SM" + marker + "&MessageStatus=%zz");
        List<Integer> statuses = new ArrayList<>();
        for (String path : paths) {
            for (String body : bodies) {
                statuses.add(post(path, "application/x-www-form-urlencoded", body.getBytes(StandardCharsets.UTF_8), Map.of()).statusCode());
            }
        }

        assertThat(statuses).containsExactly(415, 415, 415, 415, 415, 415, 415, 415, 400, 400, 400, 400);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("source")).containsExactly("billing", "billing", "support", "support",
                "incidents", "incidents", "email-events", "email-events", "sms-status", "sms-status", "sms-inbound", "sms-inbound");
        assertThat(rows.subList(8, 12)).extracting(r -> r.get("reason")).containsExactly(
                "body is not a form: part 1 of 1 has no '=' (expected name=value pairs joined by &)",
                "body is not a valid form: part 2 of 2 has a broken %-escape (expected name=value pairs, %-encoded)",
                "body is not a form: part 1 of 1 has no '=' (expected name=value pairs joined by &)",
                "body is not a valid form: part 2 of 2 has a broken %-escape (expected name=value pairs, %-encoded)");
        assertThat(rows).allSatisfy(row -> assertThat(row.get("body_excerpt").toString()).contains(marker));
    }

    @Test
    void aContentTypeLongerThanItsColumnIsKeptCut() throws Exception {
        String marker = marker();
        String longType = "text/plain; charset=utf-8; x=" + "a".repeat(271);
        assertThat(longType).hasSize(300);
        byte[] body = ("{\"id\": \"evt_" + marker + "\"}").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> signed = signedBilling(longType, body);
        HttpResponse<String> unsigned = post("/webhooks/billing", "application/json; x=" + "b".repeat(280), body, Map.of());

        assertThat(signed.statusCode()).isEqualTo(415);
        assertThat(unsigned.statusCode()).isEqualTo(401);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("http_status")).containsExactly(415, 401);
        assertThat(rows.get(0).get("reason"))
                .isEqualTo("content type is '" + longType.substring(0, 80) + "… (300 characters)'; expected application/json");
        assertThat(rows.get(0).get("content_type")).isEqualTo(longType.substring(0, 200));
        assertThat(rows.get(1).get("content_type").toString()).hasSize(200).startsWith("application/json; x=bbb");
    }

    @Test
    void aMissingOrWrongSignatureIsRefusedWith401() throws Exception {
        String marker = marker();
        byte[] billing = ("{\"id\": \"evt_" + marker + "\", \"type\": \"invoice.paid\"}").getBytes(StandardCharsets.UTF_8);
        byte[] support = ("{\"id\": \"" + marker + "\", \"type\": \"zen:event-type:ticket.status_changed\"}").getBytes(StandardCharsets.UTF_8);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();

        assertThat(post("/webhooks/billing", "application/json", billing, Map.of()).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/billing", "application/json", billing,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), billing, "whsec_wrong"))).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/support", "application/json", support, Map.of()).statusCode()).isEqualTo(401);
        assertThat(post("/webhooks/support", "application/json", support, Map.of("X-Zendesk-Webhook-Signature-Timestamp", now,
                "X-Zendesk-Webhook-Signature", Signatures.zendesk("wrong", now, support))).statusCode()).isEqualTo(401);

        assertThat(newRejections()).extracting(r -> r.get("source") + " " + r.get("http_status") + " " + r.get("reason")).containsExactly(
                "billing 401 missing Stripe-Signature header",
                "billing 401 no v1 signature matches the body (1 tried; wrong secret, or the body was altered)",
                "support 401 missing X-Zendesk-Webhook-Signature header",
                "support 401 signature does not match the body (wrong secret, or the body was altered)");
    }

    /**
     * Two X-Zendesk-Webhook-Signature headers (a proxy that adds its copy of one): the event was refused 401 "wrong secret, or
     * the body was altered" although one of them matched. One matching signature is enough, as for Stripe's several v1.
     */
    @Test
    void aTicketEventWithTwoSignatureHeadersOneOfThemRightIsQueued() throws Exception {
        String marker = marker();
        byte[] body = ("{\"id\": \"" + marker + "\", \"type\": \"zen:event-type:ticket.status_changed\", \"detail\": {\"requester_id\": \"7\"}}")
                .getBytes(StandardCharsets.UTF_8);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();

        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/support"))
                .header("Content-Type", "application/json").header("X-Zendesk-Webhook-Signature-Timestamp", now)
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk("an-old-secret", now, body))
                .header("X-Zendesk-Webhook-Signature", Signatures.zendesk(SUPPORT_SECRET, now, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        assertThat(awaitQueued(SUPPORT_TOPIC, marker).value()).isEqualTo(body);
        assertThat(newRejections()).isEmpty();
    }

    @Test
    void aSignedBodyOfExactlyTheLimitIsAcceptedAndQueued() throws Exception {
        String marker = marker();
        byte[] body = eventOfSize(marker, LIMIT);

        HttpResponse<String> answer = signedBilling("application/json", body);

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        ConsumerRecord<String, byte[]> queued = awaitQueued(BILLING_TOPIC, marker);
        assertThat(queued.value()).isEqualTo(body);
        assertThat(queued.key()).isEqualTo("cus_RkT4aB7cD9eF1g");
        assertThat(newRejections()).isEmpty();
    }

    @Test
    void oneByteOverTheLimitIsRefusedWith413Unread() throws Exception {
        String marker = marker();
        byte[] body = eventOfSize(marker, LIMIT + 1);

        HttpResponse<String> answer = signedBilling("application/json", body);
        // The receipt webhooks have the same limit (they were read whole, whatever their size).
        HttpResponse<String> smsStatus = post("/webhooks/sms/status", "application/x-www-form-urlencoded", body, Map.of());
        HttpResponse<String> emailEvents = post("/webhooks/email/events", "application/json", body, Map.of());

        assertThat(List.of(answer.statusCode(), smsStatus.statusCode(), emailEvents.statusCode())).containsOnly(413);
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("source")).containsExactly("billing", "sms-status", "email-events");
        assertThat(rows).allSatisfy(row -> assertThat(row).containsEntry("http_status", 413).containsEntry("body_bytes", (long) LIMIT + 1)
                .containsEntry("reason", "body is 1048577 bytes (Content-Length); the limit is 1048576 bytes"
                        + " (herald.ingest.max-body-bytes), so it was refused without being read"));
    }

    @Test
    void aFiftyMegabyteContentLengthIsAnswered413WithoutWaitingForTheBody() throws Exception {
        String marker = marker();
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /webhooks/billing HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 52428800\r\n\r\n{\"id\": \"evt_" + marker + "\", ").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            long start = System.nanoTime();

            String answer = readAnswer(socket.getInputStream());

            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThat(answer).startsWith("HTTP/1.1 413").contains("so it was refused without being read");
        }
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0)).containsEntry("source", "billing").containsEntry("http_status", 413)
                .containsEntry("body_bytes", 52_428_800L).containsEntry("body_excerpt", null);
    }

    @Test
    void aChunkedBodyOverTheLimitIsCutAtTheLimitAndRefusedWith413() throws Exception {
        String marker = marker();
        assertThat(endlessChunkedPost("/webhooks/support", marker)).startsWith("HTTP/1.1 413").contains("reading stopped after 1048577 bytes");
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0)).containsEntry("source", "support").containsEntry("http_status", 413)
                .containsEntry("body_bytes", (long) LIMIT + 1);
        assertThat(rows.get(0).get("body_excerpt").toString()).startsWith("{\"id\": \"" + marker).hasSize(16 * 1024);
    }

    /**
     * Spring routes /webhook%73/billing to the billing webhook by its decoded path, while the body limit (and every other
     * guard) read the path as sent: an endless chunked body there was read into memory whole. Such a path is refused with 400
     * before anything is read, and kept; the console's paths are refused the same way.
     */
    @Test
    void aPathThatEncodesPlainLettersIsRefusedBeforeTheBodyIsRead() throws Exception {
        assertThat(endlessChunkedPost("/webhook%73/billing", marker())).startsWith("HTTP/1.1 400")
                .contains("the path percent-encodes letters, digits or - . _, which never need it; send it as /webhooks/billing");
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0)).containsEntry("source", "unknown").containsEntry("http_status", 400)
                .containsEntry("reason", "the path percent-encodes letters, digits or - . _, which never need it; send it as /webhooks/billing");

        HttpResponse<String> console = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
                + "/%63onsole/notifications")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(console.statusCode()).isEqualTo(400);
        assertThat(console.body()).contains("send it as /console/notifications");
        // An escape that is needed (a space in a customer id) is not touched: the request goes on to the login.
        HttpResponse<String> escaped = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port
                + "/console/customers/cus%20x")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(escaped.statusCode()).isNotEqualTo(400);
    }

    /**
     * POSTs a chunked JSON body to {@code path} that would go on for 50 MB, and returns Herald's answer, which must come long
     * before: the sender has sent less than all of it when the answer is read.
     */
    private String endlessChunkedPost(String path, String marker) throws Exception {
        try (Socket socket = new Socket("localhost", port)) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<Long> sent = CompletableFuture.supplyAsync(() -> sendChunks(out, marker, 50L * 1024 * 1024));
            String answer = readAnswer(socket.getInputStream());
            socket.close();
            assertThat(sent.get()).isLessThan(50L * 1024 * 1024);
            return answer;
        }
    }

    @Test
    void anEventWithAnOverlongIdAndNulInIdAndTypeIsAcceptedAndQueued() throws Exception {
        String marker = marker();
        String longId = marker + "x".repeat(300 - marker.length());
        String support = "{\"type\": \"zen:event-type:ticket.status_changed\\u0000\", \"id\": \"" + longId + "\\u0000\","
                + " \"detail\": {\"id\": \"" + newTicketId() + "\", \"requester_id\": \"9000000123456\", \"external_id\": null}}";
        String billing = "{\"id\": \"evt_\\u0000" + longId + "\", \"type\": \"invoice.paid\\u0000\", \"data\": {\"object\":"
                + " {\"id\": \"in_" + marker + "\", \"customer\": \"cus_RkT4aB7cD9eF1g\"}}}";

        assertThat(postSignedSupport(support).statusCode()).isEqualTo(202);
        assertThat(postSignedBilling(billing).statusCode()).isEqualTo(202);

        ConsumerRecord<String, byte[]> supportQueued = awaitQueued(SUPPORT_TOPIC, longId);
        assertThat(new String(supportQueued.value(), StandardCharsets.UTF_8)).isEqualTo(support);
        assertThat(supportQueued.key()).isEqualTo("9000000123456");
        ConsumerRecord<String, byte[]> billingQueued = awaitQueued(BILLING_TOPIC, longId);
        assertThat(new String(billingQueued.value(), StandardCharsets.UTF_8)).isEqualTo(billing);
        assertThat(billingQueued.key()).isEqualTo("cus_RkT4aB7cD9eF1g");
        assertThat(newRejections()).isEmpty();
    }

    @Test
    void eventsAreKeyedByTheCustomerTheyAreAbout() throws Exception {
        String marker = marker();
        String expanded = "{\"id\": \"evt_a" + marker + "\", \"type\": \"invoice.paid\", \"data\": {\"object\": {\"customer\": {\"id\": \"cus_Expanded1\"}}}}";
        String guest = "{\"id\": \"evt_b" + marker + "\", \"type\": \"charge.refunded\", \"data\": {\"object\": {\"customer\": null,"
                + " \"billing_details\": {\"email\": \"Guest.Buyer@Example.org\"}, \"receipt_email\": null}}}";
        String ticket = newTicketId();
        String noRequester = "{\"id\": \"c" + marker + "\", \"type\": \"zen:event-type:ticket.status_changed\", \"detail\": {\"id\": \"" + ticket + "\"}}";

        assertThat(postSignedBilling(expanded).statusCode()).isEqualTo(202);
        assertThat(postSignedBilling(guest).statusCode()).isEqualTo(202);
        assertThat(postSignedSupport(noRequester).statusCode()).isEqualTo(202);

        assertThat(awaitQueued(BILLING_TOPIC, "evt_a" + marker).key()).isEqualTo("cus_Expanded1");
        // A guest payer by a digest of their address (the same for every event of theirs), never the address: the broker
        // keeps the key with the record, and tracing copies it into its spans.
        assertThat(awaitQueued(BILLING_TOPIC, "evt_b" + marker).key())
                .isEqualTo("guest:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest("guest.buyer@example.org".getBytes(StandardCharsets.UTF_8))))
                .doesNotContain("@");
        assertThat(awaitQueued(SUPPORT_TOPIC, "c" + marker).key()).isEqualTo(ticket);
    }

    @Test
    void aCompressedBodyIsRefusedWith415BeforeItIsInflated() throws Exception {
        String marker = marker();
        byte[] body = ("{\"id\": \"evt_" + marker + "\"}").getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> answer = post("/webhooks/billing", "application/json", body, Map.of("Content-Encoding", "gzip",
                "Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), body, BILLING_SECRET)));

        assertThat(answer.statusCode()).isEqualTo(415);
        assertThat(newRejections()).extracting(r -> r.get("http_status") + " " + r.get("reason")).containsExactly(
                "415 body is sent with Content-Encoding 'gzip'; Herald accepts webhook bodies uncompressed only");
    }

    /**
     * Twilio's console offers HTTP GET for "a message comes in" and for status callbacks: Spring MVC used to answer 405 before
     * any route ran, and a customer's STOP vanished without a row. A multipart body failed in Camel's binding (a 500,
     * recorded nowhere). Both are refused in words and kept, under the webhook's source.
     */
    @Test
    void aGetOrPutOrMultipartRequestIsRefusedInWordsAndKept() throws Exception {
        String marker = marker();
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
                + "/webhooks/sms/inbound?From=%2B447700900123&Body=STOP&MessageSid=SM" + marker)).GET().build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/webhooks/billing"))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{\"id\": \"evt_" + marker + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> multipart = post("/webhooks/support", "multipart/form-data; boundary=x",
                ("--x\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n" + marker + "\r\n--x--\r\n").getBytes(StandardCharsets.UTF_8), Map.of());

        assertThat(get.statusCode()).as(get.body()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(405);
        assertThat(multipart.statusCode()).as(multipart.body()).isEqualTo(415);
        String method = "; Herald's webhooks take POST only: set the sender's webhook method to HTTP POST (the excerpt is its query string)";
        List<Map<String, Object>> rows = newRejections();
        assertThat(rows).extracting(r -> r.get("source") + " " + r.get("http_status") + " " + r.get("reason")).containsExactly(
                "sms-inbound 405 the request used HTTP GET" + method,
                "billing 405 the request used HTTP PUT" + method,
                "support 415 content type is 'multipart/form-data; boundary=x'; Herald's webhooks take application/json, not multipart");
        // Who texted STOP, kept for an operator (a GET's message is its query string).
        assertThat(rows.get(0).get("body_excerpt").toString()).contains("Body=STOP", "MessageSid=SM" + marker);
        assertThat(jdbc.queryForList("SELECT " + io.herald.ingest.InboundRejections.reasonLabelSql() + " FROM inbound_rejection WHERE id > ?"
                + " ORDER BY id", String.class, before)).containsExactly("method", "method", "content_type");
        assertThat(get.body()).contains("POST only");
    }

    @Test
    void anUnknownCharsetInTheContentTypeDoesNotStopAValidEvent() throws Exception {
        String marker = marker();
        byte[] body = ("{\"id\": \"evt_" + marker + "\", \"type\": \"customer.updated\", \"data\": {\"object\": {\"customer\": \"cus_Charset1\"}}}")
                .getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> answer = signedBilling("application/json; charset=no-such-charset", body);

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        assertThat(awaitQueued(BILLING_TOPIC, marker).value()).isEqualTo(body);
    }

    /**
     * An event in UTF-16 (the sender's charset=utf-16, or a Windows tool's default) was refused 400 "body is not valid JSON
     * (at line 1, column 3)" without its byte order mark, which sent an operator looking for a JSON mistake: it is refused
     * naming the encoding to use.
     */
    @Test
    void anEventInUtf16IsRefusedNamingTheEncodingToUse() throws Exception {
        String event = "{\"id\": \"evt_" + marker() + "\", \"type\": \"customer.updated\"}";

        HttpResponse<String> withoutMark = signedBilling("application/json; charset=utf-16", event.getBytes(StandardCharsets.UTF_16LE));
        HttpResponse<String> withMark = signedBilling("application/json; charset=utf-16", event.getBytes(StandardCharsets.UTF_16));

        assertThat(List.of(withoutMark.statusCode(), withMark.statusCode())).containsOnly(400);
        String reason = "body is in UTF-16 or UTF-32; Herald takes events in UTF-8, the encoding JSON sent between systems must use:"
                + " set the sender to send UTF-8";
        assertThat(newRejections()).extracting(r -> r.get("reason")).containsExactly(reason, reason);
    }

    // --- helpers ---

    private static String marker() {
        return "hostile" + UUID.randomUUID().toString().replace("-", "");
    }

    private List<Map<String, Object>> newRejections() {
        return jdbc.queryForList("SELECT source, http_status, reason, content_type, body_bytes, body_excerpt"
                + " FROM inbound_rejection WHERE id > ? ORDER BY id", before);
    }

    private HttpResponse<String> signedBilling(String contentType, byte[] body) throws Exception {
        return post("/webhooks/billing", contentType, body,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), body, BILLING_SECRET)));
    }

    /** A Stripe-shaped event of exactly {@code size} bytes, padded with random (incompressible) text. */
    private static byte[] eventOfSize(String marker, int size) {
        String head = "{\"id\": \"evt_" + marker + "\", \"type\": \"customer.updated\", \"data\": {\"object\": {\"customer\": \"cus_RkT4aB7cD9eF1g\", \"padding\": \"";
        String tail = "\"}}}";
        byte[] random = new byte[size];
        new Random(size).nextBytes(random);
        String padding = Base64.getEncoder().encodeToString(random).replace('/', '_').replace('+', '-');
        byte[] body = (head + padding.substring(0, size - head.length() - tail.length()) + tail).getBytes(StandardCharsets.UTF_8);
        assertThat(body).hasSize(size);
        return body;
    }

    private ConsumerRecord<String, byte[]> awaitQueued(String topic, String marker) {
        byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (indexOf(record.value(), needle) >= 0) {
                        found.add(record);
                    }
                }
                return !found.isEmpty();
            });
            assertThat(found).hasSize(1);
            return found.get(0);
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; haystack != null && i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Writes a chunked body of up to {@code total} bytes, returning how many were written before the server stopped taking them. */
    private static long sendChunks(OutputStream out, String marker, long total) {
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) ' ');
        byte[] start = ("{\"id\": \"" + marker + "\", \"padding\": \"").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(start, 0, chunk, 0, start.length);
        long sent = 0;
        try {
            while (sent < total) {
                out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                sent += chunk.length;
                if (sent == chunk.length) {
                    java.util.Arrays.fill(chunk, 0, start.length, (byte) 'x');
                }
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException stopped) {
            // Herald answered and closed the connection: the rest of the body was never wanted.
        }
        return sent;
    }

    /** Reads an HTTP/1.1 answer's status line, headers and Content-Length body. */
    private static String readAnswer(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        int length = 0;
        for (String line : headers.split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        return headers + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
