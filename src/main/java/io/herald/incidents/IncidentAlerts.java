package io.herald.incidents;

import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.console.AuditTrail;
import io.herald.ingest.InboundRejected;
import io.herald.logging.Masking;
import io.herald.ops.OpsPost;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Turns Alertmanager notifications into posts on the ops webhook (routes/incidents-webhook.camel.yaml): one post
 * when a group starts firing (or fires with other alerts than announced), one when it is resolved, nothing for a
 * repeat (nor for a late copy of the firing it resolved: the same alerts with the same starts). Which notification
 * posts is decided by one conditional upsert of the group's incident row, inside the route's transaction that also
 * holds the post: the instance whose statement changed the row posts, a concurrent one waits for the row and then
 * finds nothing new. A post the webhook did not take rolls the row back and the notification is answered 503, so
 * Alertmanager sends it again.
 */
@Component
public class IncidentAlerts {

    static final String NOTICE = "heraldIncident";
    static final String OUTCOME = "heraldIncidentOutcome";
    static final String RAW_BODY = "heraldIncidentBody";
    private static final Logger log = LoggerFactory.getLogger(IncidentAlerts.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
    private static final int MAX_LISTED = 10;

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final AuditTrail audit;
    private final String console;
    private final IncidentNotices notices;

    public IncidentAlerts(JdbcTemplate jdbc, ObjectMapper json, AuditTrail audit, IncidentNotices notices,
                          @Value("${herald.console.base-url:http://localhost:8080}") String consoleBaseUrl) {
        this.notices = notices;
        this.jdbc = jdbc;
        this.json = json;
        this.audit = audit;
        this.console = consoleBaseUrl.endsWith("/") ? consoleBaseUrl.substring(0, consoleBaseUrl.length() - 1) : consoleBaseUrl;
    }

    /** Reads the checked JSON body as an Alertmanager notification (400 naming the field otherwise). */
    public void read(Exchange exchange) throws IOException {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        exchange.setProperty(RAW_BODY, body);
        exchange.setProperty(NOTICE, AlertmanagerNotice.of(json.readTree(body)));
    }

    /**
     * Records the group's new state when it announces something new, and makes the body the ops post
     * ({"text": ...}); a repeat is counted and leaves the body null. Runs inside the route's transaction.
     */
    public void claim(Exchange exchange) throws IOException {
        AlertmanagerNotice notice = exchange.getProperty(NOTICE, AlertmanagerNotice.class);
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setBody(null);
        // A firing again starts a new episode of the group, and the notices' keys tell episodes apart by the second they began
        // (IncidentNotices): one that begins in the same second as the one before (fired, resolved and fired again within a
        // second) is dated to the next second, or its customers' notices took the earlier episode's keys and were never made.
        List<Map<String, Object>> changed = jdbc.queryForList("""
                INSERT INTO incident (group_digest, group_key, receiver, status, title, summary, link, alerts_digest, alert_count,
                                      fired_at, resolved_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN now() END, CASE WHEN ? THEN NULL ELSE now() END)
                ON CONFLICT (group_digest) DO UPDATE SET
                       status = EXCLUDED.status, title = EXCLUDED.title, summary = EXCLUDED.summary, link = EXCLUDED.link,
                       alerts_digest = EXCLUDED.alerts_digest, alert_count = EXCLUDED.alert_count, receiver = EXCLUDED.receiver,
                       fired_at = CASE WHEN EXCLUDED.status = 'firing' AND incident.status = 'resolved'
                                       THEN greatest(now(), date_trunc('second', incident.fired_at) + interval '1 second')
                                       ELSE coalesce(incident.fired_at, EXCLUDED.fired_at) END,
                       resolved_at = EXCLUDED.resolved_at, posts = incident.posts + 1, updated_at = now()
                WHERE (incident.status <> EXCLUDED.status
                       OR (EXCLUDED.status = 'firing' AND incident.alerts_digest <> EXCLUDED.alerts_digest))
                  AND NOT (? AND incident.status = 'resolved' AND EXCLUDED.status = 'firing'
                           AND incident.alerts_digest = EXCLUDED.alerts_digest AND incident.resolved_at > now() - interval '1 minute')
                RETURNING id, fired_at, posts""",
                notice.groupDigest(), notice.groupKey(), notice.receiver(), notice.status(), notice.title(), notice.summary(),
                notice.externalUrl(), notice.alertsDigest(), notice.announced().size(), notice.firing(), notice.firing(),
                // The very alerts (same starts) that were announced resolved less than a minute ago, "firing": a late copy from
                // another replica of an Alertmanager cluster (prometheus/alertmanager#2447, #4008; it lags by its position times
                // peer_timeout, 15 s), not a new incident. A new firing has new starts; later, the same starts firing (Alertmanager
                // resolved them by resolve_timeout while Prometheus could not reach it) are posted as firing again.
                notice.startsKnown());
        if (changed.isEmpty()) {
            jdbc.update("UPDATE incident SET repeats = repeats + 1, updated_at = now() WHERE group_digest = ?", notice.groupDigest());
            exchange.setProperty(OUTCOME, "repeat");
            return;
        }
        long id = ((Number) changed.get(0).get("id")).longValue();
        int posts = ((Number) changed.get(0).get("posts")).intValue();
        Timestamp firedAt = (Timestamp) changed.get(0).get("fired_at");
        // Audited in the same transaction: a post the webhook refuses leaves no audit row either.
        audit.record(Instant.now(), "alertmanager" + (notice.receiver() == null ? "" : " (" + notice.receiver() + ")"),
                notice.firing() ? "INCIDENT_FIRING" : "INCIDENT_RESOLVED", "incident", id, null, notice.title(),
                "posted to the ops webhook: " + notice.announced().size() + (notice.firing() ? " alert(s) firing" : " alert(s) resolved"));
        exchange.setProperty(OUTCOME, "posted");
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json; charset=UTF-8");
        exchange.getMessage().setHeader("Idempotency-Key", "herald-alert:incident:" + id + ":" + notice.status() + ":" + posts);
        exchange.getMessage().setBody(OpsPost.body(json,
                text(notice, firedAt == null ? null : firedAt.toInstant())));
    }

    /** The ops post: what fires (or is resolved), how many alerts, each one's summary and description, and links. */
    String text(AlertmanagerNotice notice, Instant firedAt) {
        List<AlertmanagerNotice.Alert> alerts = notice.announced();
        // An alert of a group that still fires has ended: said, or its resolution is never posted (the group's "resolved" post
        // comes only once all have ended).
        List<AlertmanagerNotice.Alert> resolved = notice.resolvedWhileFiring();
        // Alertmanager sends at most max_alerts of a group and counts the rest in truncatedAlerts, firing or resolved alike
        // (it cuts the list before it says the group's status): counted as not listed, never as firing.
        int truncated = notice.truncatedAlerts();
        String notListed = truncated == 0 ? "" : ", " + truncated + " more not listed";
        StringBuilder text = new StringBuilder();
        if (notice.firing()) {
            text.append(":rotating_light: Incident firing: ").append(notice.title()).append(" (")
                    .append(alerts.size()).append(alerts.size() == 1 ? " alert firing" : " alerts firing")
                    .append(resolved.isEmpty() ? "" : ", " + resolved.size() + " resolved").append(notListed).append(')');
        } else {
            text.append(":white_check_mark: Incident resolved: ").append(notice.title()).append(" (")
                    .append(alerts.size()).append(alerts.size() == 1 ? " alert resolved" : " alerts resolved").append(notListed)
                    .append(firedAt == null ? "" : "; firing since " + TIME.format(firedAt) + " UTC").append(')');
        }
        if (notice.summary() != null) {
            text.append('\n').append(notice.summary());
        }
        text.append('\n');
        alerts.stream().limit(MAX_LISTED).forEach(alert -> {
            text.append("\n• ").append(alert.name()).append(alert.where() == null ? "" : " on " + alert.where());
            if (alert.summary() != null) {
                text.append(": ").append(alert.summary());
            }
            if (alert.description() != null) {
                text.append("\n   ").append(alert.description().replace("\n", "\n   "));
            }
            if (alert.link() != null) {
                text.append("\n   Source: ").append(alert.link());
            }
        });
        int more = Math.max(0, alerts.size() - MAX_LISTED);
        if (more > 0) {
            text.append("\n\n…and ").append(more).append(more == 1 ? " more alert" : " more alerts").append(" (see Alertmanager)");
        }
        if (truncated > 0) {
            text.append("\n\n…and ").append(truncated).append(truncated == 1 ? " more alert" : " more alerts")
                    .append(" not listed: Alertmanager left ").append(truncated == 1 ? "it" : "them")
                    .append(" out of its notification (the receiver's max_alerts), so whether ").append(truncated == 1 ? "it fires" : "they fire")
                    .append(" is not known here (see Alertmanager)");
        }
        if (!resolved.isEmpty()) {
            text.append("\n\nResolved:");
            resolved.stream().limit(MAX_LISTED).forEach(alert -> text.append("\n• ").append(alert.name())
                    .append(alert.where() == null ? "" : " on " + alert.where()).append(alert.summary() == null ? "" : ": " + alert.summary()));
            if (resolved.size() > MAX_LISTED) {
                text.append("\n…and ").append(resolved.size() - MAX_LISTED).append(" more resolved");
            }
        }
        text.append("\n");
        String overCap = notices.capExceeded(notice);
        if (overCap != null) {
            text.append("\n:warning: ").append(Character.toUpperCase(overCap.charAt(0))).append(overCap.substring(1)).append(".\n");
        }
        if (notice.externalUrl() != null) {
            text.append("\nAlertmanager: ").append(notice.externalUrl());
        }
        text.append("\nConsole: ").append(console).append("/console/incidents");
        return text.toString();
    }

    /** The ops webhook took the post. */
    public void posted(Exchange exchange) {
        AlertmanagerNotice notice = exchange.getProperty(NOTICE, AlertmanagerNotice.class);
        log.info("Incident {} posted to the ops webhook: {}", notice.status(), Masking.mask(notice.title()));
    }

    /**
     * The ops webhook did not take the post: the route rolls the incident row back, and the notification is
     * answered 503 (see {@link #answer}) so that Alertmanager sends it again.
     */
    public void notPosted(Exchange exchange) {
        log.warn("Incident alert not posted to the ops webhook; Alertmanager is answered 503 and will send it again",
                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        exchange.setProperty(OUTCOME, "not-posted");
    }

    /** Answers Alertmanager: 200 when announced or a repeat; 503 (recorded) when the ops webhook did not take it. */
    public void answer(Exchange exchange) {
        String outcome = exchange.getProperty(OUTCOME, String.class);
        if (!"posted".equals(outcome) && !"repeat".equals(outcome)) {
            exchange.getMessage().setBody(exchange.getProperty(RAW_BODY));   // the refusal keeps what Alertmanager sent
            throw new InboundRejected(503, "the ops webhook (herald.ops-webhook.url) did not take the incident alert just now;"
                    + " nothing was recorded, Alertmanager will send it again");
        }
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        Map<String, String> answer = new java.util.LinkedHashMap<>();
        answer.put("status", outcome);
        if (outcome.equals("repeat")) {
            answer.put("reason", "this alert group was already announced with the same alerts; not posted again");
        }
        String notices = exchange.getProperty(IncidentNotices.SUMMARY, String.class);
        if (notices != null) {
            answer.put("customerNotices", notices);
        }
        try {
            exchange.getMessage().setBody(json.writeValueAsString(answer));
        } catch (IOException e) {
            throw new IllegalStateException("a map of texts is always JSON", e);
        }
    }
}
