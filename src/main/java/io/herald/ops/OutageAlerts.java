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
import io.herald.config.DatabaseReadOnly;
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
 * Kafka or PostgreSQL unreachable, one of Herald's Kafka topics deleted on the broker (MissingTopics), a route Herald needs left stopped or suspended (StoppedRoutes). Each outage is announced once when it is first seen ("SMS provider
 * failing since 21:04 UTC (circuit breaker open): 37 deliveries parked") and once when it is over ("SMS provider back since
 * 21:09 UTC: parked deliveries are being sent"); an outage over before it could be announced is not. It is over once it
 * has not been seen for herald.alerts.outage-settle: seen again before that, it goes on, so a flapping provider (its
 * breaker closing and opening again every minute) is one outage, with one start and one end. A route left stopped is over
 * as soon as no instance has seen it stopped for a few polls: someone started it, it does not flap.
 *
 * <p>Several instances share one PostgreSQL, and they see the same parked backlog, the same Kafka and, their breakers
 * being per instance, usually the same failing provider: each instance records what it sees in table outage_alert
 * (V69), and the start and the end of an outage are each posted by the one instance that claimed the row for the post,
 * so the ops webhook is told once, not once per instance. An outage is over once no instance has seen it for the settle
 * period. PostgreSQL being unreachable cannot be shared that way: each instance announces it from memory (so it works with
 * the database down), and hands it to the table once the database answers, so its end is posted once. While PostgreSQL is
 * down, the other outages are not recorded: one still seen when it is back is announced then.
 */
@Component
public class OutageAlerts {

    private static final Logger log = LoggerFactory.getLogger(OutageAlerts.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
    /** Exchange property: whether a successful post announces PostgreSQL's outage (this instance's memory). */
    static final String ANNOUNCING = "heraldOutagesAnnouncing";
    /** Exchange property: the outage_alert rows this post announces (claimed by this instance). */
    static final String CLAIMED = "heraldOutagesClaimed";
    private static final String POSTGRESQL = "postgresql";
    /** An outage_alert key's beginning for one of Herald's Kafka topics missing on the broker (MissingTopics). */
    private static final String TOPIC = "kafka-topic:";

    /** PostgreSQL's outage as this instance saw it: since when, and whether its start has been announced. */
    private static final class Outage {
        final Instant since;
        final String detail;
        boolean announced;
        Instant over;

        Outage(Instant since, String detail) {
            this.since = since;
            this.detail = detail;
        }
    }

    private final JdbcTemplate jdbc;
    private final SharedOutages shared;
    private final ObjectMapper json;
    private final int parkedThreshold;
    private final Duration settle;
    /** An outage not yet announced is announced while some instance saw it this recently; older, it was over before anyone was told. */
    private final Duration fresh;
    private final ProviderBreakers breakers;
    private final OpsKafkaAdmin kafka;
    private final StoppedRoutes stoppedRoutes;
    private final MissingTopics missingTopics;
    /** Herald's clock (heraldClock): when an outage was seen and whether its settle period is over. */
    private final Clock clock;
    private Outage database;
    /**
     * PostgreSQL's last announced outage once handed to outage_alert: its end is not posted before the settle period, so
     * PostgreSQL going again within it is the same outage going on (flapping), not a new one to announce.
     */
    private Outage handedOver;

    public OutageAlerts(JdbcTemplate jdbc, ObjectMapper json, AlertSettings alerts, ProviderBreakers breakers, OpsKafkaAdmin kafka,
                        StoppedRoutes stoppedRoutes, MissingTopics missingTopics, Clock clock) {
        int parkedThreshold = alerts.parkedThreshold();
        if (parkedThreshold < 1) {
            throw new IllegalStateException("herald.alerts.parked-threshold must be at least 1, not " + parkedThreshold);
        }
        this.jdbc = jdbc;
        this.shared = new SharedOutages(jdbc);
        this.json = json;
        this.parkedThreshold = parkedThreshold;
        this.settle = alerts.outageSettle();
        this.fresh = Duration.ofMillis(Math.max(5000, 3 * alerts.pollIntervalMs()));
        this.breakers = breakers;
        this.kafka = kafka;
        this.stoppedRoutes = stoppedRoutes;
        this.missingTopics = missingTopics;
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
        } else {
            missingTopics.missing().forEach(topic -> seen.put(TOPIC + topic, missingTopics.detail(topic)));
            seen.putAll(io.herald.kafka.KafkaAccessDenied.lately(fresh));
        }
        for (StoppedRoutes.Stopped route : stoppedRoutes.longStopped(now)) {
            // Its own since (when a poll first saw it stopped), not when it was first recorded, after the wait.
            seen.put(route.key(), route.detail().formatted(TIME.format(route.since()) + " UTC").replace("%", "%%"));
        }
        List<String> lines = new ArrayList<>();
        String databaseDown = seen.remove(POSTGRESQL);
        boolean announcingDatabase = databaseFromMemory(databaseDown, now, lines);
        List<SharedOutages.Claimed> claimed = List.of();
        if (databaseDown == null) {
            try {
                handDatabaseOutageOver(now);
                shared.seen(seen, now);
                claimed = claim(now, lines);
                databaseOutageNotOver(now);
            } catch (DataAccessException e) {
                log.debug("PostgreSQL did not answer the outage alerts' records; they are made at the next poll", e);
            }
        }
        if (lines.isEmpty()) {
            return;
        }
        List<String> keys = new ArrayList<>();
        if (announcingDatabase) {
            keys.add(POSTGRESQL);
        }
        claimed.forEach(c -> keys.add(c.outage()));
        exchange.setProperty(ANNOUNCING, announcingDatabase);
        exchange.setProperty(CLAIMED, claimed);
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:outage:" + String.join(",", keys) + ":" + now.toEpochMilli());
        exchange.getMessage().setBody(OpsPost.body(json, String.join("\n", lines)));
    }

