package io.herald.console;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import io.herald.ledger.StoredText;
import io.herald.notification.NotificationCatalog;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The failures an operator has to look at, newest first: deliveries FAILED, PARKED (provider
 * outage, still to be tried) or UNCERTAIN (outcome unknown after a crash), and source events
 * QUARANTINED and still open, and the SKIPPED deliveries of a high-priority notification whose every customer channel
 * was skipped (it reached the customer nowhere). Filterable by source, type, channel, customer, order, ticket,
 * state (WINDOW_MISSED: deliveries flagged for missing their send window, whatever their state;
 * DEAD_LETTER: messages that could not be processed at all) and time. A quarantined event has no canonical form yet, so customer, order and ticket
 * are matched in its raw payload, and a type or channel filter leaves it out.
 */
@Component
public class FailureSearch {

    /** The times a filter can search for: years 1 to 9999. */
    private static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant AFTER_LAST = Instant.parse("+10000-01-01T00:00:00Z");

    static final Set<String> DELIVERY_STATES = Set.of("FAILED", "PARKED", "UNCERTAIN", "DISMISSED", "WINDOW_MISSED");
    /** The sources Herald's shipped routes and mappings write; one added since is known once an event of it is recorded. */
    static final Set<String> BUILT_IN_SOURCES = Set.of("billing", "crm", "support", "incidents");
    static final List<String> OPEN_DELIVERY_STATES = List.of("FAILED", "PARKED", "UNCERTAIN");

    /** What to look for; blank fields do not filter. Times are UTC (a date means from its start, to its end). */
    public record Filter(String source, String type, String channel, String customerId, String orderId, String ticketId,
                         String state, String from, String to) {

        public static Filter none() {
            return new Filter(null, null, null, null, null, null, null, null, null);
        }

        /**
         * The same filter, narrowed to what a retry can act on; a state a retry cannot act on is refused (it used to widen the
         * retry to every open failure: "state": "QUARANTINED" retried all failed and parked deliveries).
         */
        Filter retryable() {
            if (state != null && !state.isBlank() && !"FAILED".equalsIgnoreCase(state.strip()) && !"PARKED".equalsIgnoreCase(state.strip())) {
                throw new ActionRefused.InvalidInput("a bulk retry acts on FAILED and PARKED deliveries only; state '" + StoredText.label(state, 40)
                        + "' cannot be retried: leave state empty for both, or give FAILED or PARKED (quarantined events are re-driven"
                        + " from the quarantine list)");
            }
            String onlyRetryable = state == null || state.isBlank() ? "RETRYABLE" : state.strip();
            return new Filter(source, type, channel, customerId, orderId, ticketId, onlyRetryable, from, to);
        }

        /** The filter in words, for the audit trail of a bulk action. */
        public String describe() {
            Map<String, String> set = asMap();
            return set.isEmpty() ? "all open failures"
                    : set.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
        }

        /** The filter's non-blank fields by their request parameter names. */
        public Map<String, String> asMap() {
            Map<String, String> set = new LinkedHashMap<>();
            put(set, "source", source);
            put(set, "type", type);
            put(set, "channel", channel);
            put(set, "customerId", customerId);
            put(set, "orderId", orderId);
            put(set, "ticketId", ticketId);
            put(set, "state", state);
            put(set, "from", from);
            put(set, "to", to);
            return set;
        }

        private static void put(Map<String, String> map, String key, String value) {
            if (value != null && !value.isBlank()) {
                map.put(key, value.strip());
            }
        }
    }

    /** One row of the failures view. kind is "delivery" (id = delivery id) or "quarantine" (id = event id). */
    public record Failure(String kind, long id, Long notificationId, String source, String type, String channel,
                          String customerId, String orderId, String ticketId, String state, String reason, Instant at,
                          boolean windowMissed) {
    }

    private final JdbcTemplate jdbc;
    private final NotificationCatalog catalog;

    public FailureSearch(JdbcTemplate jdbc, NotificationCatalog catalog) {
        this.jdbc = jdbc;
        this.catalog = catalog;
    }

