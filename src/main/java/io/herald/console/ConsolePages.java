package io.herald.console;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.identity.CustomerNames;
import io.herald.ledger.UnroutedEvents;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;

/** The console's pages: failures (filtered), one notification, one quarantined event, one dead letter, the weekly review. */
@Controller
public class ConsolePages {

    static final int PAGE_SIZE = 200;

    private final FailureSearch failures;
    private final NotificationTimeline timeline;
    private final UnroutedEvents unrouted;
    private final AuditTrail audit;
    private final ViewerMasking masking;
    private final WeeklyReport report;
    private final WeeklyReportCsv csv;
    private final JdbcTemplate jdbc;
    private final ChannelStatus channels;
    private final OperatorActions actions;
    private final CustomerNames customerNames;
    private final io.herald.ingest.MappingReloads mappingReloads;

    public ConsolePages(FailureSearch failures, NotificationTimeline timeline, UnroutedEvents unrouted, AuditTrail audit,
                        ViewerMasking masking, WeeklyReport report, WeeklyReportCsv csv, JdbcTemplate jdbc, ChannelStatus channels,
                        OperatorActions actions, CustomerNames customerNames, io.herald.ingest.MappingReloads mappingReloads) {
        this.mappingReloads = mappingReloads;
        this.actions = actions;
        this.customerNames = customerNames;
        this.jdbc = jdbc;
        this.channels = channels;
        this.failures = failures;
        this.timeline = timeline;
        this.unrouted = unrouted;
        this.audit = audit;
        this.masking = masking;
        this.report = report;
        this.csv = csv;
    }

    @GetMapping("/")
    public String home() {
        return "redirect:/console";
    }

    @GetMapping({"/console", "/console/failures"})
    public String failures(FailureSearch.Filter filter, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        List<FailureSearch.Failure> rows = failures.find(filter, PAGE_SIZE);
        Map<String, List<String>> names = user.masked() ? customerNames(rows) : Map.of();
        List<FailureSearch.Failure> found = rows.stream()
                .map(f -> user.masked() ? maskedFailure(f, names.getOrDefault(f.customerId(), List.of())) : f).toList();
        model.addAttribute("user", user);
        model.addAttribute("filter", filter);
        model.addAttribute("failures", found);
        int retryable = user.canAct() ? actions.bulkRetryWouldTake(filter) : 0;
        model.addAttribute("retryable", Math.min(retryable, OperatorActions.BULK_LIMIT));
        model.addAttribute("retryCapped", retryable > OperatorActions.BULK_LIMIT);
        model.addAttribute("pageSize", PAGE_SIZE);
        model.addAttribute("channels", channels.channels().stream().map(c -> user.masked()
                ? new ChannelStatus.Channel(c.channel(), c.breaker(), c.openSeenAt(), c.parked(), masking.text(c.lastError()), c.lastErrorAt()) : c).toList());
        model.addAttribute("reloadsRefused", mappingReloads.refused());
        model.addAttribute("instance", io.herald.web.InstanceName.NAME);
        return "failures";
    }

    @GetMapping("/console/notifications/{id}")
    public String notification(@PathVariable long id, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        model.addAttribute("n", timeline.of(id, user.masked())
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no notification " + id)));
        return "notification";
    }

    @GetMapping("/console/quarantine/{id}")
    public String quarantined(@PathVariable long id, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        UnroutedEvents.Unrouted event = unrouted.find(id)
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no quarantined event " + id));
        model.addAttribute("user", user);
        model.addAttribute("event", event);
        model.addAttribute("reason", user.masked() ? masking.text(event.reason()) : event.reason());
        // An event that names its customer only by email has no id to link: the page offers to assign it instead.
        model.addAttribute("assignOnly", io.herald.identity.EmailOnlyEvents.isAbout(event.reason()));
        model.addAttribute("payload", masking.payload(event.rawPayload(), user.masked()));
        List<AuditTrail.Action> actions = audit.forTarget("quarantine", id);
        model.addAttribute("actions", user.masked() ? actions.stream().map(this::maskedAction).toList() : actions);
        model.addAttribute("became", notificationItBecame(event, actions));
        return "quarantine";
    }

    /** After a re-drive: the notification the event became (recorded with the re-drive, else found by its source event id). */
    private Long notificationItBecame(UnroutedEvents.Unrouted event, List<AuditTrail.Action> actions) {
        Long recorded = actions.stream().filter(a -> a.action().equals("REDRIVE") && a.notificationId() != null)
                .map(AuditTrail.Action::notificationId).reduce((first, last) -> last).orElse(null);
        if (recorded != null || !"REDRIVEN".equals(event.status()) || event.sourceEventId() == null) {
            return recorded;
        }
        return jdbc.query("SELECT id FROM notification_all WHERE source = ? AND source_event_id = ? ORDER BY id LIMIT 1",
                (row, n) -> row.getLong(1), event.source(), event.sourceEventId()).stream().findFirst().orElse(null);
    }

    private AuditTrail.Action maskedAction(AuditTrail.Action a) {
        return a.withTexts(masking.text(a.comment()), masking.text(a.outcome()));
    }

    @GetMapping("/console/dead-letters/{id}")
    public String deadLetter(@PathVariable long id, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        Map<String, Object> letter = jdbc.queryForList("SELECT id, stage, reason, payload, created_at FROM dead_letter WHERE id = ?", id)
                .stream().findFirst().orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no dead letter " + id));
        model.addAttribute("user", user);
        model.addAttribute("letter", letter);
        model.addAttribute("keptAt", ((java.sql.Timestamp) letter.get("created_at")).toInstant());   // shown in UTC, whatever the JVM's zone
        model.addAttribute("reason", user.masked() ? masking.text((String) letter.get("reason")) : letter.get("reason"));
        model.addAttribute("payload", masking.payload((String) letter.get("payload"), user.masked()));
        return "deadletter";
    }

    @GetMapping("/console/report")
    public String report(@RequestParam(required = false) String week, Principal who, Model model) {
        ConsoleUser user = ConsoleUser.of(who);
        model.addAttribute("user", user);
        model.addAttribute("r", reportFor(user, week));
        return "report";
    }

    @GetMapping("/console/report.csv")
    public ResponseEntity<String> reportCsv(@RequestParam(required = false) String week, Principal who) {
        return csv.download(reportFor(ConsoleUser.of(who), week));
    }

    /** A viewer's copy has its reasons masked, on the page and in the CSV alike. */
    private WeeklyReport.Report reportFor(ConsoleUser user, String week) {
        WeeklyReport.Report weekly = report.of(week);
        return user.masked() ? weekly.masked(masking::text) : weekly;
    }


    /** A failure as a viewer sees it: emails, phone numbers and its customer's names in the reason masked. */
    private FailureSearch.Failure maskedFailure(FailureSearch.Failure f, List<String> names) {
        return new FailureSearch.Failure(f.kind(), f.id(), f.notificationId(), f.source(), f.type(), f.channel(), f.customerId(),
                f.orderId(), f.ticketId(), f.state(), masking.message(f.reason(), names), f.at(), f.windowMissed());
    }

    /** The names of the customers these failures name, by customer id, in one statement. */
    private Map<String, List<String>> customerNames(List<FailureSearch.Failure> rows) {
        return customerNames.of(rows.stream().map(FailureSearch.Failure::customerId).toList());
    }
}
