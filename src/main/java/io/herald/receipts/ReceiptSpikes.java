package io.herald.receipts;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.ConsoleSettings;
import io.herald.config.ReceiptSettings;
import io.herald.logging.Masking;
import io.herald.ops.OpsPost;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A spike of bounced or undelivered messages on one channel: herald.receipts.spike.threshold messages (distinct deliveries,
 * so a provider's retried callback counts once) reported BOUNCED or UNDELIVERED within herald.receipts.spike.window. The
 * mark of a provider or carrier problem, a blocked sender or a bad list of addresses, that no single failure shows. Alerted
 * on the ops webhook like a failure (routes/delivery-receipts.camel.yaml, receipt-spike-alert): once when it starts (the
 * receipt_spike row inserted) and once when the count in the window fell below the threshold again (the row deleted), each
 * in one transaction with the post, so a post the webhook did not take is made at the next poll and two instances never
 * announce the same news.
 */
@Component
public class ReceiptSpikes {

    private static final Logger log = LoggerFactory.getLogger(ReceiptSpikes.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
    static final String ANNOUNCING = "heraldReceiptSpikesAnnouncing";

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final int threshold;
    private final Duration window;
    private final String console;

    public ReceiptSpikes(JdbcTemplate jdbc, ObjectMapper json, ReceiptSettings receipts, ConsoleSettings consoleSettings) {
        int threshold = receipts.spike().threshold();
        Duration window = receipts.spike().window();
        if (threshold < 1) {
            throw new IllegalStateException("herald.receipts.spike.threshold must be at least 1, not " + threshold);
        }
        if (window.isNegative() || window.isZero()) {
            throw new IllegalStateException("herald.receipts.spike.window must be a positive duration such as PT15M, not " + window);
        }
        this.jdbc = jdbc;
        this.json = json;
        this.threshold = threshold;
        this.window = window;
        String base = consoleSettings.baseUrl();
        this.console = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /**
     * Records spikes that started and removes those that ended; the body becomes the webhook post ({"text": ...}) when there
     * is news, null otherwise. Runs inside the route's transaction.
     */
    public void compose(Exchange exchange) throws JsonProcessingException {
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(null);
        Instant now = Instant.now();
        Map<String, Map<String, Object>> spiking = new LinkedHashMap<>();
        jdbc.queryForList("""
                SELECT channel, count(DISTINCT delivery_id) AS bad, min(received_at) AS first_at,
                       (array_agg(reason ORDER BY id DESC))[1] AS last_reason
                FROM delivery_receipt
                WHERE final_state IN ('BOUNCED', 'UNDELIVERED') AND delivery_id IS NOT NULL AND received_at > ?
                GROUP BY channel HAVING count(DISTINCT delivery_id) >= ? ORDER BY channel""", Timestamp.from(now.minus(window)), threshold)
                .forEach(row -> spiking.put((String) row.get("channel"), row));
        List<String> lines = new ArrayList<>();
        List<String> announced = new ArrayList<>();
        for (String channel : jdbc.queryForList("SELECT channel FROM receipt_spike ORDER BY channel", String.class)) {
            if (spiking.containsKey(channel)) {
                continue;
            }
            List<Timestamp> began = jdbc.queryForList("DELETE FROM receipt_spike WHERE channel = ? RETURNING since", Timestamp.class, channel);
            if (!began.isEmpty()) {   // empty: another instance announced the end
                lines.add(":white_check_mark: The spike of " + what(channel) + " is over: fewer than " + threshold + " in the last "
                        + human(window) + " at " + TIME.format(now) + " UTC (it began at " + TIME.format(began.get(0).toInstant()) + " UTC).");
                announced.add(channel + " ended");
            }
        }
        for (Map<String, Object> row : spiking.values()) {
            String channel = (String) row.get("channel");
            Instant since = ((Timestamp) row.get("first_at")).toInstant();
            if (jdbc.update("INSERT INTO receipt_spike (channel, since) VALUES (?, ?) ON CONFLICT (channel) DO NOTHING",
                    channel, Timestamp.from(since)) == 0) {
                continue;   // announced already (here or by another instance): one alert per spike
            }
            long bad = ((Number) row.get("bad")).longValue();
            lines.add(":rotating_light: A spike of " + what(channel) + ": " + bad + " in the last " + human(window) + " (since "
                    + TIME.format(since) + " UTC), at or above herald.receipts.spike.threshold (" + threshold + "). " + advice(channel)
                    + "\n   Last reason: " + Masking.mask(String.valueOf(row.get("last_reason")))
                    + "\n   Console: " + console + "/console/report (receipts per channel this week), " + console + "/console/suppressions");
            announced.add(channel + " started");
        }
        if (lines.isEmpty()) {
            return;
        }
        exchange.setProperty(ANNOUNCING, announced);
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:receipt-spike:" + String.join(",", announced) + ":" + now.toEpochMilli());
        exchange.getMessage().setBody(OpsPost.body(json, "Herald: delivery receipts\n\n" + String.join("\n\n", lines)));
    }

    /** The webhook took the post. */
    public void posted(Exchange exchange) {
        log.info("Receipt spike alert posted to the ops webhook: {}", exchange.getProperty(ANNOUNCING));
    }

    /** The webhook did not take it: the transaction is rolled back and the news posted at the next poll. */
    public void notPosted(Exchange exchange) {
        log.warn("Receipt spike alert not posted to the ops webhook; tried again at the next poll",
                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
    }

    private static String what(String channel) {
        return switch (channel) {
            case "email" -> "bounced or undelivered emails";
            case "sms" -> "undelivered SMS";
            default -> "bounced or undelivered " + channel + " messages";
        };
    }

    private static String advice(String channel) {
        return switch (channel) {
            case "email" -> "Look at the bounce reasons: a blocked sending domain or IP, or a bad batch of addresses from the CRM;"
                    + " bounced addresses are suppressed.";
            case "sms" -> "Look at the carrier error codes: carrier filtering (30007) or an unreachable network points at the sender"
                    + " number or the provider, unknown numbers at the CRM's data.";
            default -> "Look at the provider's reasons.";
        };
    }

    static String human(Duration d) {
        long minutes = d.toMinutes();
        if (minutes == 0) {
            return d.toSeconds() + " s";
        }
        return minutes % 60 == 0 ? (minutes / 60) + " h" : minutes + " min";
    }
}
