package io.herald.ops;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.AlertSettings;
import io.herald.config.ConsoleSettings;
import io.herald.logging.Masking;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A burst of signature failures from one webhook source (herald.alerts.signature-burst.threshold refusals
 * with HTTP 401 within herald.alerts.signature-burst.window), the mark of a secret rotated on one side only:
 * every event the sender posts is refused, and nothing else would say so. Alerted on the ops webhook like
 * a failure (routes/failure-alerts.camel.yaml, signature-failure-alert), once per burst: the burst is kept
 * in rejection_burst while the count stays at or above the threshold, and a new one starts only after it
 * fell below. Run in one transaction with the post, so a post the webhook did not take is made again at
 * the next poll, and two instances never announce the same burst.
 */
@Component
public class SignatureFailureBursts {

    private static final Logger log = LoggerFactory.getLogger(SignatureFailureBursts.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
    static final String ANNOUNCING = "heraldBurstsAnnouncing";

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final int threshold;
    private final Duration window;
    private final String console;

    public SignatureFailureBursts(JdbcTemplate jdbc, ObjectMapper json, AlertSettings alerts, ConsoleSettings consoleSettings) {
        int threshold = alerts.signatureBurst().threshold();
        Duration window = alerts.signatureBurst().window();
        String consoleBaseUrl = consoleSettings.baseUrl();
        if (threshold < 1) {
            throw new IllegalStateException("herald.alerts.signature-burst.threshold must be at least 1, not " + threshold);
        }
        if (window.isNegative() || window.isZero()) {
            throw new IllegalStateException("herald.alerts.signature-burst.window must be a positive duration such as PT5M, not " + window);
        }
        this.jdbc = jdbc;
        this.json = json;
        this.threshold = threshold;
        this.window = window;
        this.console = consoleBaseUrl.endsWith("/") ? consoleBaseUrl.substring(0, consoleBaseUrl.length() - 1) : consoleBaseUrl;
    }

    /**
     * Ends bursts that are over, starts the new ones; the body becomes the webhook post ({"text": ...})
     * when a burst started, null otherwise. Runs inside the route's transaction.
     */
    public void compose(Exchange exchange) throws JsonProcessingException {
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(null);
        Timestamp from = Timestamp.from(Instant.now().minus(window));
        List<Map<String, Object>> bursting = jdbc.queryForList("""
                SELECT source, count(*) AS refused, min(received_at) AS first_at,
                       (array_agg(reason ORDER BY id DESC))[1] AS last_reason
                FROM inbound_rejection WHERE http_status = 401 AND received_at > ?
                GROUP BY source HAVING count(*) >= ? ORDER BY source""", from, threshold);
        // A burst is over once its source had no signature refusal at all in the window, not as soon as the count dips below
        // the threshold: a sender retrying with the wrong secret hovers around it (20, 19, 20…), one burst, one alert.
        jdbc.update("""
                DELETE FROM rejection_burst b WHERE NOT EXISTS (SELECT 1 FROM inbound_rejection r
                  WHERE r.http_status = 401 AND r.received_at > ? AND r.source = b.source)""", from);
        List<String> lines = new ArrayList<>();
        List<String> announced = new ArrayList<>();
        for (Map<String, Object> row : bursting) {
            String source = (String) row.get("source");
            Instant since = ((Timestamp) row.get("first_at")).toInstant();
            if (jdbc.update("INSERT INTO rejection_burst (source, since) VALUES (?, ?) ON CONFLICT (source) DO NOTHING",
                    source, Timestamp.from(since)) == 0) {
                continue;   // announced already (here or by another instance): one alert per burst
            }
            long refused = ((Number) row.get("refused")).longValue();
            String setting = signingSetting(source);
            lines.add("• The " + source + " webhook refused " + refused + " requests for their signature in the last "
                    + FailureGroups.human(window) + " (since " + TIME.format(since) + " UTC). The sender's signing secret and "
                    + setting + " (" + setting.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_') + ") probably no longer match,"
                    + " for example after a secret rotation on one side only: none of these events was accepted."
                    + " Senders retry refused webhooks for a while, so fix the secret soon.\n   Last reason: "
                    + Masking.mask((String) row.get("last_reason"))
                    + "\n   Console: " + console + "/console/rejected?source=" + source + "&kind=signature");
            announced.add(source);
        }
        if (lines.isEmpty()) {
            return;
        }
        exchange.setProperty(ANNOUNCING, announced);
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:signature-burst:" + String.join(",", announced)
                + ":" + Instant.now().toEpochMilli());
        exchange.getMessage().setBody(OpsPost.body(json,
                ":rotating_light: Herald: webhook requests refused for a bad signature\n\n" + String.join("\n\n", lines)));
    }

    /** The setting that holds what a source's signatures are checked with (its secret, token or verification key). */
    static String signingSetting(String source) {
        return switch (source) {
            case "incidents" -> "herald.incidents.token";
            case "sms-status", "sms-inbound" -> "herald.sms.auth-token";   // Twilio signs both with the account's auth token
            case "email-events" -> "herald.email-events.verification-key";
            default -> "herald." + source + ".webhook-secret";
        };
    }

    /** The webhook took the post. */
    public void posted(Exchange exchange) {
        log.info("Signature failure burst alert posted to the ops webhook: {}", exchange.getProperty(ANNOUNCING));
    }

    /** The webhook did not take it: the transaction is rolled back and the burst announced at the next poll. */
    public void notPosted(Exchange exchange) {
        log.warn("Signature failure burst alert not posted to the ops webhook; tried again at the next poll",
                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
    }
}