    public List<Failure> find(Filter filter, int limit) {
        Map<String, String> f = filter.asMap();
        String state = f.getOrDefault("state", "").toUpperCase(Locale.ROOT);
        if (!state.isEmpty() && !state.equals("QUARANTINED") && !state.equals("DEAD_LETTER") && !state.equals("RETRYABLE")
                && !DELIVERY_STATES.contains(state)) {
            throw new ActionRefused.InvalidInput("unknown state '" + StoredText.label(f.get("state"), 40)
                    + "'; use FAILED, PARKED, UNCERTAIN, QUARANTINED, DEAD_LETTER, DISMISSED or WINDOW_MISSED");
        }
        String channel = f.get("channel");
        if (channel != null && !ChannelStatus.CHANNELS.contains(channel)) {
            throw new ActionRefused.InvalidInput("unknown channel '" + StoredText.label(channel, 40) + "'; use "
                    + String.join(", ", ChannelStatus.CHANNELS));
        }
        Timestamp from = time(f.get("from"), "from");
        Instant until = until(f.get("to"), "to");
        Timestamp to = until == null ? null : Timestamp.from(until);
        if (from != null && to != null && from.after(time(f.get("to"), "to"))) {
            throw new ActionRefused.InvalidInput("from (" + f.get("from") + ") is later than to (" + f.get("to")
                    + "): no failure can match; swap them");
        }
        if (limit < 1) {
            throw new ActionRefused.InvalidInput("limit must be at least 1 (at most 1000 rows are returned); was " + limit);
        }
        List<String> branches = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        int rows = Math.min(limit, 1000);
        if (state.equals("DEAD_LETTER")) {
            branches.add(newest(deadLetters(f, from, to, args), args, rows));
        } else {
            if (!state.equals("QUARANTINED")) {
                branches.add(newest(deliveries(f, state, from, to, args), args, rows));
            }
            if (state.isEmpty()) {
                // A high-priority notification that reached the customer on no channel at all (every customer channel skipped;
                // the ops webhook reaches the team, not the customer) is a failure to look at (issue 13). A branch of its own,
                // read newest first through delivery_skipped, so the open failures' branch keeps its index (IndexesTest).
                branches.add(newest(deliveries(f, "SKIPPED_EVERYWHERE", from, to, args), args, rows));
            }
            boolean quarantineApplies = !f.containsKey("type") && !f.containsKey("channel")
                    && (state.isEmpty() || state.equals("QUARANTINED") || state.equals("DISMISSED"));
            if (quarantineApplies) {
                branches.add(newest(quarantined(f, state, from, to, args), args, rows));
            }
        }
        args.add(rows);
        List<Failure> found = jdbc.query("SELECT * FROM (" + String.join(" UNION ALL ", branches) + ") failure ORDER BY at DESC, id DESC LIMIT ?",
                (row, n) -> new Failure(row.getString("kind"), row.getLong("id"), row.getObject("notification_id", Long.class),
                        row.getString("source"), row.getString("type"), row.getString("channel"), row.getString("customer_id"),
                        row.getString("order_id"), row.getString("ticket_id"), row.getString("state"), row.getString("reason"),
                        row.getTimestamp("at").toInstant(), row.getBoolean("window_missed")),
                args.toArray());
        if (found.isEmpty()) {
            refuseUnknown(f);
        }
        return found;
    }

    /**
     * Nothing found: a source Herald does not ship and has not recorded, or a type neither in the catalog nor recorded (a
     * typo, or Stripe's name for the billing source), is refused with the names it knows, rather than answered with an
     * empty list that reads "no failures". Asked only when nothing matched, through the (source, type) index: sources are
     * few, so the recorded ones are read by a skip over it, and a type is looked up under each.
     */
    private void refuseUnknown(Map<String, String> f) {
        String source = f.get("source");
        String type = f.get("type");
        if (source == null && type == null) {
            return;
        }
        Set<String> catalogTypes = catalog.entries().stream().map(NotificationCatalog.Entry::type).collect(Collectors.toSet());
        TreeSet<String> sources = new TreeSet<>(jdbc.queryForList("""
                WITH RECURSIVE s(source) AS (
                    (SELECT source FROM notification_all ORDER BY source LIMIT 1)
                    UNION ALL
                    SELECT (SELECT n.source FROM notification_all n WHERE n.source > s.source ORDER BY n.source LIMIT 1) FROM s
                    WHERE s.source IS NOT NULL)
                SELECT source FROM s WHERE source IS NOT NULL
                UNION SELECT source FROM unrouted_event WHERE source = ?""", String.class, source));
        sources.addAll(BUILT_IN_SOURCES);
        if (source != null && !sources.contains(source)) {
            throw new ActionRefused.InvalidInput("unknown source '" + StoredText.label(source, 40) + "': no event from it is recorded"
                    + "; the sources are " + String.join(", ", sources)
                    + " (Herald's names for them, not the senders': Stripe's events are billing, Zendesk's support)");
        }
        if (type != null && !catalogTypes.contains(type) && !Boolean.TRUE.equals(jdbc.queryForObject(
                "SELECT EXISTS (SELECT 1 FROM notification_all WHERE source = ANY(?) AND type = ?)", Boolean.class,
                sources.toArray(String[]::new), type))) {
            throw new ActionRefused.InvalidInput("unknown type '" + StoredText.label(type, 80) + "': not in the notification catalog"
                    + " (" + catalog.named() + ") and no notification of it is recorded; types are written as there, such as "
                    + catalogTypes.stream().sorted().findFirst().orElse("billing.payment_failed"));
        }
    }

