package io.herald.console;

import java.sql.Timestamp;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.ledger.StoredText;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The weekly exception review for one ISO week (UTC): failures by reason, source, channel and type;
 * how long they took to resolve; deliveries that missed their send window; duplicates suppressed;
 * what the providers reported (delivered, bounced, undelivered, complained per channel); late messages their type's late
 * policy stopped (dropped: EXPIRED, not sent; held for an operator); and what is still open. Resolved failures are told apart: delivered after all (retried or resent), re-driven
 * (a quarantined event), or dismissed by an operator (closed, the customer got nothing). A failure is a delivery that became FAILED or UNCERTAIN, or a source
 * event quarantined, during the week. A late message dropped by its policy is not a failure (nothing went wrong: the
 * catalog says such a message is not worth sending late), so it is counted apart, by type and channel; a delivery that
 * EXPIRED because nobody approved it in time (issue 16) is neither (its reason says so, and it is alerted).
 */
@Component
public class WeeklyReport {

    private static final Pattern WEEK = Pattern.compile("(\\d{4})-W(\\d{2})");
    /** Open items listed at most (oldest first); the count is of all of them. An outage can leave tens of thousands parked. */
    static final int OPEN_LISTED = 500;
    private static final String OPEN_ITEMS = """
            SELECT 'delivery' AS kind, d.id, d.notification_id, d.state, d.reason, coalesce(d.failed_at, d.updated_at) AS since
            FROM delivery_all d WHERE d.state IN ('FAILED', 'PARKED', 'UNCERTAIN') AND coalesce(d.failed_at, d.updated_at) < ?
            UNION ALL
            SELECT 'quarantine', u.id, NULL, 'QUARANTINED', 'quarantined at ' || u.step || ': ' || u.reason, u.created_at
            FROM unrouted_event u WHERE u.outcome = 'QUARANTINED' AND u.status = 'OPEN' AND u.created_at < ?""";

    public record Count(String key, long count) {
    }

    /**
     * What the providers reported during the week about one channel's messages (issue 13): deliveries reported delivered,
     * bounced, undelivered or complained about (each delivery once per state, however often the provider repeated it).
     */
    public record ReceiptCounts(String channel, long delivered, long bounced, long undelivered, long complained) {
    }

    public record OpenItem(String kind, long id, Long notificationId, String state, String reason, Instant since) {
    }

    public record Report(String week, Instant from, Instant to, long failures, List<Count> byReason, List<Count> bySource,
                         List<Count> byChannel, List<Count> byType, long resolved, long resolvedByDelivery, long resolvedByRedrive,
                         long dismissed, String medianTimeToResolution,
                         String p90TimeToResolution, String maxTimeToResolution, long windowMisses, List<Count> windowMissesByType,
                         long duplicatesSuppressed, long openItems, List<OpenItem> open, List<ReceiptCounts> receipts,
                         long lateDropped, List<Count> lateDroppedByType, long lateHeld, List<Count> lateHeldByType) {

        /** The same report with every reason passed through a mask (a viewer's copy: no email or phone in it). */
        public Report masked(java.util.function.UnaryOperator<String> mask) {
            return new Report(week, from, to, failures, byReason.stream().map(c -> new Count(mask.apply(c.key()), c.count())).toList(),
                    bySource, byChannel, byType, resolved, resolvedByDelivery, resolvedByRedrive, dismissed, medianTimeToResolution,
                    p90TimeToResolution, maxTimeToResolution, windowMisses, windowMissesByType, duplicatesSuppressed, openItems,
                    open.stream().map(o -> new OpenItem(o.kind(), o.id(), o.notificationId(), o.state(), mask.apply(o.reason()), o.since()))
                            .toList(), receipts, lateDropped, lateDroppedByType, lateHeld, lateHeldByType);
        }
    }

    private final JdbcTemplate jdbc;

