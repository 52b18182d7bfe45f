package io.herald.api;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.console.FailureSearch;
import io.herald.console.NotificationTimeline;
import io.herald.console.OperatorActions;
import io.herald.console.WeeklyReport;
import io.herald.console.WeeklyReportCsv;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The console's reads and actions for scripts: failures (filtered, newest first), one notification
 * with its timeline, retry / dismiss / bulk retry of deliveries, dismissal of quarantined events,
 * and the weekly review as JSON or CSV. Every action is audited under the caller's login.
 */
@RestController
@RequestMapping("/api")
public class OperatorActionsApi {

    /** {"comment": "why"}; a bulk retry also says {"confirm": true} and may carry the failures filter. */
    public record ActionRequest(String comment, Boolean confirm, String source, String type, String channel, String customerId,
                                String orderId, String ticketId, String state, String from, String to) {
        FailureSearch.Filter filter() {
            return new FailureSearch.Filter(source, type, channel, customerId, orderId, ticketId, state, from, to);
        }
    }

    private final FailureSearch failures;
    private final NotificationTimeline timeline;
    private final OperatorActions actions;
    private final WeeklyReport report;
    private final WeeklyReportCsv csv;

    public OperatorActionsApi(FailureSearch failures, NotificationTimeline timeline, OperatorActions actions, WeeklyReport report,
                              WeeklyReportCsv csv) {
        this.failures = failures;
        this.timeline = timeline;
        this.actions = actions;
        this.report = report;
        this.csv = csv;
    }

    @GetMapping("/failures")
    public List<FailureSearch.Failure> failures(FailureSearch.Filter filter, @RequestParam(defaultValue = "200") int limit) {
        return failures.find(filter, limit);
    }

    @GetMapping("/notifications/{id}")
    public ResponseEntity<?> notification(@PathVariable long id) {
        return timeline.of(id, false).<ResponseEntity<?>>map(ResponseEntity::ok)
                .orElseGet(() -> ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no notification " + id)));
    }

    @PostMapping("/deliveries/{id}/retry")
    public OperatorActions.Outcome retry(@PathVariable long id, @RequestBody(required = false) ActionRequest request, Principal who) {
        return actions.retry(id, ConsoleUser.of(who).name(), comment(request));
    }

    @PostMapping("/deliveries/{id}/dismiss")
    public OperatorActions.Outcome dismiss(@PathVariable long id, @RequestBody(required = false) ActionRequest request, Principal who) {
        return actions.dismissDelivery(id, ConsoleUser.of(who).name(), comment(request));
    }

    @PostMapping("/deliveries/retry")
    public Map<String, Object> bulkRetry(@RequestBody ActionRequest request, Principal who) {
        if (!Boolean.TRUE.equals(request.confirm())) {
            throw new ActionRefused("a bulk retry acts on every matching failed or parked delivery; confirm it with \"confirm\": true", false);
        }
        List<OperatorActions.Outcome> retried = actions.bulkRetry(request.filter(), ConsoleUser.of(who).name(), request.comment());
        return Map.of("retried", retried.size(), "filter", request.filter().describe(), "deliveries", retried);
    }

    @PostMapping("/quarantine/{id}/dismiss")
    public OperatorActions.Outcome dismissQuarantined(@PathVariable long id, @RequestBody(required = false) ActionRequest request,
                                                      Principal who) {
        return actions.dismissQuarantined(id, ConsoleUser.of(who).name(), comment(request));
    }

    @GetMapping("/reports/weekly")
    public WeeklyReport.Report weekly(@RequestParam(required = false) String week) {
        return report.of(week);
    }

    @GetMapping("/reports/weekly.csv")
    public ResponseEntity<String> weeklyCsv(@RequestParam(required = false) String week) {
        return csv.download(report.of(week));
    }

    @ExceptionHandler(ActionRefused.class)
    public ResponseEntity<Map<String, String>> refused(ActionRefused e) {
        return ResponseEntity.status(e.unknown() ? HttpStatus.NOT_FOUND : HttpStatus.CONFLICT).body(Map.of("error", e.getMessage()));
    }

    private static String comment(ActionRequest request) {
        return request == null ? null : request.comment();
    }
}