    /**
     * Each branch takes only its newest rows before the branches are merged: PostgreSQL then reads a branch in index order
     * (delivery_open_failures, delivery_dismissed, delivery_window_missed: newest first) and stops, instead of joining every
     * open failure of the year with its notification to sort them all (issue 16 point 5, IndexesTest).
     */
    private static String newest(String branch, List<Object> args, int rows) {
        args.add(rows);
        return "(" + branch + " ORDER BY at DESC, id DESC LIMIT ?)";
    }

    private static String deliveries(Map<String, String> f, String state, Timestamp from, Timestamp to, List<Object> args) {
        StringBuilder sql = new StringBuilder("""
                SELECT 'delivery' AS kind, d.id, d.notification_id, n.source, n.type, d.channel, n.customer_id,
                       n.canonical -> 'refs' ->> 'orderId' AS order_id, n.canonical -> 'refs' ->> 'ticketId' AS ticket_id,
                       d.state, d.reason, d.updated_at AS at, d.window_missed_at IS NOT NULL AS window_missed
                FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id WHERE\s""");
        if (state.equals("WINDOW_MISSED")) {
            sql.append("d.window_missed_at IS NOT NULL");
        } else if (state.equals("SKIPPED_EVERYWHERE")) {
            sql.append("d.state = 'SKIPPED' AND n.canonical ->> 'priority' = 'high' AND NOT EXISTS (SELECT 1 FROM delivery_all o"
                    + " WHERE o.notification_id = n.id AND o.state <> 'SKIPPED' AND o.channel <> 'ops_webhook')");
        } else {
            List<String> states = switch (state) {
                case "" -> OPEN_DELIVERY_STATES;
                case "RETRYABLE" -> List.of("FAILED", "PARKED");
                default -> List.of(state);
            };
            sql.append("d.state IN (").append(states.stream().map(s -> "?").collect(Collectors.joining(", "))).append(")");
            args.addAll(states);
        }
        equal(sql, args, "n.source", f.get("source"));
        equal(sql, args, "n.type", f.get("type"));
        equal(sql, args, "d.channel", f.get("channel"));
        equal(sql, args, "n.customer_id", f.get("customerId"));
        equal(sql, args, "n.canonical -> 'refs' ->> 'orderId'", f.get("orderId"));
        equal(sql, args, "n.canonical -> 'refs' ->> 'ticketId'", f.get("ticketId"));
        range(sql, args, "d.updated_at", from, to);
        return sql.toString();
    }

    private static String quarantined(Map<String, String> f, String state, Timestamp from, Timestamp to, List<Object> args) {
        StringBuilder sql = new StringBuilder("""
                SELECT 'quarantine' AS kind, u.id, NULL::BIGINT AS notification_id, u.source, NULL AS type, NULL AS channel,
                       NULL AS customer_id, NULL AS order_id, NULL AS ticket_id,
                       CASE WHEN u.status = 'DISMISSED' THEN 'DISMISSED' ELSE 'QUARANTINED' END AS state,
                       'quarantined at ' || u.step || ': ' || u.reason AS reason, u.updated_at AS at, false AS window_missed
                FROM unrouted_event u WHERE u.outcome = 'QUARANTINED' AND u.status = ?""");
        args.add(state.equals("DISMISSED") ? "DISMISSED" : "OPEN");
        equal(sql, args, "u.source", f.get("source"));
        for (String key : List.of("customerId", "orderId", "ticketId")) {
            if (f.containsKey(key)) {
                sql.append(" AND strpos(u.raw_payload, ?) > 0");
                args.add(f.get(key));
            }
        }
        range(sql, args, "u.updated_at", from, to);
        return sql.toString();
    }

