package io.herald.api;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.BulkRetryCut;
import io.herald.ledger.StoredText;
import io.herald.console.ConsoleUser;
import io.herald.console.FailureSearch;
import io.herald.console.NotificationTimeline;
import io.herald.console.OperatorActions;
import io.herald.console.WeeklyReport;
import io.herald.console.WeeklyReportCsv;
import io.herald.config.ApiExamples;
import io.herald.config.HeraldOpenApi;
import io.herald.web.OutageInWords;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
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
@Tag(name = "Operator actions", description = "Failures, notifications, retries, dismissals and the weekly review")
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

    @Operation(summary = "Open and past failures, newest first, filtered (blank filters match all; times UTC)",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", array = @ArraySchema(schema = @Schema(implementation = FailureSearch.Failure.class)), examples = @ExampleObject(value = ApiExamples.FAILURES))),
                    @ApiResponse(responseCode = "400", description = "A filter that cannot be read", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"from must be a date (2026-11-22) or a UTC time (2026-11-22T10:30); was 'yesterday'\"}")))})
    @GetMapping("/failures")
    public List<FailureSearch.Failure> failures(@org.springdoc.core.annotations.ParameterObject FailureSearch.Filter filter,
                                                @Parameter(description = "at most this many rows") @RequestParam(defaultValue = "200") int limit) {
        return failures.find(filter, limit);
    }

    @Operation(summary = "One notification with its deliveries and timeline",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = NotificationTimeline.View.class), examples = @ExampleObject(value = ApiExamples.NOTIFICATION))),
                    @ApiResponse(responseCode = "404", description = "No such notification", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.NOT_FOUND)))})
    @GetMapping("/notifications/{id}")
    public ResponseEntity<?> notification(@PathVariable long id) {
        return timeline.of(id, false).<ResponseEntity<?>>map(ResponseEntity::ok)
                .orElseGet(() -> ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no notification " + id)));
    }

    @Operation(summary = "Retry a failed or parked delivery (same idempotency key: never a second copy)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = ApiExamples.ACTION_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = OperatorActions.Outcome.class), examples = @ExampleObject(value = ApiExamples.OUTCOME))),
                    @ApiResponse(responseCode = "404", description = "No such delivery", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Not retryable in its state", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/deliveries/{id}/retry")
    public OperatorActions.Outcome retry(@PathVariable long id, @RequestBody(required = false) ActionRequest request, Principal who) {
        return actions.retry(id, ConsoleUser.of(who).name(), comment(request));
    }

    @Operation(summary = "Dismiss a delivery with a comment (it leaves the open failures)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = ApiExamples.ACTION_REQUEST))),
            responses = {@ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: a dismiss needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = OperatorActions.Outcome.class), examples = @ExampleObject(value = ApiExamples.OUTCOME))),
                    @ApiResponse(responseCode = "404", description = "No such delivery", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Not dismissable in its state", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/deliveries/{id}/dismiss")
    public OperatorActions.Outcome dismiss(@PathVariable long id, @RequestBody(required = false) ActionRequest request, Principal who) {
        return actions.dismissDelivery(id, ConsoleUser.of(who).name(), comment(request));
    }

    @Operation(summary = "Retry every failed or parked delivery matching the filter (confirm: true required)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = ApiExamples.BULK_RETRY_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.BULK_RETRY_RESULT), examples = @ExampleObject(value = ApiExamples.BULK_RETRY_RESULT))),
                    @ApiResponse(responseCode = "400", description = "Not confirmed, or a filter a retry cannot act on", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR)))})
    @PostMapping("/deliveries/retry")
    public Map<String, Object> bulkRetry(@RequestBody Map<String, Object> body, Principal who) {
        ActionRequest request = bulkRequest(body);
        if (!Boolean.TRUE.equals(request.confirm())) {
            throw new ActionRefused.InvalidInput("a bulk retry acts on every matching failed or parked delivery; confirm it with \"confirm\": true");
        }
        List<OperatorActions.Outcome> retried = actions.bulkRetry(request.filter(), ConsoleUser.of(who).name(), request.comment());
        return Map.of("retried", retried.size(), "filter", request.filter().describe(), "deliveries", retried);
    }

    /**
     * A bulk retry's request, its field names checked: a misspelt filter ("customerID") would otherwise be ignored and the retry
     * act on every open failure.
     */
    private static ActionRequest bulkRequest(Map<String, Object> body) {
        java.util.Set<String> known = java.util.Arrays.stream(ActionRequest.class.getRecordComponents())
                .map(java.lang.reflect.RecordComponent::getName).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
        for (Map.Entry<String, Object> field : body.entrySet()) {
            if (!known.contains(field.getKey())) {
                throw new ActionRefused.InvalidInput("'" + StoredText.label(field.getKey(), 40) + "' is not a field of a bulk retry; known: " + known);
            }
            boolean confirm = field.getKey().equals("confirm");
            Object value = field.getValue();
            boolean text = value instanceof String || value instanceof Integer || value instanceof Long || value instanceof java.math.BigInteger;
            if (value != null && (confirm ? !(value instanceof Boolean) : !text)) {
                throw new ActionRefused.InvalidInput(field.getKey() + (confirm ? " must be true or false" : " must be text or a whole number")
                        + " in a bulk retry");
            }
        }
        return new ActionRequest(text(body, "comment"), (Boolean) body.get("confirm"), text(body, "source"), text(body, "type"),
                text(body, "channel"), text(body, "customerId"), text(body, "orderId"), text(body, "ticketId"), text(body, "state"),
                text(body, "from"), text(body, "to"));
    }

    /** A field as text: a ticket or order id sent as a JSON number ("ticketId": 35436) is that id. */
    private static String text(Map<String, Object> body, String field) {
        Object value = body.get(field);
        return value == null ? null : value.toString();
    }

    @Operation(summary = "Dismiss a quarantined event with a comment",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = false, content = @Content(mediaType = "application/json", schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = ApiExamples.ACTION_REQUEST))),
            responses = {@ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: a dismiss needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = OperatorActions.Outcome.class), examples = @ExampleObject(value = ApiExamples.OUTCOME))),
                    @ApiResponse(responseCode = "404", description = "No such event", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.QUARANTINE_NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Already re-driven or dismissed", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/quarantine/{id}/dismiss")
    public OperatorActions.Outcome dismissQuarantined(@PathVariable long id, @RequestBody(required = false) ActionRequest request,
                                                      Principal who) {
        return actions.dismissQuarantined(id, ConsoleUser.of(who).name(), comment(request));
    }

    @Operation(summary = "The weekly exception review (ISO week, e.g. 2026-W47; default this week)",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = WeeklyReport.Report.class), examples = @ExampleObject(value = ApiExamples.WEEKLY))),
                    @ApiResponse(responseCode = "400", description = "A week that cannot be read", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"week must be written like 2026-W47 (ISO week); was '47'\"}")))})
    @GetMapping("/reports/weekly")
    public WeeklyReport.Report weekly(@Parameter(description = "ISO week, e.g. 2026-W47", example = "2026-W47") @RequestParam(required = false) String week) {
        return report.of(week);
    }

    @Operation(summary = "The weekly exception review as CSV",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "text/csv", schema = @Schema(type = "string"), examples = @ExampleObject(value = ApiExamples.WEEKLY_CSV))),
                    @ApiResponse(responseCode = "400", description = "A week that cannot be read", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"week must be written like 2026-W47 (ISO week); was '47'\"}")))})
    @GetMapping("/reports/weekly.csv")
    public ResponseEntity<String> weeklyCsv(@Parameter(description = "ISO week, e.g. 2026-W47", example = "2026-W47") @RequestParam(required = false) String week) {
        return csv.download(report.of(week));
    }

    /** A bulk retry the outage stopped midway: 503, with what it retried before (BulkRetryCut). */
    @ExceptionHandler(BulkRetryCut.class)
    public ResponseEntity<Map<String, Object>> bulkRetryCut(BulkRetryCut cut) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", OutageInWords.RETRY_AFTER_SECONDS)
                .body(Map.of("error", cut.getMessage(), "retried", cut.retried().size(), "deliveries", cut.retried()));
    }

    @ExceptionHandler(ActionRefused.class)
    public ResponseEntity<Map<String, String>> refused(ActionRefused e) {
        HttpStatus status = e instanceof ActionRefused.InvalidInput ? HttpStatus.BAD_REQUEST
                : e.unknown() ? HttpStatus.NOT_FOUND : HttpStatus.CONFLICT;
        return ResponseEntity.status(status).body(Map.of("error", e.getMessage()));
    }

    private static String comment(ActionRequest request) {
        return request == null ? null : request.comment();
    }
}
