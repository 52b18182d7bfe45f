package io.herald.incidents;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import io.herald.config.WebhookSettings;
import io.herald.ingest.InboundRejected;
import io.herald.ingest.InboundRejections;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * The incident webhook's credential: Alertmanager sends "Authorization: Bearer &lt;token&gt;" (its receiver's
 * http_config.authorization.credentials), compared in constant time with herald.incidents.token. Anything else
 * is refused with 401 and recorded like the other webhooks' signature refusals. Without a token configured
 * every request is refused: an open incident webhook would let anyone post to the ops channel.
 */
@Component
public class IncidentToken {

    private static final String BEARER = "bearer ";

    private final byte[] token;

    public IncidentToken(WebhookSettings settings) {
        String token = settings.incidents().token();
        this.token = token == null || token.isBlank() ? null : token.strip().getBytes(StandardCharsets.UTF_8);
    }

    public void verify(Exchange exchange) {
        if (token == null) {
            throw new InboundRejected(401, "the incident webhook has no token configured; set herald.incidents.token"
                    + " (HERALD_INCIDENTS_TOKEN) and the same value as Alertmanager's bearer credentials");
        }
        String authorization = exchange.getMessage().getHeader("Authorization", String.class);
        if (authorization == null || authorization.isBlank()) {
            throw new InboundRejected(401, "missing Authorization header; Alertmanager must send \"Authorization: Bearer <token>\""
                    + " with the token of herald.incidents.token");
        }
        String value = authorization.strip();
        if (value.length() < BEARER.length() || !value.substring(0, BEARER.length()).equalsIgnoreCase(BEARER)) {
            throw new InboundRejected(401, "the Authorization header is not a bearer token; Alertmanager must send"
                    + " \"Authorization: Bearer <token>\" (authorization.type Bearer)");
        }
        byte[] given = value.substring(BEARER.length()).strip().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            throw new InboundRejected(401, "the bearer token does not match herald.incidents.token; check Alertmanager's"
                    + " receiver credentials and HERALD_INCIDENTS_TOKEN");
        }
        // Alertmanager's own notification: if its body is refused from here on, the team is told (failure alerts).
        exchange.setProperty(InboundRejections.AUTHENTICATED, true);
    }

    /** Whether an Authorization header carries the configured token (checked in constant time); never for no token configured. */
    public boolean matches(String authorization) {
        if (token == null || authorization == null) {
            return false;
        }
        String value = authorization.strip();
        return value.length() >= BEARER.length() && value.substring(0, BEARER.length()).equalsIgnoreCase(BEARER)
                && MessageDigest.isEqual(value.substring(BEARER.length()).strip().getBytes(StandardCharsets.UTF_8), token);
    }
}
