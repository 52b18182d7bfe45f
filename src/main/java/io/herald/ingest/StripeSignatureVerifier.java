package io.herald.ingest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import io.herald.config.WebhookSettings;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Verifies a Stripe-style webhook: {@code Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.rawBody")>}.
 * During secret rotation the header carries several v1 entries; one match is enough. A timestamp
 * outside the tolerance is refused, so a captured request cannot be replayed later.
 */
@Component
public class StripeSignatureVerifier {

    public static final String HEADER = "Stripe-Signature";

    private final byte[] secret;
    private final Duration tolerance;
    private final Clock clock;

    @Autowired
    public StripeSignatureVerifier(WebhookSettings webhooks) {
        this(webhooks.billing().webhookSecret(), Duration.ofSeconds(webhooks.billing().signatureToleranceSeconds()), Clock.systemUTC());
    }

    StripeSignatureVerifier(String secret, Duration tolerance, Clock clock) {
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
        this.tolerance = tolerance;
        this.clock = clock;
    }

    public void verify(@Header(HEADER) String header, @Body byte[] rawBody) {
        if (secret.length == 0) {
            throw new InboundRejected(401, "billing webhook secret is not configured (herald.billing.webhook-secret); refusing every event");
        }
        if (header == null || header.isBlank()) {
            throw new InboundRejected(401, "missing " + HEADER + " header");
        }
        String timestamp = null;
        List<String> signatures = new ArrayList<>();
        for (String part : header.split(",")) {
            String[] pair = part.trim().split("=", 2);
            if (pair.length == 2 && pair[0].equals("t")) {
                timestamp = pair[1];
            } else if (pair.length == 2 && pair[0].equals("v1")) {
                signatures.add(pair[1]);
            }
        }
        if (timestamp == null || signatures.isEmpty()) {
            throw new InboundRejected(401, HEADER + " header has no t= timestamp or no v1= signature");
        }
        long signedAt;
        try {
            signedAt = Long.parseLong(timestamp);
        } catch (NumberFormatException e) {
            throw new InboundRejected(401, HEADER + " timestamp '" + timestamp + "' is not unix seconds");
        }
        long age = clock.instant().getEpochSecond() - signedAt;
        if (Math.abs(age) > tolerance.toSeconds()) {
            throw new InboundRejected(401, "stale signature: signed " + (age >= 0 ? age + " s ago" : -age + " s ahead of Herald's clock")
                    + ", tolerance is " + tolerance.toSeconds() + " s (a replayed request, or the sender's or Herald's clock is wrong)");
        }
        byte[] expected = HexFormat.of().formatHex(Hmac.sha256(secret, (timestamp + ".").getBytes(StandardCharsets.UTF_8),
                rawBody == null ? new byte[0] : rawBody)).getBytes(StandardCharsets.US_ASCII);
        for (String candidate : signatures) {
            if (MessageDigest.isEqual(expected, candidate.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
                return;
            }
        }
        throw new InboundRejected(401, "no v1 signature matches the body (" + signatures.size() + " tried; wrong secret, or the body was altered)");
    }
}