    /** Messages that could not be processed at all (state=DEAD_LETTER only): the stage stands in for the source. */
    private static String deadLetters(Map<String, String> f, Timestamp from, Timestamp to, List<Object> args) {
        StringBuilder sql = new StringBuilder("""
                SELECT 'dead_letter' AS kind, l.id, NULL::BIGINT AS notification_id, l.stage AS source, NULL AS type, NULL AS channel,
                       NULL AS customer_id, NULL AS order_id, NULL AS ticket_id, 'DEAD_LETTER' AS state,
                       'dead letter at ' || l.stage || ': ' || l.reason AS reason, l.created_at AS at, false AS window_missed
                FROM dead_letter l WHERE true""");
        for (String key : List.of("customerId", "orderId", "ticketId")) {
            if (f.containsKey(key)) {
                sql.append(" AND strpos(l.payload, ?) > 0");
                args.add(f.get(key));
            }
        }
        range(sql, args, "l.created_at", from, to);
        return sql.toString();
    }

    private static void equal(StringBuilder sql, List<Object> args, String column, String value) {
        if (value != null) {
            sql.append(" AND ").append(column).append(" = ?");
            args.add(value);
        }
    }

    private static void range(StringBuilder sql, List<Object> args, String column, Timestamp from, Timestamp to) {
        if (from != null) {
            sql.append(" AND ").append(column).append(" >= ?");
            args.add(from);
        }
        if (to != null) {
            sql.append(" AND ").append(column).append(" < ?");
            args.add(to);
        }
    }

    /** 2026-11-22, 2026-11-22T10:30 (a browser's datetime-local) or 2026-11-22T10:30:00Z, all UTC. */
    static Timestamp time(String text, String name) {
        Instant at = instant(text, name);
        return at == null ? null : Timestamp.from(at);
    }

    /** A filter's time as the API takes it ({@link #time}); null when not given; refused in words when it cannot be read. */
    public static Instant instant(String text, String name) {
        if (text == null || text.isBlank()) {
            return null;
        }
        text = text.strip();
        Instant at;
        try {
            if (text.length() == 10) {
                at = LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
            } else if (text.endsWith("Z") || text.endsWith("z")) {
                at = Instant.parse(text.toUpperCase(java.util.Locale.ROOT));
            } else if (text.matches(".*T.*[+-]\\d{2}:?\\d{2}$")) {
                at = java.time.OffsetDateTime.parse(text).toInstant();   // 2026-11-22T10:30:00+01:00
            } else {
                at = LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
            }
        } catch (RuntimeException e) {
            throw new ActionRefused.InvalidInput(name + " must be a date (2026-11-22) or a UTC time (2026-11-22T10:30); was '"
                    + StoredText.label(text, 40) + "'");
        }
        return searchable(at, name);
    }

    /**
     * A filter's "to", before which what it finds happened: a date means up to the end of that day (to=2026-12-06 finds the
     * whole of the 6th, as an operator reading "from the 6th to the 6th" means); a time is that moment ({@link #instant}).
     */
    public static Instant until(String text, String name) {
        Instant at = instant(text, name);
        // The day after 9999-12-31 is beyond what a filter takes as input, not beyond what PostgreSQL compares.
        return at != null && text.strip().length() == 10 ? at.plus(java.time.Duration.ofDays(1)) : at;
    }

    /** A time a filter can search for: years 1 to 9999 (Java reads +300000-01-01, which PostgreSQL cannot compare with). */
    public static Instant searchable(Instant at, String name) {
        if (at != null && (at.isBefore(FIRST) || !at.isBefore(AFTER_LAST))) {
            throw new ActionRefused.InvalidInput(name + " must be a time between the years 1 and 9999; was " + at);
        }
        return at;
    }

}