    /** PostgreSQL's outage, from this instance's memory: true when its start is to be announced by this post. */
    private boolean databaseFromMemory(String down, Instant now, List<String> lines) {
        if (down != null) {
            if (database == null && handedOver != null && now.isBefore(handedOver.over.plus(settle))) {
                database = new Outage(handedOver.since, handedOver.detail);
                database.announced = true;   // flapping: its start was told, its end (in the table) not yet
            } else if (database == null) {
                database = new Outage(now, down);
            }
            database.over = null;   // seen again before its end was told: it goes on
        } else if (database != null && database.over == null) {
            database.over = now;
        }
        if (database == null) {
            return false;
        }
        if (database.over != null && !database.announced) {
            database = null;   // over before anyone was told: nothing to say
            return false;
        }
        if (database.over == null && !database.announced) {
            lines.add(":rotating_light: " + database.detail.formatted(TIME.format(database.since) + " UTC"));
            return true;
        }
        return false;
    }

    /**
     * PostgreSQL answers again after an outage this instance announced: its end is the instances' shared business now
     * (outage_alert), so it is posted once however many instances announced its start.
     */
    private void handDatabaseOutageOver(Instant now) {
        if (database == null || database.over == null || !database.announced) {
            return;
        }
        shared.announcedElsewhere(POSTGRESQL, database.detail, database.since, database.over, now);
        handedOver = database;
        database = null;
    }

    /**
     * PostgreSQL's announced outage whose end is not yet posted, as the table has it: after a restart (or on an instance
     * started since), a drop within the settle period is that outage going on, not a new one announced a second time.
     */
    private void databaseOutageNotOver(Instant now) {
        if (database != null) {
            return;
        }
        SharedOutages.Announced row = shared.announcedNotOver(POSTGRESQL, now);
        if (row == null) {
            handedOver = null;
            return;
        }
        Outage known = new Outage(row.since(), row.detail());
        known.announced = true;
        known.over = row.lastSeen();
        handedOver = known;
    }

