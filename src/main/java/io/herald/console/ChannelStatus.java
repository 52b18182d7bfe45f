package io.herald.console;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.herald.ops.ProviderBreakers;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Each channel at a glance, for the console's status panel: its provider's circuit breaker as this
 * instance sees it (breakers are per instance), when some instance last saw it open (the outage alerts
 * record that for all instances in outage_alert, every poll), how many deliveries are parked waiting for
 * the provider, and the last provider error among the open failures (what the provider answered, when).
 * Behind a load balancer the page comes from any instance: it used to say CLOSED for a provider another
 * instance's breaker held open, parking its deliveries.
 */
@Component
public class ChannelStatus {

    /**
     * One channel's line. breaker is CLOSED, OPEN, HALF_OPEN… or null when the channel calls no provider; openSeenAt when
     * an instance (this one or another) saw its breaker open within the last three alert polls, else null.
     */
    public record Channel(String channel, String breaker, Instant openSeenAt, long parked, String lastError, Instant lastErrorAt) {
        public boolean breakerOpen() {
            return breaker != null && ProviderBreakers.isOpen(breaker);
        }
    }

    static final List<String> CHANNELS = List.of("email", "sms", "push", "in_app", "ops_webhook");
    /** Newest open failures looked at for the last provider error (the partial index delivery_open_failures serves them). */
    private static final int RECENT_FAILURES = 500;

    private final ProviderBreakers breakers;
    private final JdbcTemplate jdbc;
    private final java.time.Clock clock;
    /** As OutageAlerts counts an outage seen lately: three polls, at least 5 s. */
    private final java.time.Duration fresh;

    public ChannelStatus(ProviderBreakers breakers, JdbcTemplate jdbc, java.time.Clock clock, io.herald.config.AlertSettings alerts) {
        this.breakers = breakers;
        this.jdbc = jdbc;
        this.clock = clock;
        this.fresh = java.time.Duration.ofMillis(Math.max(5000, 3 * alerts.pollIntervalMs()));
    }

    public List<Channel> channels() {
        Map<String, String> breakers = this.breakers.states();
        Map<String, Long> parked = new LinkedHashMap<>();
        jdbc.query("SELECT channel, count(*) AS parked FROM delivery WHERE state = 'PARKED' GROUP BY channel",
                row -> {
                    parked.put(row.getString("channel"), row.getLong("parked"));
                });
        Map<String, Object[]> lastErrors = new LinkedHashMap<>();
        jdbc.query("""
                WITH recent AS (SELECT id, channel FROM delivery WHERE state IN ('FAILED', 'PARKED', 'UNCERTAIN')
                                ORDER BY updated_at DESC LIMIT ?)
                SELECT DISTINCT ON (r.channel) r.channel, a.reason, a.attempted_at
                FROM recent r JOIN delivery_attempt a ON a.delivery_id = r.id
                WHERE a.outcome IN ('FAILED', 'PARKED', 'RETRYING', 'UNCERTAIN') AND a.reason IS NOT NULL
                ORDER BY r.channel, a.attempted_at DESC, a.id DESC""", row -> {
            lastErrors.put(row.getString("channel"), new Object[] {row.getString("reason"), row.getTimestamp("attempted_at")});
        }, RECENT_FAILURES);
        Map<String, Instant> openSeen = new LinkedHashMap<>();
        jdbc.query("SELECT substr(outage, 10) AS channel, last_seen_at FROM outage_alert WHERE outage LIKE 'provider:%' AND last_seen_at >= ?",
                row -> {
                    openSeen.put(row.getString("channel"), row.getTimestamp("last_seen_at").toInstant());
                }, Timestamp.from(clock.instant().minus(fresh)));
        java.util.Set<String> names = new java.util.LinkedHashSet<>(CHANNELS);
        names.addAll(breakers.keySet());
        names.addAll(parked.keySet());
        return names.stream().map(channel -> {
            Object[] last = lastErrors.get(channel);
            return new Channel(channel, breakers.get(channel), openSeen.get(channel), parked.getOrDefault(channel, 0L),
                    last == null ? null : (String) last[0], last == null ? null : ((Timestamp) last[1]).toInstant());
        }).toList();
    }
}
