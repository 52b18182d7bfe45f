package io.herald.schedule;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.config.HeraldOpenApi;
import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.console.FailureSearch;
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
 * Waiting notifications for scripts and operators (issue 14 point 7): the scheduled (quiet hours, reminders) and held
 * (late messages for an operator) ones, filtered by type, customer and fire time; cancel or dismiss, and send now, each
 * with a comment (operators and admins; audited). Viewers read the list with personal data in reasons masked.
 */
@RestController
@Tag(name = "Scheduled", description = "Notifications waiting for a time (SCHEDULED) or for an operator (HELD)")
@RequestMapping("/api/scheduled")
public class ScheduledApi {

    static final String LIST_EXAMPLE = """
            [{"notificationId": 5120, "type": "billing.payment_failed", "customerId": "cus_RkT4aB7cD9eF1g", "state": "SCHEDULED",
              "fireAt": "2026-12-03T07:00:00Z",
              "reason": "quiet hours 21:00-08:00 in Europe/Berlin for billing notifications, high priority included (high-priority: hold): held until 08:00 local time on 2026-12-03 (2026-12-03 07:00 UTC)",
              "matchKey": "invoice:in_1QxR1zLkdIwHu7ixQ9w8E7r6", "createdAt": "2026-12-02T21:30:02Z", "channels": ["email", "sms"]}]""";
    static final String COMMENT = "{\"comment\": \"customer called, paid by phone: no notice needed\"}";
    static final String CANCELLED = """
            {"notificationId": 5120, "state": "CANCELLED", "decidedBy": "operator", "comment": "customer called, paid by phone: no notice needed",
             "channels": [], "message": "notification 5120 cancelled: not sent"}""";
    static final String SENT_NOW = """
            {"notificationId": 5120, "state": "SENT_NOW", "decidedBy": "operator", "comment": "customer asked for it now",
             "channels": ["email", "sms"], "message": "notification 5120 sent now: 2 deliveries queued (email, sms)"}""";
    static final String NO_COMMENT = "{\"error\": \"say why: a cancellation needs a comment for the record\"}";
    static final String UNKNOWN = "{\"error\": \"notification 5120 is not scheduled or held (no such notification, or it was sent as soon as it came)\"}";
    static final String DECIDED = "{\"error\": \"notification 5120 is already FIRED (by Herald at 2026-12-03T07:00:01Z): nothing more to decide\"}";

    /** {"comment": "why"}: required. */
    public record ActionRequest(String comment) {
    }

    private final WaitingNotifications waiting;

    public ScheduledApi(WaitingNotifications waiting) {
        this.waiting = waiting;
    }

    @Operation(summary = "Scheduled and held notifications, soonest first (held ones first), filtered by type, customer and fire time;"
            + " reasons masked for viewers",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ScheduledSends.Waiting.class)), examples = @ExampleObject(value = LIST_EXAMPLE))))
    @GetMapping
    public List<ScheduledSends.Waiting> list(@Parameter(description = "notification type, e.g. billing.payment_failed") @RequestParam(required = false) String type,
                                             @Parameter(description = "customer id") @RequestParam(required = false) String customer,
                                             @Parameter(description = "fires at or after this date or UTC time (2026-12-03, 2026-12-03T10:30 or 2026-12-03T10:30:00Z)")
                                             @RequestParam(required = false) String from,
                                             @Parameter(description = "fires before this UTC time, or on or before this date (same forms)")
                                             @RequestParam(required = false) String to,
                                             Principal who) {
        return waiting.list(new WaitingNotifications.Filter(type, customer, FailureSearch.instant(from, "from"), FailureSearch.until(to, "to")),
                ConsoleUser.of(who).masked());
    }

    @Operation(summary = "Cancel a scheduled notification (CANCELLED) or dismiss a held one (DISMISSED) with a comment (operator; audited):"
            + " it is never sent",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = COMMENT))),
            responses = {@ApiResponse(responseCode = "200", description = "Cancelled or dismissed", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = WaitingNotifications.Decision.class), examples = @ExampleObject(value = CANCELLED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = NO_COMMENT))),
                    @ApiResponse(responseCode = "404", description = "Not a waiting notification", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = UNKNOWN))),
                    @ApiResponse(responseCode = "409", description = "Already fired, sent, cancelled or dismissed", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = DECIDED)))})
    @PostMapping("/{notificationId}/cancel")
    public WaitingNotifications.Decision cancel(@PathVariable long notificationId, @RequestBody(required = false) ActionRequest request, Principal who) {
        return waiting.cancel(notificationId, ConsoleUser.of(who).name(), request == null ? null : request.comment());
    }

    @Operation(summary = "Send a scheduled notification before its time, or a held one, with a comment (operator; audited): its deliveries"
            + " are queued now",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ActionRequest.class), examples = @ExampleObject(value = "{\"comment\": \"customer asked for it now\"}"))),
            responses = {@ApiResponse(responseCode = "200", description = "Queued for sending", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = WaitingNotifications.Decision.class), examples = @ExampleObject(value = SENT_NOW))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: sending it now needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "404", description = "Not a waiting notification", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = UNKNOWN))),
                    @ApiResponse(responseCode = "409", description = "Already fired, sent, cancelled or dismissed", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = DECIDED)))})
    @PostMapping("/{notificationId}/send-now")
    public WaitingNotifications.Decision sendNow(@PathVariable long notificationId, @RequestBody(required = false) ActionRequest request, Principal who) {
        return waiting.sendNow(notificationId, ConsoleUser.of(who).name(), request == null ? null : request.comment());
    }

    @ExceptionHandler(ActionRefused.class)
    public ResponseEntity<Map<String, String>> refused(ActionRefused e) {
        HttpStatus status = e instanceof ActionRefused.InvalidInput ? HttpStatus.BAD_REQUEST
                : e.unknown() ? HttpStatus.NOT_FOUND : HttpStatus.CONFLICT;
        return ResponseEntity.status(status).body(Map.of("error", e.getMessage()));
    }
}
