package io.herald.ops;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.config.AlertSettings;
import org.apache.camel.Exchange;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Failure alerts for the ops webhook (routes/failure-alerts.camel.yaml). Each poll, inside one
 * database transaction that only one Herald instance can hold at a time (a transaction-scoped
 * advisory lock), it reads the failures not yet alerted (deliveries FAILED or UNCERTAIN or past
 * their send window, quarantined events, dead letters), groups them ({@link FailureGroups}) and
 * writes ONE message: kinds of failure not announced within herald.alerts.repeat-after are
 * announced; the others are only counted, and summarised in a reminder once the period has passed.
 * The rows are marked alerted only after the webhook accepted the message, in the same
 * transaction: if the post fails, nothing is marked and the next poll tries again with them.
 * Rows are read without row locks, so a slow webhook never holds up a delivery; a delivery that changed
 * while the post was on its way (retried by an operator and failed again) is therefore not marked: the
 * message did not describe what it is now, and the next poll announces it. The post has its own
 * connect and response timeouts (herald.alerts.*-timeout-ms), so a hanging webhook delays one poll
 * (and is tried again at the next) instead of holding the alerting transaction for ever.
 */
@Component
public class FailureAlerts {

    /** Exchange property: what to record once the message is posted (or when there is nothing to post). */
    static final String PLAN = "heraldAlertPlan";
    /** Advisory lock id: one alerting instance at a time. */
    private static final long LOCK = 0x4845_5241_4c44_4131L;
    /** Rows per table per poll: a huge backlog is worked off over several polls, in one bounded transaction each. */
    private static final int BATCH = 2000;

    private static final Logger log = LoggerFactory.getLogger(FailureAlerts.class);
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    /**
     * What the poll decided, applied by {@link #record} in the same transaction. deliveries: each delivery alerted for
     * failing (or being held late) with its updated_at as read, so a row that changed since is not marked.
     */
    record Plan(Map<Long, Instant> deliveries, List<Long> windows, List<Long> unrouted, List<Long> deadLetters, List<Long> resends,
                List<Long> refusals, List<FailureGroup> announced,
                List<FailureGroup> counted, List<String> reminded, Instant now) {
    }

    /** A group as alert_group remembers it. */
    private record Known(String key, String summary, String unit, String link, Instant lastAlertedAt, int unannounced,
                         Instant unannouncedSince) {
    }

    private final JdbcTemplate jdbc;
    private final FailureGroups groups;
    private final ConsoleLinks links;
    private final HeraldMetrics metrics;
    private final ObjectMapper json;
    private final Duration repeatAfter;

    public FailureAlerts(JdbcTemplate jdbc, FailureGroups groups, ConsoleLinks links, HeraldMetrics metrics, ObjectMapper json,
                         AlertSettings alerts) {
        this.jdbc = jdbc;
        this.groups = groups;
        this.links = links;
        this.metrics = metrics;
        this.json = json;
        this.repeatAfter = alerts.repeatAfter();
    }

    /**
     * Reads and groups the new failures; the body becomes the webhook post ({"text": ...}) when
     * there is something to say, null otherwise. Must run inside the route's transaction.
     */
    public void compose(Exchange exchange) throws JsonProcessingException {
        exchange.getMessage().removeHeaders("*");   // only the headers below reach the webhook
        exchange.getMessage().setBody(null);
        exchange.removeProperty(PLAN);
        if (!Boolean.TRUE.equals(jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK))) {
            return;   // another instance is alerting right now; the rows wait for the next poll
        }
        Instant now = Instant.now();
        List<FailureRow> rows = new ArrayList<>();
        Map<Long, Instant> deliveriesAsRead = new LinkedHashMap<>();
        rows.addAll(deliveries(deliveriesAsRead));
        rows.addAll(quarantined());
        rows.addAll(deadLetters());
        rows.addAll(expiredResends());
        rows.addAll(refusedOwnRequests());
        Map<String, FailureGroup> found = groups.group(rows);
        Map<String, Known> known = known(found.keySet());
        Instant quietSince = now.minus(repeatAfter);

