package io.herald.console;

import java.security.Principal;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import io.herald.ingest.InboundRejections;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

/**
 * Webhook requests refused at the door (inbound_rejection): counts per source and kind of refusal over the
 * last 24 hours and 7 days (a broken secret shows as a column of "signature" refusals), then the latest
 * refused requests, filtered by source and kind. Reasons are Herald's own words, masked for viewers, and so is where a request
 * came from (its network only).
 */
@Controller
public class RejectedRequestsPage {

    static final int PAGE_SIZE = 200;

    /** One row of the summary: a source and kind of refusal, how many in the last day and week, the latest. */
    public record Count(String source, String kind, long lastDay, long lastWeek, Instant latest) {
    }

    /** One refused request. */
    public record Rejected(long id, Instant at, String source, int status, String kind, String reason, String remoteAddress,
                           String contentType, long bodyBytes) {
    }

    private final JdbcTemplate jdbc;
    private final ViewerMasking masking;

    public RejectedRequestsPage(JdbcTemplate jdbc, ViewerMasking masking) {
        this.jdbc = jdbc;
        this.masking = masking;
    }

    @GetMapping("/console/rejected")
    public String rejected(@RequestParam(required = false) String source, @RequestParam(required = false) String kind,
                           Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        String kindSql = InboundRejections.reasonLabelSql();
        Instant now = Instant.now();
        List<Count> counts = jdbc.query("SELECT source, " + kindSql + " AS kind,"
                        + " count(*) FILTER (WHERE received_at > ?) AS last_day, count(*) AS last_week, max(received_at) AS latest"
                        + " FROM inbound_rejection WHERE received_at > ? GROUP BY 1, 2 ORDER BY 1, 2",
                (row, i) -> new Count(row.getString("source"), row.getString("kind"), row.getLong("last_day"), row.getLong("last_week"),
                        row.getTimestamp("latest").toInstant()),
                Timestamp.from(now.minus(1, ChronoUnit.DAYS)), Timestamp.from(now.minus(7, ChronoUnit.DAYS)));
        StringBuilder where = new StringBuilder(" WHERE true");
        List<Object> args = new ArrayList<>();
        if (source != null && !source.isBlank()) {
            where.append(" AND source = ?");
            args.add(source.trim());
        }
        if (kind != null && !kind.isBlank()) {
            where.append(" AND ").append(kindSql).append(" = ?");
            args.add(kind.trim());
        }
        args.add(PAGE_SIZE);
        List<Rejected> latest = jdbc.query("SELECT id, received_at, source, http_status, " + kindSql + " AS kind, reason, remote_addr,"
                        + " content_type, body_bytes FROM inbound_rejection" + where + " ORDER BY id DESC LIMIT ?",
                (row, i) -> new Rejected(row.getLong("id"), row.getTimestamp("received_at").toInstant(), row.getString("source"),
                        row.getInt("http_status"), row.getString("kind"),
                        user.masked() ? masking.text(row.getString("reason")) : row.getString("reason"),
                        user.masked() ? masking.networkAddress(row.getString("remote_addr")) : row.getString("remote_addr"),
                        row.getString("content_type"), row.getLong("body_bytes")),
                args.toArray());
        model.addAttribute("user", user);
        model.addAttribute("counts", counts);
        model.addAttribute("rejected", latest);
        model.addAttribute("source", source);
        model.addAttribute("kind", kind);
        model.addAttribute("kinds", List.of("signature", "malformed", "unknown_path", "method", "too_large", "content_type", "failed", "not_queued"));
        model.addAttribute("pageSize", PAGE_SIZE);
        return "rejected";
    }

}
