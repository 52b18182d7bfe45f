package io.herald.proof;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.Test;

/**
 * Proof of delivery of a real notification (signed ticket webhook -> mail in the SMTP inbox, then an operator's
 * resend): its delivery, every attempt, the resend and the operator's action, and a digest that matches SHA-256 of
 * the content the ledger stores; a viewer gets the same proof with addresses masked, in the JSON and on the page.
 */
class ProofOfDeliveryTest extends HeraldIntegrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theProofListsTheDeliveryItsAttemptsTheResendAndADigestOfTheStoredContentMaskedForViewers() throws Exception {
        String ticket = newTicketId();
        assertThat(postSignedSupport(Samples.supportEvent("ticket.status_changed.json", ticket)).statusCode()).isEqualTo(202);
        String key = "support:ticket_status_changed:" + ticket + ":SOLVED:2026-11-21T10:12:44Z";
        awaitMailFor(key);
        Map<String, Object> email = await().atMost(Duration.ofSeconds(10)).until(() -> delivery(key, "email"),
                row -> "SENT".equals(row.get("state")));
        long notification = ((Number) email.get("notification_id")).longValue();
        long deliveryId = ((Number) email.get("id")).longValue();

        // The operator sends a copy, saying why in words that name the customer and her address.
        HttpResponse<String> resend = apiJson("POST", "/api/deliveries/" + deliveryId + "/resend",
                "{\"confirm\": true, \"comment\": \"Jenny Rosen asked for a copy at jenny.rosen@example.org\"}");
        assertThat(resend.statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "SELECT outcome FROM delivery_resend WHERE delivery_id = ?", String.class, deliveryId), "SENT"::equals);

        HttpResponse<String> asOperator = apiAs(OPERATOR, "GET", "/api/notifications/" + notification + "/proof", null);
        assertThat(asOperator.statusCode()).isEqualTo(200);
        JsonNode proof = JSON.readTree(asOperator.body());
        assertThat(proof.path("type").asText()).isEqualTo("support.ticket_status_changed");
        assertThat(proof.path("customerId").asText()).isEqualTo("cus_RkT4aB7cD9eF1g");
        assertThat(proof.path("masked").asBoolean()).isFalse();
        JsonNode sent = proof.path("deliveries").get(0);
        assertThat(sent.path("channel").asText()).isEqualTo("email");
        assertThat(sent.path("state").asText()).isEqualTo("SENT");
        assertThat(sent.path("recipient").asText()).isEqualTo("j***@example.org");
        assertThat(sent.path("provider").asText()).startsWith("SMTP server at ");
        assertThat(sent.path("sentAt").asText()).isNotBlank();
        assertThat(sent.path("providerMessageId").isNull() ? null : sent.path("providerMessageId").asText())
                .isEqualTo(email.get("provider_message_id"));
        assertThat(sent.path("subject").asText()).isEqualTo("Your request #" + ticket + " is now Solved");
        assertThat(sent.path("attempts")).isNotEmpty();
        assertThat(sent.path("attempts").get(0).path("outcome").asText()).isEqualTo("SENT");
        assertThat(sent.path("resends")).hasSize(1);
        assertThat(sent.path("resends").get(0).path("outcome").asText()).isEqualTo("SENT");
        assertThat(sent.path("resends").get(0).path("comment").asText()).isEqualTo("Jenny Rosen asked for a copy at jenny.rosen@example.org");
        assertThat(sent.path("receipt").isNull()).isTrue();
        assertThat(proof.path("operatorActions")).hasSize(1);
        assertThat(proof.path("operatorActions").get(0).path("action").asText()).isEqualTo("RESEND");
        assertThat(proof.path("operatorActions").get(0).path("actor").asText()).isEqualTo("operator");

        // The API document's example has the proof's shape: the same fields, at the top and in a delivery, as a real proof.
        JsonNode media = JSON.readTree(apiAs(OPERATOR, "GET", "/v3/api-docs", null).body()).path("paths").path("/api/notifications/{id}/proof")
                .path("get").path("responses").path("200").path("content").path("application/json");
        JsonNode example = media.has("example") ? media.get("example") : media.path("examples").elements().next().path("value");
        if (example.isTextual()) {
            example = JSON.readTree(example.asText());
        }
        assertThat(fields(example)).containsExactlyInAnyOrderElementsOf(fields(proof));
        assertThat(fields(example.path("deliveries").get(0))).containsExactlyInAnyOrderElementsOf(fields(sent));

        // The digests are SHA-256 of what the ledger stores, computed here independently; the content is what the customer read.
        Map<String, Object> stored = jdbc.queryForMap("SELECT subject, rendered_body FROM delivery_content WHERE delivery_id = ?", deliveryId);
        assertThat(sent.path("contentSha256").asText()).isEqualTo(sha256((String) stored.get("rendered_body")));
        assertThat(sent.path("subjectSha256").asText()).isEqualTo(sha256((String) stored.get("subject")));
        assertThat(sent.path("renderedBody").asText()).isEqualTo(stored.get("rendered_body"))
                .contains("Your support request #" + ticket + " \"Printer error E-42 after update\" changed from Open to Solved.");

        // A viewer may read the proof, masked: the same digests, no address in clear anywhere.
        HttpResponse<String> asViewer = apiAs(VIEWER, "GET", "/api/notifications/" + notification + "/proof", null);
        assertThat(asViewer.statusCode()).isEqualTo(200);
        JsonNode masked = JSON.readTree(asViewer.body());
        assertThat(masked.path("masked").asBoolean()).isTrue();
        assertThat(masked.path("viewedAs").asText()).isEqualTo("viewer");
        assertThat(masked.path("deliveries").get(0).path("recipient").asText()).isEqualTo("j***@example.org");
        assertThat(masked.path("deliveries").get(0).path("contentSha256").asText()).isEqualTo(sent.path("contentSha256").asText());
        // An auditor given the viewer's copy is told its texts are masked, so their SHA-256 is not the digest; the operator's
        // copy, whose texts do hash to the digests, says no such thing. Both say a resend's text is not stored nor digested.
        assertThat(sha256(masked.path("deliveries").get(0).path("renderedBody").asText()))
                .isNotEqualTo(masked.path("deliveries").get(0).path("contentSha256").asText());
        assertThat(masked.path("notes").toString()).contains("This copy was made for a viewer");
        assertThat(proof.path("notes").toString()).doesNotContain("This copy was made for a viewer");
        assertThat(proof.path("notes").toString()).contains("a resend renders the message again when it is sent");
        // Nor is the email's HTML part covered: a type with an HTML template of its own (billing.payment_failed) sends words
        // that are not made from the stored text, and the proof must not suggest they are.
        assertThat(proof.path("notes").toString()).contains("An email's HTML part is not stored and no digest covers it")
                .contains("from the type's own HTML template when it has one").doesNotContain("HTML part is made from that text");
        // Free text too: the operator's comment names the customer, and a viewer reads it as the timeline shows it ("J•••").
        assertThat(masked.path("operatorActions").get(0).path("comment").asText()).isEqualTo("J••• asked for a copy at j***@example.org");
        assertThat(masked.path("deliveries").get(0).path("resends").get(0).path("comment").asText())
                .isEqualTo("J••• asked for a copy at j***@example.org");
        assertThat(asViewer.body()).doesNotContain("jenny.rosen@example.org").doesNotContain("Jenny").doesNotContain("Rosen");
        // ... and the customer's name in the message as on the customer page: "Hello J•••,", the digest still of what was sent.
        assertThat(sent.path("renderedBody").asText()).startsWith("Hello Jenny,");
        assertThat(masked.path("deliveries").get(0).path("renderedBody").asText()).startsWith("Hello J•••,").doesNotContain("Jenny");

        HttpResponse<String> page = apiAs(VIEWER, "GET", "/console/notifications/" + notification + "/proof", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Proof of delivery: notification <span>" + notification + "</span>")
                .contains("j***@example.org")
                .contains(sent.path("contentSha256").asText())
                .contains("Your request #" + ticket + " is now Solved")
                .contains("J••• asked for a copy at j***@example.org")
                .doesNotContain("jenny.rosen@example.org").doesNotContain("Jenny").doesNotContain("Rosen");
        assertThat(apiAs(OPERATOR, "GET", "/console/notifications/" + notification + "/proof", null).body())
                .contains("Jenny Rosen asked for a copy at jenny.rosen@example.org");

        // The notification's timeline page links to its proof.
        assertThat(apiAs(VIEWER, "GET", "/console/notifications/" + notification, null).body())
                .contains("href=\"/console/notifications/" + notification + "/proof\"");

        // Later the customer's mail server refuses the first mail after all (a policy block, its words quoting her name and
        // address): the proof shows that receipt, not "none received", and no longer says Herald takes no receipts.
        String blocked = "[{\"email\": \"jenny.rosen@example.org\", \"timestamp\": 1763720042, \"smtp-id\": \""
                + email.get("provider_message_id") + "\", \"event\": \"bounce\", \"type\": \"blocked\", \"status\": \"5.7.1\","
                + " \"reason\": \"550 5.7.1 Jenny Rosen <jenny.rosen@example.org> blocked by policy\", \"sg_event_id\": \"blk-" + key + "\"}]";
        assertThat(postEmailEvents(blocked).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> delivery(key, "email"), row -> "UNDELIVERED".equals(row.get("state")));
        JsonNode refused = JSON.readTree(apiAs(OPERATOR, "GET", "/api/notifications/" + notification + "/proof", null).body());
        JsonNode receipt = refused.path("deliveries").get(0).path("receipt");
        assertThat(receipt.path("state").asText()).isEqualTo("UNDELIVERED");
        assertThat(receipt.path("at").asText()).isNotBlank();
        JsonNode attempts = refused.path("deliveries").get(0).path("attempts");
        assertThat(attempts.get(attempts.size() - 1).path("outcome").asText()).isEqualTo("UNDELIVERED");
        assertThat(receipt.path("at").asText()).isEqualTo(attempts.get(attempts.size() - 1).path("at").asText());
        assertThat(refused.path("notes").toString()).doesNotContain("does not yet take delivery receipts");
        HttpResponse<String> refusedForViewer = apiAs(VIEWER, "GET", "/api/notifications/" + notification + "/proof", null);
        assertThat(refusedForViewer.body()).contains("blocked by policy")
                .doesNotContain("jenny.rosen@example.org").doesNotContain("Jenny").doesNotContain("Rosen");
        assertThat(apiAs(VIEWER, "GET", "/console/notifications/" + notification + "/proof", null).body())
                .contains("<td>UNDELIVERED at ").doesNotContain("Jenny");
    }

    @Test
    void anUnknownNotificationHasNoProof() throws Exception {
        HttpResponse<String> missing = apiAs(VIEWER, "GET", "/api/notifications/999999999/proof", null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("no notification 999999999");
        assertThat(apiAs(null, "GET", "/api/notifications/1/proof", null).statusCode()).isEqualTo(401);
        // Not a number: 400 in words, in the API and on the printable page.
        HttpResponse<String> notANumber = apiAs(VIEWER, "GET", "/api/notifications/abc/proof", null);
        assertThat(notANumber.statusCode()).isEqualTo(400);
        assertThat(notANumber.body()).contains("id must be a whole number; was 'abc'");
        // ... and the API's description says so, with the error's shape (it listed 200 and 404 only).
        JsonNode refusal = JSON.readTree(apiAs(OPERATOR, "GET", "/v3/api-docs", null).body()).path("paths").path("/api/notifications/{id}/proof")
                .path("get").path("responses").path("400");
        assertThat(refusal.path("description").asText()).isEqualTo("The id is not a whole number");
        assertThat(refusal.path("content").path("application/json").path("schema").path("$ref").asText()).endsWith("/Error");
        assertThat(refusal.toString()).contains("id must be a whole number; was 'abc'");
        HttpResponse<String> page = pageAs(VIEWER, "/console/notifications/abc/proof");
        assertThat(page.statusCode()).isEqualTo(400);
        assertThat(page.body()).contains("This address cannot be read").doesNotContain("Exception");
        HttpResponse<String> missingPage = pageAs(VIEWER, "/console/notifications/999999999/proof");
        assertThat(missingPage.statusCode()).isEqualTo(404);
        assertThat(missingPage.body()).contains("Nothing here").doesNotContain("Exception");
    }

    private static java.util.List<String> fields(JsonNode node) {
        java.util.List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** A console page as a browser asks for it (HTML), with Basic credentials. */
    private HttpResponse<String> pageAs(String account, String path) throws Exception {
        return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + port + path)).GET()
                .header("Accept", "text/html")
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(account.getBytes(StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }
}