        List<FailureGroup> announced = new ArrayList<>();
        List<FailureGroup> counted = new ArrayList<>();
        List<AlertMessage.Reminder> reminders = new ArrayList<>();
        List<String> reminded = new ArrayList<>();
        for (FailureGroup group : found.values()) {
            Known before = known.get(group.key());
            if (before != null && before.lastAlertedAt().isAfter(quietSince)) {
                counted.add(group);   // announced recently: counted for the next reminder, not repeated now
            } else if (before != null && before.unannounced() > 0) {
                reminders.add(new AlertMessage.Reminder(group.summary(), group.unit(), before.unannounced() + group.count(),
                        before.unannouncedSince(), group.overviewLink()));   // still failing, and the quiet period is over
                reminded.add(group.key());
            } else {
                announced.add(group);
            }
        }
        for (Known due : dueReminders(quietSince, found.keySet())) {
            reminders.add(new AlertMessage.Reminder(due.summary(), due.unit(), due.unannounced(), due.unannouncedSince(), due.link()));
            reminded.add(due.key());
        }
        exchange.setProperty(PLAN, new Plan(asRead(ids(rows, "delivery"), deliveriesAsRead), windows(rows), ids(rows, "unrouted_event"),
                ids(rows, "dead_letter"), ids(rows, "delivery_resend"), ids(rows, "inbound_rejection"), announced, counted, reminded, now));
        if (announced.isEmpty() && reminders.isEmpty()) {
            return;
        }
        String text = AlertMessage.text(announced, reminders, repeatAfter, now, links.failures());
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:" + fingerprint(rows, reminded, reminders));
        exchange.getMessage().setBody(OpsPost.body(json, text));
    }

    /** The webhook took the message (or there was none to send): mark the rows alerted and remember the groups. */
    public void record(Exchange exchange) {
        Plan plan = exchange.getProperty(PLAN, Plan.class);
        if (plan == null) {
            return;
        }
        markDeliveries(plan.deliveries());
        markWindows(plan.windows());
        mark("unrouted_event", plan.unrouted());
        mark("dead_letter", plan.deadLetters());
        mark("delivery_resend", plan.resends());
        mark("inbound_rejection", plan.refusals());
        Timestamp now = Timestamp.from(plan.now());
        for (FailureGroup group : plan.announced()) {
            jdbc.update("""
                    INSERT INTO alert_group (group_key, summary, unit, example, link, first_alerted_at, last_alerted_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (group_key) DO UPDATE SET summary = EXCLUDED.summary, unit = EXCLUDED.unit, example = EXCLUDED.example,
                      link = EXCLUDED.link, last_alerted_at = EXCLUDED.last_alerted_at, unannounced = 0, unannounced_since = NULL""",
                    group.key(), group.summary(), group.unit(), group.example(), group.overviewLink(), now, now);
        }
        for (FailureGroup group : plan.counted()) {
            jdbc.update("UPDATE alert_group SET unannounced = unannounced + ?, unannounced_since = COALESCE(unannounced_since, ?)"
                    + " WHERE group_key = ?", group.count(), Timestamp.from(group.first()), group.key());
        }
        for (String key : plan.reminded()) {
            jdbc.update("UPDATE alert_group SET last_alerted_at = ?, unannounced = 0, unannounced_since = NULL WHERE group_key = ?",
                    now, key);
        }
    }

    /** Called after a successful post. */
    public void posted(Exchange exchange) {
        Plan plan = exchange.getProperty(PLAN, Plan.class);
        metrics.alert("posted");
        log.info("Failure alert posted to the ops webhook: {} new kind(s) of failure, {} reminder(s)",
                plan.announced().size(), plan.reminded().size());
    }

    /** The post failed (webhook down, refused...): the route rolls back, so nothing is marked and the next poll tries again. */
    public void notPosted(Exchange exchange) {
        Throwable cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        while (cause != null && cause.getCause() != null && !(cause instanceof HttpOperationFailedException)) {
            cause = cause.getCause();
        }
        String why = cause instanceof HttpOperationFailedException http ? "the webhook answered HTTP " + http.getStatusCode()
                : timedOut(exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class))
                ? "the webhook did not answer within herald.alerts.connect-timeout-ms / response-timeout-ms"
                : cause == null ? "unknown error" : cause.getClass().getSimpleName() + ": " + cause.getMessage();
        metrics.alert("failed");
        log.warn("Failure alert not posted to the ops webhook ({}); the failures stay unalerted and are tried again at the next poll",
                why);
    }

    private static boolean timedOut(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Deliveries owing an alert: failed (alerted_at), or past their send window (window_alerted_at, then a failure after it
     * is still owed), or held for being late; served by the index delivery_unalerted (V60), whose condition this is.
     */
    public static final String UNALERTED_DELIVERIES = """
            SELECT d.id, d.notification_id, d.channel, d.state, d.reason, d.updated_at, d.window_missed_at, d.sent_at, d.late_at,
                   n.type, n.occurred_at, n.window_deadline
            FROM delivery d JOIN notification n ON n.id = d.notification_id
            WHERE d.alerted_at IS NULL AND (d.state IN ('FAILED', 'UNCERTAIN', 'EXPIRED')
                                            OR (d.window_missed_at IS NOT NULL AND d.window_alerted_at IS NULL)
                                            OR (d.state = 'HELD' AND d.late_at IS NOT NULL))
            ORDER BY d.id LIMIT ?""";

    /** The deliveries owing an alert; each one's updated_at as read goes into {@code asRead}. */
    private List<FailureRow> deliveries(Map<Long, Instant> asRead) {
        return jdbc.query(UNALERTED_DELIVERIES, (row, n) -> {
            asRead.put(row.getLong("id"), row.getTimestamp("updated_at").toInstant());
            return delivery(row, n);
        }, BATCH);
    }

    private FailureRow delivery(ResultSet row, int n) throws SQLException {
        String state = row.getString("state");
        boolean failed = "FAILED".equals(state) || "UNCERTAIN".equals(state) || "EXPIRED".equals(state);   // EXPIRED: approval (issue 16)
        if (row.getTimestamp("late_at") != null && ("EXPIRED".equals(state) || "HELD".equals(state))) {
            // Stopped by its type's late policy (issue 14): dropped (LATE_DROPPED) or held for an operator (LATE_HELD).
            return new FailureRow("delivery", row.getLong("id"), "EXPIRED".equals(state) ? "LATE_DROPPED" : "LATE_HELD",
                    row.getString("channel"), row.getString("type"), row.getLong("notification_id"), row.getString("reason"),
                    row.getTimestamp("late_at").toInstant(), null, false);
        }
        Timestamp occurred = row.getTimestamp("occurred_at");
        Timestamp deadline = row.getTimestamp("window_deadline");
        Duration window = occurred == null || deadline == null ? null : Duration.between(occurred.toInstant(), deadline.toInstant());
        Timestamp at = failed ? row.getTimestamp("updated_at") : row.getTimestamp("window_missed_at");
        String reason = failed ? row.getString("reason") : windowReason(row, deadline);
        return new FailureRow("delivery", row.getLong("id"), failed ? state : "WINDOW", row.getString("channel"), row.getString("type"),
                row.getLong("notification_id"), reason, at.toInstant(), window, row.getTimestamp("sent_at") != null);
    }

    private static String windowReason(ResultSet row, Timestamp deadline) throws SQLException {
        Timestamp sent = row.getTimestamp("sent_at");
        String due = deadline == null ? "its deadline" : "its deadline " + WHEN.format(deadline.toInstant()) + " UTC";
        String reason = row.getString("reason");
        return row.getString("channel") + (sent != null ? " sent at " + WHEN.format(sent.toInstant()) + " UTC, after " + due
                : " still " + row.getString("state") + " at " + due + (reason == null ? "" : ": " + reason));
    }

    private List<FailureRow> quarantined() {
        return jdbc.query("""
                SELECT id, source, step, reason, created_at FROM unrouted_event
                WHERE alerted_at IS NULL AND outcome = 'QUARANTINED' ORDER BY id LIMIT ?""",
                (row, n) -> new FailureRow("unrouted_event", row.getLong("id"), "QUARANTINED", row.getString("source"),
                        row.getString("step"), null, row.getString("reason"), row.getTimestamp("created_at").toInstant(), null, false),
                BATCH);
    }

    /** Operators' resends held for approval that nobody approved or rejected in time (ResendApprovals.expireDue). */
    private List<FailureRow> expiredResends() {
        return jdbc.query("""
                SELECT r.id, r.reason, r.updated_at, d.channel, d.notification_id, n.type
                FROM delivery_resend r JOIN delivery d ON d.id = r.delivery_id JOIN notification n ON n.id = d.notification_id
                WHERE r.outcome = 'EXPIRED' AND r.alerted_at IS NULL ORDER BY r.id LIMIT ?""",
                (row, n) -> new FailureRow("delivery_resend", row.getLong("id"), "RESEND_EXPIRED", row.getString("channel"),
                        row.getString("type"), row.getLong("notification_id"), row.getString("reason"),
                        row.getTimestamp("updated_at").toInstant(), null, false),
                BATCH);
    }

    /**
     * A sender's own request (its valid credential: Alertmanager's bearer token) whose body was refused as malformed (400),
     * too large (413) or of the wrong type (415): the sender does not send it again, so what it said is lost unless the team
     * hears of it. Refusals without the credential are never alerted (anyone can send them).
     */
    private List<FailureRow> refusedOwnRequests() {
        return jdbc.query("""
                SELECT id, source, http_status, reason, received_at FROM inbound_rejection
                WHERE authenticated AND alerted_at IS NULL AND http_status IN (400, 413, 415) ORDER BY id LIMIT ?""",
                (row, n) -> new FailureRow("inbound_rejection", row.getLong("id"), "REFUSED", row.getString("source"),
                        String.valueOf(row.getInt("http_status")), null, row.getString("reason"),
                        row.getTimestamp("received_at").toInstant(), null, false),
                BATCH);
    }

    private List<FailureRow> deadLetters() {
        return jdbc.query("SELECT id, stage, reason, created_at FROM dead_letter WHERE alerted_at IS NULL ORDER BY id LIMIT ?",
                (row, n) -> new FailureRow("dead_letter", row.getLong("id"), "DEAD_LETTER", row.getString("stage"), null, null,
                        row.getString("reason"), row.getTimestamp("created_at").toInstant(), null, false),
                BATCH);
    }

    private Map<String, Known> known(Set<String> keys) {
        if (keys.isEmpty()) {
            return Map.of();
        }
        return jdbc.query("SELECT * FROM alert_group WHERE group_key = ANY(?)",
                ps -> ps.setArray(1, ps.getConnection().createArrayOf("varchar", keys.toArray())),
                (row, n) -> known(row)).stream().collect(Collectors.toMap(Known::key, Function.identity()));
    }

    /** Groups announced before the quiet period, with failures counted since: their reminder is due. */
    private List<Known> dueReminders(Instant quietSince, Set<String> handled) {
        return jdbc.query("SELECT * FROM alert_group WHERE unannounced > 0 AND last_alerted_at <= ? ORDER BY last_alerted_at LIMIT 100",
                (row, n) -> known(row), Timestamp.from(quietSince)).stream().filter(k -> !handled.contains(k.key())).toList();
    }

    private static Known known(ResultSet row) throws SQLException {
        Timestamp since = row.getTimestamp("unannounced_since");
        return new Known(row.getString("group_key"), row.getString("summary"), row.getString("unit"), row.getString("link"),
                row.getTimestamp("last_alerted_at").toInstant(), row.getInt("unannounced"), since == null ? null : since.toInstant());
    }

    private void mark(String table, List<Long> ids) {
        if (!ids.isEmpty()) {
            jdbc.update("UPDATE " + table + " SET alerted_at = now() WHERE id = ANY(?)",
                    ps -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", ids.toArray())));
        }
    }

    /**
     * Deliveries alerted for failing (or held late): marked only if unchanged since they were read (same updated_at). Reads take
     * no row locks, so during the post an operator may have retried one and it may have failed again, for another reason: that
     * failure was not in the message, stays unalerted, and is announced at the next poll.
     */
    private void markDeliveries(Map<Long, Instant> asRead) {
        if (!asRead.isEmpty()) {
            jdbc.update("""
                    UPDATE delivery d SET alerted_at = now()
                    FROM unnest(?, ?) AS r(id, updated_at)
                    WHERE d.id = r.id AND d.updated_at = r.updated_at""",
                    ps -> {
                        ps.setArray(1, ps.getConnection().createArrayOf("bigint", asRead.keySet().toArray()));
                        ps.setArray(2, ps.getConnection().createArrayOf("timestamptz",
                                asRead.values().stream().map(Instant::toString).toArray()));
                    });
        }
    }

    /** A missed send window alerted: its delivery still owes the alert of a failure that may follow. */
    private void markWindows(List<Long> ids) {
        if (!ids.isEmpty()) {
            jdbc.update("UPDATE delivery SET window_alerted_at = now() WHERE id = ANY(?)",
                    ps -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", ids.toArray())));
        }
    }

    private static List<Long> ids(List<FailureRow> rows, String table) {
        return rows.stream().filter(r -> r.table().equals(table) && !isWindow(r)).map(FailureRow::id).toList();
    }

    private static Map<Long, Instant> asRead(List<Long> ids, Map<Long, Instant> updatedAt) {
        Map<Long, Instant> chosen = new LinkedHashMap<>();
        ids.forEach(id -> chosen.put(id, updatedAt.get(id)));
        return chosen;
    }

    private static List<Long> windows(List<FailureRow> rows) {
        return rows.stream().filter(FailureAlerts::isWindow).map(FailureRow::id).toList();
    }

    private static boolean isWindow(FailureRow row) {
        return row.table().equals("delivery") && row.kind().equals("WINDOW");
    }

    /**
     * The same rows (each with what it is alerted for, since when) and reminders give the same key, so a post repeated after a
     * failed commit is recognisable as the same alert; a delivery alerted for its missed window, then for failing, is two posts,
     * and a later reminder of the same group (more failures since another time) is another post, with another key.
     */
    static String fingerprint(List<FailureRow> rows, List<String> reminded, List<AlertMessage.Reminder> reminders) {
        String content = rows.stream().map(r -> r.table() + ":" + r.id() + ":" + r.kind() + "@" + r.at()).collect(Collectors.joining(","))
                + "|" + String.join(",", reminded)
                + "|" + reminders.stream().map(r -> r.count() + "@" + r.since()).collect(Collectors.joining(","));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
