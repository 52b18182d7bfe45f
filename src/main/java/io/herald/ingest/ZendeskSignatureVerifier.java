package io.herald.ingest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;

import io.herald.config.WebhookSettings;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Verifies a Zendesk-style webhook: base64(HMAC-SHA256(secret, timestamp + rawBody)) in
 * X-Zendesk-Webhook-Signature. The raw bytes as received are signed, so the body must not be
 * re-serialised before this check. A timestamp outside the tolerance is refused (replay).
 */
@Component
public class ZendeskSignatureVerifier {

    public static final String SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature";
    public static final String TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp";

    private final byte[] secret;
    private final Duration tolerance;
    private final Clock clock;

    @Autowired
    public ZendeskSignatureVerifier(WebhookSettings webhooks) {
        this(webhooks.support().webhookSecret(), Duration.ofSeconds(webhooks.support().signatureToleranceSeconds()), Clock.systemUTC());
    }

    ZendeskSignatureVerifier(String secret, Duration tolerance, Clock clock) {
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.tolerance = tolerance;
        this.clock = clock;
    }

    public void verify(@Header(SIGNATURE_HEADER) Object signatureHeader,
                       @Header(TIMESTAMP_HEADER) String timestamp,
                       @Body byte[] rawBody) {
        if (secret.length == 0) {
            throw new InboundRejected(401, "support webhook secret is not configured (herald.support.webhook-secret); refusing every event");
        }
        java.util.List<String> signatures = SignatureHeaders.values(signatureHeader);
        if (signatures.isEmpty()) {
            throw new InboundRejected(401, "missing " + SIGNATURE_HEADER + " header");
        }
        if (timestamp == null || timestamp.isBlank()) {
            throw new InboundRejected(401, "missing " + TIMESTAMP_HEADER + " header");
        }
        Instant signedAt;
        try {
            signedAt = Instant.parse(timestamp.trim());
        } catch (DateTimeParseException e) {
            throw new InboundRejected(401, "signature timestamp '" + timestamp + "' is not an ISO-8601 instant");
        }
        Duration age = Duration.between(signedAt, clock.instant());
        if (age.abs().compareTo(tolerance) > 0) {
            throw new InboundRejected(401, "stale signature: signed at " + signedAt + ", " + (age.isNegative()
                    ? age.abs().toSeconds() + " s ahead of Herald's clock" : age.toSeconds() + " s ago") + ", tolerance is "
                    + tolerance.toSeconds() + " s (a replayed request, or the sender's or Herald's clock is wrong)");
        }
        byte[] expected = Base64.getEncoder().encode(
                Hmac.sha256(secret, timestamp.getBytes(StandardCharsets.UTF_8), rawBody == null ? new byte[0] : rawBody));
        for (String signature : signatures) {
            if (MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII))) {
                return;
            }
        }
        throw new InboundRejected(401, "signature does not match the body (" + SignatureHeaders.tried(signatures)
                + "wrong secret, or the body was altered)");
    }
}
