package io.herald.ops;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Table outage_alert (V69), its one writer: the outages the instances sharing one PostgreSQL see, and which of them one
 * instance has claimed to announce (its start, or its end) on the ops webhook, so the webhook is told once, not once per
 * instance. {@link OutageAlerts} decides what is an outage and words the posts; this class only keeps the shared record.
 * Every method throws DataAccessException when PostgreSQL does not answer: the caller decides what that means.
 */
final class SharedOutages {

    /** How long a claimed row is this instance's to post: after a crash mid-post, another instance posts it then. */
    static final Duration CLAIM_LEASE = Duration.ofMinutes(2);

    /** An outage claimed for a post: its start (not yet announced) or, announced before, its end. */
    record Claimed(String outage, boolean end, String detail, Instant since, Instant lastSeen) {
    }

    private final JdbcTemplate jdbc;

    SharedOutages(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** An outage this instance announced from its own memory (PostgreSQL's), handed over so that its end is posted once. */
    void announcedElsewhere(String outage, String detail, Instant since, Instant over, Instant announced) {
        jdbc.update("""
                INSERT INTO outage_alert (outage, detail, since, last_seen_at, announced_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (outage) DO UPDATE SET since = LEAST(outage_alert.since, EXCLUDED.since),
                    last_seen_at = GREATEST(outage_alert.last_seen_at, EXCLUDED.last_seen_at),
                    announced_at = COALESCE(outage_alert.announced_at, EXCLUDED.announced_at)""",
                outage, detail, Timestamp.from(since), Timestamp.from(over), Timestamp.from(announced));
    }

    /** An outage announced and not yet told over: its words, since when, when some instance last saw it. */
    record Announced(String detail, Instant since, Instant lastSeen) {
    }

    /** The outage's row once announced and while its end is not being posted (no live claim); null when there is none. */
    Announced announcedNotOver(String outage, Instant now) {
        List<Announced> rows = jdbc.query("SELECT detail, since, last_seen_at FROM outage_alert WHERE outage = ? AND announced_at IS NOT NULL"
                        + " AND (claimed_until IS NULL OR claimed_until < ?)",
                (row, n) -> new Announced(row.getString(1), row.getTimestamp(2).toInstant(), row.getTimestamp(3).toInstant()),
                outage, Timestamp.from(now));
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** What this instance sees now (outage key → its words), recorded for all instances: first seen, or seen again. */
    void seen(Map<String, String> seen, Instant now) {
        if (seen.isEmpty()) {
            return;
        }
        Timestamp at = Timestamp.from(now);
        jdbc.batchUpdate("""
                INSERT INTO outage_alert (outage, detail, since, last_seen_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (outage) DO UPDATE SET detail = EXCLUDED.detail,
                    last_seen_at = GREATEST(outage_alert.last_seen_at, EXCLUDED.last_seen_at)""",
                seen.entrySet().stream().map(e -> new Object[] {e.getKey(), e.getValue(), at, at}).toList());
    }

    /**
     * Claims for this post the outages whose start (seen by some instance since {@code freshSince}) or end (seen by none
     * since {@code over}) is not yet announced, rows another instance is posting skipped; outages over before anyone was
     * told are forgotten. A stopped route's end does not wait for the settle period: it does not flap, an operator started
     * or resumed it (or its file was reloaded), so it is over once no instance has seen it stopped since {@code freshSince}.
     */
    List<Claimed> claim(Instant now, Instant freshSince, Instant over) {
        Timestamp at = Timestamp.from(now);
        Timestamp fresh = Timestamp.from(freshSince);
        jdbc.update("DELETE FROM outage_alert WHERE announced_at IS NULL AND last_seen_at < ? AND (claimed_until IS NULL OR claimed_until < ?)",
                fresh, at);
        List<Claimed> claimed = new ArrayList<>();
        jdbc.query("""
                UPDATE outage_alert SET claimed_until = ?
                WHERE outage IN (SELECT outage FROM outage_alert
                                 WHERE (claimed_until IS NULL OR claimed_until < ?)
                                   AND ((announced_at IS NULL AND last_seen_at >= ?)
                                        OR (announced_at IS NOT NULL AND last_seen_at < CASE WHEN outage LIKE 'route:%' THEN ?::timestamptz ELSE ?::timestamptz END))
                                 FOR UPDATE SKIP LOCKED)
                RETURNING outage, detail, since, last_seen_at, announced_at IS NOT NULL AS announced""",
                row -> {
                    claimed.add(new Claimed(row.getString("outage"), row.getBoolean("announced"), row.getString("detail"),
                            row.getTimestamp("since").toInstant(), row.getTimestamp("last_seen_at").toInstant()));
                },
                Timestamp.from(now.plus(CLAIM_LEASE)), at, fresh, fresh, Timestamp.from(over));
        return claimed;
    }

    /** The webhook took the post: a start is announced (its end comes later), an end closes the outage. */
    void posted(Claimed claimed, Instant now) {
        if (claimed.end()) {
            jdbc.update("DELETE FROM outage_alert WHERE outage = ? AND announced_at IS NOT NULL", claimed.outage());
        } else {
            jdbc.update("UPDATE outage_alert SET announced_at = ?, claimed_until = NULL WHERE outage = ?", Timestamp.from(now), claimed.outage());
        }
    }

    /** The webhook did not take the post: the outage is free for the next poll, of any instance. */
    void released(Claimed claimed) {
        jdbc.update("UPDATE outage_alert SET claimed_until = NULL WHERE outage = ?", claimed.outage());
    }
}
