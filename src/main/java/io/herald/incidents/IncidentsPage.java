package io.herald.incidents;

import java.security.Principal;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

import io.herald.console.AuditTrail;
import io.herald.console.ConsoleUser;
import io.herald.console.ViewerMasking;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The console's incidents page: every alert group Alertmanager reported, newest first, with what was last
 * announced on the ops webhook, how many posts were made and how many repeats were not posted, and the audit
 * trail of the posts. Alert text is the ops team's own, but it is masked for viewers like every free text.
 */
@Controller
public class IncidentsPage {

    static final int PAGE_SIZE = 200;

    public record Incident(long id, String title, String status, int alertCount, String summary, String link, String groupKey,
                           String receiver, Instant firedAt, Instant resolvedAt, int posts, int repeats, Instant updatedAt,
                           List<AuditTrail.Action> actions) {
    }

    private final JdbcTemplate jdbc;
    private final AuditTrail audit;
    private final ViewerMasking masking;

    public IncidentsPage(JdbcTemplate jdbc, AuditTrail audit, ViewerMasking masking) {
        this.jdbc = jdbc;
        this.audit = audit;
        this.masking = masking;
    }

    @GetMapping("/console/incidents")
    public String incidents(Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        List<Incident> incidents = jdbc.query("SELECT * FROM incident ORDER BY updated_at DESC, id DESC LIMIT ?",
                (row, i) -> incident(row, user.masked()), PAGE_SIZE);
        model.addAttribute("user", user);
        model.addAttribute("incidents", incidents);
        model.addAttribute("pageSize", PAGE_SIZE);
        return "incidents";
    }

    private Incident incident(ResultSet row, boolean masked) throws SQLException {
        long id = row.getLong("id");
        List<AuditTrail.Action> actions = audit.forTarget("incident", id).stream()
                .map(a -> a.withTexts(text(a.comment(), masked), text(a.outcome(), masked)))
                .toList();
        return new Incident(id, text(row.getString("title"), masked), row.getString("status"), row.getInt("alert_count"),
                text(row.getString("summary"), masked), webLink(row.getString("link")), text(row.getString("group_key"), masked),
                row.getString("receiver"), instant(row, "fired_at"), instant(row, "resolved_at"), row.getInt("posts"),
                row.getInt("repeats"), instant(row, "updated_at"), actions);
    }

    private String text(String text, boolean masked) {
        return masked ? masking.text(text) : text;
    }

    private static Instant instant(ResultSet row, String column) throws SQLException {
        java.sql.Timestamp at = row.getTimestamp(column);
        return at == null ? null : at.toInstant();
    }

    /** Alertmanager's link as sent: shown only when it is a web address (http or https), never as a script or data link. */
    static String webLink(String link) {
        if (link == null) {
            return null;
        }
        String lower = link.strip().toLowerCase(java.util.Locale.ROOT);
        return lower.startsWith("https://") || lower.startsWith("http://") ? link.strip() : null;
    }
}