    public WeeklyReport(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** The week as 2026-W47; blank means the current week. */
    public static String weekOf(String week) {
        if (week == null || week.isBlank()) {
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            return String.format(Locale.ROOT, "%d-W%02d", today.get(IsoFields.WEEK_BASED_YEAR), today.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
        }
        return week.strip();
    }

    public Report of(String weekText) {
        String week = weekOf(weekText);
        Matcher m = WEEK.matcher(week);
        if (!m.matches()) {
            throw new ActionRefused.InvalidInput("week must be written like 2026-W47 (ISO week); was '" + StoredText.label(week, 40) + "'");
        }
        LocalDate monday;
        try {
            LocalDate midYear = LocalDate.of(Integer.parseInt(m.group(1)), 6, 1);
            int number = Integer.parseInt(m.group(2));
            // 2025 has 52 ISO weeks: 2025-W53 is no week of it (LocalDate would roll it over into 2026-W01).
            if (!midYear.range(IsoFields.WEEK_OF_WEEK_BASED_YEAR).isValidIntValue(number)) {
                throw new ActionRefused.InvalidInput("no such week: " + week + " (" + m.group(1) + " has "
                        + midYear.range(IsoFields.WEEK_OF_WEEK_BASED_YEAR).getMaximum() + " ISO weeks)");
            }
            monday = midYear.with(IsoFields.WEEK_OF_WEEK_BASED_YEAR, number).with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
        } catch (ActionRefused e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ActionRefused.InvalidInput("no such week: '" + week + "'");
        }
        Instant from = monday.atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant to = monday.plusWeeks(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        Timestamp f = Timestamp.from(from);
        Timestamp t = Timestamp.from(to);

        List<Map<String, Object>> failures = jdbc.queryForList("""
                SELECT n.source, n.type, d.channel, d.failed_at AS failed,
                       coalesce((SELECT a.reason FROM delivery_attempt a WHERE a.delivery_id = d.id AND a.outcome = 'FAILED'
                                 ORDER BY a.id LIMIT 1), d.reason) AS reason,
                       CASE WHEN d.state IN ('SENT', 'DELIVERED') THEN coalesce(d.sent_at, d.updated_at)   -- an UNCERTAIN email a receipt settled: then
                            WHEN d.state = 'DISMISSED' THEN (SELECT max(acted_at) FROM operator_action a
                                                            WHERE a.target = 'delivery' AND a.target_id = d.id) END AS resolved,
                       CASE WHEN d.state IN ('SENT', 'DELIVERED') THEN 'delivered' WHEN d.state = 'DISMISSED' THEN 'dismissed' END
                           AS resolution
                FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id
                WHERE d.failed_at >= ? AND d.failed_at < ?
                UNION ALL
                SELECT u.source, NULL, NULL, u.created_at, 'quarantined at ' || u.step || ': ' || u.reason,
                       CASE WHEN u.status = 'REDRIVEN' THEN u.redriven_at
                            WHEN u.status = 'DISMISSED' THEN (SELECT max(acted_at) FROM operator_action a
                                                             WHERE a.target = 'quarantine' AND a.target_id = u.id) END,
                       CASE WHEN u.status = 'REDRIVEN' THEN 'redriven' WHEN u.status = 'DISMISSED' THEN 'dismissed' END
                FROM unrouted_event u WHERE u.outcome = 'QUARANTINED' AND u.created_at >= ? AND u.created_at < ?""", f, t, f, t);

        List<Duration> resolutions = new ArrayList<>();
        for (Map<String, Object> failure : failures) {
            if (failure.get("resolved") != null) {
                resolutions.add(Duration.between(((Timestamp) failure.get("failed")).toInstant(), ((Timestamp) failure.get("resolved")).toInstant()));
            }
        }
        resolutions.sort(null);

        List<Count> windowMisses = counts("""
                SELECT n.type || ' / ' || d.channel AS key, count(*) AS count FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id
                WHERE d.window_missed_at >= ? AND d.window_missed_at < ? GROUP BY 1 ORDER BY 2 DESC, 1""", f, t);
        // Stopped by the late policy during the week (delivery.late_at): dropped ones ended EXPIRED; held ones waited HELD for
        // an operator (and may have been sent or dismissed since).
        List<Count> lateDropped = counts("""
                SELECT n.type || ' / ' || d.channel AS key, count(*) AS count FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id
                WHERE d.late_at >= ? AND d.late_at < ? AND d.state = 'EXPIRED' GROUP BY 1 ORDER BY 2 DESC, 1""", f, t);
        List<Count> lateHeld = counts("""
                SELECT n.type || ' / ' || d.channel AS key, count(*) AS count FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id
                WHERE d.late_at >= ? AND d.late_at < ? AND d.state <> 'EXPIRED' GROUP BY 1 ORDER BY 2 DESC, 1""", f, t);
        long duplicates = jdbc.queryForObject("SELECT coalesce(sum(duplicates_suppressed), 0) FROM notification_all"
                + " WHERE received_at >= ? AND received_at < ?", Long.class, f, t);
        List<OpenItem> open = jdbc.query(OPEN_ITEMS + " ORDER BY since LIMIT " + OPEN_LISTED, (row, n) -> new OpenItem(row.getString("kind"),
                row.getLong("id"), row.getObject("notification_id", Long.class), row.getString("state"), row.getString("reason"),
                row.getTimestamp("since").toInstant()), t, t);
        long openItems = open.size() < OPEN_LISTED ? open.size()
                : jdbc.queryForObject("SELECT count(*) FROM (" + OPEN_ITEMS + ") o", Long.class, t, t);

        return new Report(week, from, to, failures.size(), group(failures, "reason"), group(failures, "source"),
                group(failures, "channel"), group(failures, "type"), resolutions.size(), resolvedBy(failures, "delivered"),
                resolvedBy(failures, "redriven"), resolvedBy(failures, "dismissed"), percentile(resolutions, 50),
                percentile(resolutions, 90), resolutions.isEmpty() ? "–" : human(resolutions.get(resolutions.size() - 1)),
                windowMisses.stream().mapToLong(Count::count).sum(), windowMisses, duplicates, openItems, open, receipts(f, t),
                lateDropped.stream().mapToLong(Count::count).sum(), lateDropped, lateHeld.stream().mapToLong(Count::count).sum(), lateHeld);
    }

    /** Receipts received during the week, per channel: distinct deliveries per reported state (unmatched receipts left out). */
    private List<ReceiptCounts> receipts(Timestamp from, Timestamp to) {
        return jdbc.query("""
                SELECT channel,
                       count(DISTINCT delivery_id) FILTER (WHERE final_state = 'DELIVERED') AS delivered,
                       count(DISTINCT delivery_id) FILTER (WHERE final_state = 'BOUNCED') AS bounced,
                       count(DISTINCT delivery_id) FILTER (WHERE final_state = 'UNDELIVERED') AS undelivered,
                       count(DISTINCT delivery_id) FILTER (WHERE final_state = 'COMPLAINED') AS complained
                FROM delivery_receipt
                WHERE final_state IS NOT NULL AND delivery_id IS NOT NULL AND received_at >= ? AND received_at < ?
                GROUP BY channel ORDER BY channel""", (row, n) -> new ReceiptCounts(row.getString("channel"), row.getLong("delivered"),
                row.getLong("bounced"), row.getLong("undelivered"), row.getLong("complained")), from, to);
    }

    /** Resolved by a delivery that reached the customer (retried or resent), by a re-drive, or closed by a dismissal. */
    private static long resolvedBy(List<Map<String, Object>> failures, String resolution) {
        return failures.stream().filter(f -> f.get("resolved") != null && resolution.equals(f.get("resolution"))).count();
    }

    private List<Count> counts(String sql, Object... args) {
        return jdbc.query(sql, (row, n) -> new Count(row.getString("key"), row.getLong("count")), args);
    }

    /** Counts by a column; reasons are grouped by their shape (ids, numbers and masked addresses left out). */
    private static List<Count> group(List<Map<String, Object>> failures, String column) {
        Map<String, Long> counts = new java.util.TreeMap<>();
        for (Map<String, Object> failure : failures) {
            Object value = failure.get(column);
            String key = value == null ? "–" : column.equals("reason") ? reasonShape(value.toString()) : value.toString();
            counts.merge(key, 1L, Long::sum);
        }
        return counts.entrySet().stream().map(e -> new Count(e.getKey(), e.getValue()))
                .sorted((a, b) -> Long.compare(b.count(), a.count())).toList();
    }

    /**
     * "sms not sent: … +1555…0123 is not a mobile number" and the same for another number count as one reason:
     * words with four or more digits (numbers, ids, times) are left out; HTTP statuses stay.
     */
    static String reasonShape(String reason) {
        String shape = reason.replaceAll("\\S*\\d\\S*\\d\\S*\\d\\S*\\d\\S*", "…").replaceAll("\\s+", " ").strip();
        return shape.length() > 160 ? shape.substring(0, 159) + "…" : shape;
    }

    private static String percentile(List<Duration> sorted, int percent) {
        if (sorted.isEmpty()) {
            return "–";
        }
        int index = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
        return human(sorted.get(Math.max(0, index)));
    }

    static String human(Duration duration) {
        long minutes = duration.toMinutes();
        if (minutes < 1) {
            return duration.toSeconds() + " s";
        }
        if (minutes < 120) {
            return minutes + " min";
        }
        return String.format(Locale.ROOT, "%.1f h", duration.toMinutes() / 60.0);
    }
}