    /** Claims the outages whose start or end this post announces (SharedOutages.claim), and adds their lines. */
    private List<SharedOutages.Claimed> claim(Instant now, List<String> lines) {
        List<SharedOutages.Claimed> claimed = shared.claim(now, now.minus(fresh), now.minus(settle));
        for (SharedOutages.Claimed c : claimed) {
            lines.add(c.end() ? ":white_check_mark: " + back(c.outage(), c.lastSeen())
                    : ":rotating_light: " + c.detail().formatted(TIME.format(c.since()) + " UTC"));
        }
        return claimed;
    }

    /** The webhook took the post: what it announced is not announced again. */
    public synchronized void posted(Exchange exchange) {
        if (Boolean.TRUE.equals(exchange.getProperty(ANNOUNCING, Boolean.class)) && database != null) {
            database.announced = true;
        }
        @SuppressWarnings("unchecked")
        List<SharedOutages.Claimed> claimed = exchange.getProperty(CLAIMED, List.class);
        List<String> keys = claimed.stream().map(SharedOutages.Claimed::outage).toList();
        try {
            for (SharedOutages.Claimed c : claimed) {
                shared.posted(c, clock.instant());
            }
        } catch (DataAccessException e) {
            log.warn("Outage alert posted to the ops webhook, but PostgreSQL did not record it: {} may be posted again once its claim"
                    + " ends ({})", keys, SharedOutages.CLAIM_LEASE, e);
        }
        log.info("Outage alert posted to the ops webhook: {}", keys);
    }

    /** The webhook did not take it: the same outages are announced at the next poll. */
    public synchronized void notPosted(Exchange exchange) {
        log.warn("Outage alert not posted to the ops webhook; tried again at the next poll", exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        @SuppressWarnings("unchecked")
        List<SharedOutages.Claimed> claimed = exchange.getProperty(CLAIMED, List.class);
        if (claimed == null || claimed.isEmpty()) {
            return;
        }
        try {
            for (SharedOutages.Claimed c : claimed) {
                shared.released(c);
            }
        } catch (DataAccessException e) {
            log.debug("PostgreSQL did not answer; the outages' claims end by themselves", e);
        }
    }

    private String back(String key, Instant over) {
        String since = TIME.format(over) + " UTC";
        if (StoppedRoutes.isRoute(key)) {
            return stoppedRoutes.back(key, since);
        }
        if (key.startsWith("provider:")) {
            return name(key.substring("provider:".length())) + " back since " + since + ": its breaker closed, and any deliveries it parked are sent as they come due";
        }
        if (key.startsWith("parked:")) {
            return key.substring("parked:".length()).replace('_', ' ') + " parked deliveries below herald.alerts.parked-threshold again since " + since;
        }
        if (key.startsWith(TOPIC)) {
            return "Kafka topic " + key.substring(TOPIC.length()) + " there again since " + since
                    + ": webhooks writing to it take events again and its waiting events are processed";
        }
        if (key.startsWith("kafka-access:")) {
            return "Kafka grants Herald access to " + key.substring("kafka-access:".length()) + " again since " + since
                    + ": the events that waited for it are processed";
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
            if (DatabaseReadOnly.isReadOnly(jdbc)) {   // it answers reads, but refuses every write
                seen.put("postgresql", "PostgreSQL refuses writes since %s: it is read-only, e.g. a standby after a failover; point"
                        + " herald.db.url at the primary. Webhooks keep accepting, events and deliveries wait until it takes writes"
                        + " (this alert comes from Herald's memory)");
                return null;
            }
            return counts;
        } catch (DataAccessException e) {
            log.debug("PostgreSQL did not answer the outage check", e);
            String tls = io.herald.config.DatabaseTlsRefused.reason(e);
            seen.put("postgresql", tls != null
                    ? "PostgreSQL refused Herald's TLS connection since %s: " + tls + "; webhooks keep accepting, events and deliveries"
                            + " wait until it is fixed (this alert comes from Herald's memory)"
                    : "PostgreSQL unreachable since %s: webhooks keep accepting, events and deliveries wait until it is back"
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
