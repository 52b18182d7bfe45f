package io.herald.ops;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.AlertSettings;
import org.apache.camel.Exchange;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Outages, alerted on the ops webhook like failures (routes/failure-alerts.camel.yaml, outage-alerts):
 * a provider's circuit breaker open, a channel's parked backlog past herald.alerts.parked-threshold,
 * Kafka or PostgreSQL unreachable. Each outage is announced once when it is first seen ("SMS provider
 * failing since 21:04 UTC (circuit breaker open): 37 deliveries parked") and once when it is over ("SMS provider back since
 * 21:09 UTC: parked deliveries are being sent"); an outage over before it could be announced is not. It is over once it
 * has not been seen for herald.alerts.outage-settle: seen again before that, it goes on, so a flapping provider (its
 * breaker closing and opening again every minute) is one outage, with one start and one end.
 *
 * <p>The state is kept in memory, not in the database, because PostgreSQL being down is one of the
 * outages: each Herald instance announces what it sees (breakers are per instance). A post the webhook
 * did not take is tried again at the next poll, with whatever has changed since.
 */
@Component
public class OutageAlerts {

    private static final Logger log = LoggerFactory.getLogger(OutageAlerts.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
    /** Exchange property: the outage keys a successful post announces. */
    static final String ANNOUNCING = "heraldOutagesAnnouncing";

    /** An outage as seen: since when, and whether its start (and then its end) has been announced. */
    private static final class Outage {
        final Instant since;
        String detail;
        boolean announced;
        Instant over;

        Outage(Instant since, String detail) {
            this.since = since;
            this.detail = detail;
        }
    }

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final int parkedThreshold;
    private final Duration settle;
    private final ProviderBreakers breakers;
    private final OpsKafkaAdmin kafka;
    /** Herald's clock (heraldClock): when an outage was seen and whether its settle period is over. */
    private final Clock clock;
    private final Map<String, Outage> outages = new LinkedHashMap<>();

    public OutageAlerts(JdbcTemplate jdbc, ObjectMapper json, AlertSettings alerts, ProviderBreakers breakers, OpsKafkaAdmin kafka,
                        Clock clock) {
        int parkedThreshold = alerts.parkedThreshold();
        if (parkedThreshold < 1) {
            throw new IllegalStateException("herald.alerts.parked-threshold (config/application.yaml, HERALD_ALERTS_PARKED_THRESHOLD)"
                    + " must be at least 1, not " + parkedThreshold);
        }
        this.jdbc = jdbc;
        this.json = json;
        this.parkedThreshold = parkedThreshold;
        this.settle = alerts.outageSettle();
        this.breakers = breakers;
        this.kafka = kafka;
        this.clock = clock;
    }

    /**
     * Looks at breakers, parked backlogs, Kafka and PostgreSQL; the body becomes the webhook post
     * ({"text": ...}) when an outage started or ended unannounced, null otherwise.
     */
    public synchronized void compose(Exchange exchange) throws JsonProcessingException {
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(null);
        Instant now = clock.instant();
        Map<String, String> seen = new LinkedHashMap<>();
        Map<String, Long> parked = parkedByChannel(seen);
        breakers.states().forEach((channel, state) -> {
            if (ProviderBreakers.isOpen(state)) {
                long waiting = parked == null ? -1 : parked.getOrDefault(channel, 0L);
                seen.put("provider:" + channel, name(channel) + " failing since %s (circuit breaker open)" + (waiting < 0 ? "" : ": " + waiting
                        + (waiting == 1 ? " delivery" : " deliveries") + " parked"));
            }
        });
        if (parked != null) {
            parked.forEach((channel, count) -> {
                if (count >= parkedThreshold) {
                    seen.put("parked:" + channel, count + " " + channel.replace('_', ' ') + " deliveries parked (since %s), more than"
                            + " herald.alerts.parked-threshold (" + parkedThreshold + "): check the " + name(channel) + " and the console's failures");
                }
            });
        }
        if (!kafkaReachable()) {
            seen.put("kafka", "Kafka unreachable since %s: webhooks answer 503 (senders retry) and events wait until it is back");
        }
        List<String> lines = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        if (parked == null) {
            // PostgreSQL cannot be read: a parked backlog already announced is not over for that, it is not counted this time.
            outages.forEach((key, outage) -> {
                if (key.startsWith("parked:") && outage.over == null) {
                    seen.put(key, outage.detail);
                }
            });
        }
        seen.forEach((key, detail) -> {
            Outage outage = outages.computeIfAbsent(key, k -> new Outage(now, detail));
            outage.detail = detail;
            outage.over = null;   // seen again before its end was told (within the settle period, or the post failed): it goes on
        });
        for (Map.Entry<String, Outage> entry : outages.entrySet()) {
            Outage outage = entry.getValue();
            if (!seen.containsKey(entry.getKey()) && outage.over == null) {
                outage.over = now;
            }
            if (outage.over == null && !outage.announced) {
                lines.add(":rotating_light: " + outage.detail.formatted(TIME.format(outage.since) + " UTC"));
                keys.add(entry.getKey());
            } else if (outage.over != null && outage.announced && !now.isBefore(outage.over.plus(settle))) {
                lines.add(":white_check_mark: " + back(entry.getKey(), outage.over));
                keys.add(entry.getKey());
            }
        }
        outages.values().removeIf(outage -> outage.over != null && !outage.announced);   // over before anyone was told: nothing to say
        if (lines.isEmpty()) {
            return;
        }
        exchange.setProperty(ANNOUNCING, keys);
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:outage:" + String.join(",", keys) + ":" + now.toEpochMilli());
        exchange.getMessage().setBody(OpsPost.body(json, String.join("\n", lines)));
    }

    /** The webhook took the post: what it announced is not announced again. */
    public synchronized void posted(Exchange exchange) {
        @SuppressWarnings("unchecked")
        List<String> keys = exchange.getProperty(ANNOUNCING, List.class);
        for (String key : keys) {
            Outage outage = outages.get(key);
            if (outage == null) {
                continue;
            }
            if (outage.over == null) {
                outage.announced = true;
            } else {
                outages.remove(key);   // its end is announced too: done
            }
        }
        log.info("Outage alert posted to the ops webhook: {}", keys);
    }

    /** The webhook did not take it: the same outages are announced at the next poll. */
    public void notPosted(Exchange exchange) {
        log.warn("Outage alert not posted to the ops webhook; tried again at the next poll", exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
    }

    private static String back(String key, Instant over) {
        String since = TIME.format(over) + " UTC";
        if (key.startsWith("provider:")) {
            return name(key.substring("provider:".length())) + " back since " + since + ": its breaker closed, and any deliveries it parked are sent as they come due";
        }
        if (key.startsWith("parked:")) {
            return key.substring("parked:".length()).replace('_', ' ') + " parked deliveries below herald.alerts.parked-threshold again since " + since;
        }
        if (key.equals("kafka")) {
            return "Kafka back since " + since + ": webhooks take events again and waiting events are processed";
        }
        return "PostgreSQL back since " + since + ": events and deliveries are processed again";
    }

    private static String name(String channel) {
        return switch (channel) {
            case "sms" -> "SMS provider";
            case "push" -> "push provider";
            case "email" -> "SMTP server";
            case "ops_webhook" -> "ops webhook";
            default -> channel + " provider";
        };
    }

    /** PARKED deliveries per channel; null (and PostgreSQL noted as down) when the database does not answer. */
    private Map<String, Long> parkedByChannel(Map<String, String> seen) {
        try {
            Map<String, Long> counts = new LinkedHashMap<>();
            jdbc.query("SELECT channel, count(*) FROM delivery WHERE state = 'PARKED' GROUP BY channel ORDER BY channel",
                    row -> {
                        counts.put(row.getString(1), row.getLong(2));
                    });
            return counts;
        } catch (DataAccessException e) {
            log.debug("PostgreSQL did not answer the outage check", e);
            seen.put("postgresql", "PostgreSQL unreachable since %s: webhooks keep accepting, events and deliveries wait until it is back"
                    + " (this alert comes from Herald's memory)");
            return null;
        }
    }

    private boolean kafkaReachable() {
        try {
            long timeout = kafka.timeout().toMillis();
            kafka.admin().describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout))
                    .nodes().get(timeout + 500, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            log.debug("Kafka did not answer the outage check", e);
            return false;
        }
    }
}
