package io.herald.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import java.security.Principal;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.console.OperatorActions;
import io.herald.ledger.StoredText;
import io.herald.ledger.UnroutedEvents;
import io.herald.ledger.UnroutedEvents.Unrouted;
import io.herald.config.ApiExamples;
import io.herald.config.HeraldOpenApi;
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
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Quarantined source events for operators: list (newest first, by source and status), read one
 * with its raw payload, and re-drive it once the mapping, directory or data is fixed.
 * Ignored events (understood, not for customers) are listed at /api/ignored.
 */
@RestController
@Tag(name = "Quarantine", description = "Quarantined and ignored source events; re-drive once fixed")
@RequestMapping("/api")
public class QuarantineApi {

    private final UnroutedEvents unrouted;
    private final OperatorActions actions;
    private final io.herald.customers.QuarantineLinking linking;

    public QuarantineApi(UnroutedEvents unrouted, OperatorActions actions, io.herald.customers.QuarantineLinking linking) {
        this.unrouted = unrouted;
        this.actions = actions;
        this.linking = linking;
    }

    /** An event in a list: everything but the raw payload (read one to see it). */
    public record Summary(long id, String source, String sourceEventId, String outcome, String step, String reason,
                          String status, int redriveCount, String redriveOutcome, Instant createdAt, Instant updatedAt) {
        static Summary of(Unrouted u) {
            return new Summary(u.id(), u.source(), u.sourceEventId(), u.outcome(), u.step(), u.reason(), u.status(),
                    u.redriveCount(), u.redriveOutcome(), u.createdAt(), u.updatedAt());
        }
    }

    @Operation(summary = "Quarantined events, newest first (status OPEN, REDRIVEN, DISMISSED or ANY)",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", array = @ArraySchema(schema = @Schema(implementation = Summary.class)), examples = @ExampleObject(value = ApiExamples.QUARANTINE_LIST))))
    @GetMapping("/quarantine")
    public List<Summary> quarantined(@Parameter(description = "billing, support or crm; blank for all") @RequestParam(required = false) String source,
                                      @RequestParam(defaultValue = "OPEN") String status,
                                      @RequestParam(defaultValue = "100") int limit) {
        String wanted = status.strip().toUpperCase(java.util.Locale.ROOT);
        if (!STATUSES.contains(wanted)) {
            throw new ActionRefused.InvalidInput("status must be OPEN, REDRIVEN, DISMISSED or ANY; was '" + StoredText.label(status, 40) + "'");
        }
        return unrouted.list("QUARANTINED", source, "ANY".equals(wanted) ? null : wanted, bounded(limit)).stream().map(Summary::of).toList();
    }

    @Operation(summary = "Events understood but not for customers, newest first",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", array = @ArraySchema(schema = @Schema(implementation = Summary.class)), examples = @ExampleObject(value = ApiExamples.QUARANTINE_LIST))))
    @GetMapping("/ignored")
    public List<Summary> ignored(@RequestParam(required = false) String source,
                                  @RequestParam(defaultValue = "100") int limit) {
        return unrouted.list("IGNORED", source, null, bounded(limit)).stream().map(Summary::of).toList();
    }

    @Operation(summary = "One quarantined or ignored event with its raw payload",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = Unrouted.class), examples = @ExampleObject(value = ApiExamples.QUARANTINED))),
                    @ApiResponse(responseCode = "404", description = "No such event", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.QUARANTINE_NOT_FOUND)))})
    @GetMapping("/quarantine/{id}")
    public ResponseEntity<?> one(@PathVariable long id) {
        return unrouted.find(id).<ResponseEntity<?>>map(ResponseEntity::ok).orElseGet(() -> notFound(id));
    }

    @Operation(summary = "Run the event through its mapping and intake again (after the fix)",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = io.herald.ingest.QuarantineRedrive.Result.class), examples = @ExampleObject(value = ApiExamples.REDRIVE_RESULT))),
                    @ApiResponse(responseCode = "404", description = "No such event", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.QUARANTINE_NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Not something to re-drive (already re-driven, ignored)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/quarantine/{id}/redrive")
    public ResponseEntity<?> redrive(@PathVariable long id, Principal who) {
        try {
            return ResponseEntity.ok(actions.redrive(id, ConsoleUser.of(who).name(), null));
        } catch (ActionRefused e) {
            return e.unknown() ? notFound(id) : ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", e.getMessage()));
        }
    }

    /**
     * Which customer the event's unknown source id is (issue 13: identity links), or, for an event that names its customer
     * only by email, which customer it is for; and why the operator knows.
     */
    public record LinkRequest(String customerId, String comment) {
    }

    private static final java.util.Set<String> STATUSES = java.util.Set.of("OPEN", "REDRIVEN", "DISMISSED", "ANY");

    static final String LINK_REQUEST = "{\"customerId\": \"cus_RkT4aB7cD9eF1g\", \"comment\": \"Zendesk user 9000000123456 is Jenny Rosen (checked in Zendesk)\"}";
    static final String LINK_RESULT = """
            {"id": 93, "status": "REDRIVEN", "outcome": "ROUTE", "reason": null, "notificationKey": "support:ticket_status_changed:35436:SOLVED:2026-11-21T10:12:44Z",
             "notificationId": 812, "linkedSystem": "zendesk", "linkedExternalId": "9000000123456", "customerId": "cus_RkT4aB7cD9eF1g",
             "message": "linked Zendesk user 9000000123456 to customer cus_RkT4aB7cD9eF1g; re-driven: ROUTE", "action": "LINK"}""";
    static final String LINK_REFUSED = "{\"error\": \"customer cus_unknown is not in Herald's customer directory; choose an existing customer (find them under Customers)\"}";

    @Operation(summary = "Link the event's unknown source id (Zendesk requester, Stripe customer, CRM account) to an existing customer and re-drive it, in one audited step;"
            + " an event that names its customer only by email is assigned to the customer instead (sent to them once, nothing linked, action ASSIGN)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = LinkRequest.class), examples = @ExampleObject(value = LINK_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Linked and re-driven (or still quarantined, with the reason)", content = @Content(mediaType = "application/json", schema = @Schema(implementation = io.herald.customers.QuarantineLinking.Result.class), examples = @ExampleObject(value = LINK_RESULT))),
                    @ApiResponse(responseCode = "400", description = "No customer id or comment, or a customer not in the directory (unknown or erased)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = LINK_REFUSED))),
                    @ApiResponse(responseCode = "404", description = "No such event", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.QUARANTINE_NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Not an open quarantined event", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/quarantine/{id}/link")
    public ResponseEntity<?> link(@PathVariable long id, @org.springframework.web.bind.annotation.RequestBody LinkRequest request, Principal who) {
        try {
            return ResponseEntity.ok(linking.link(id, request.customerId(), ConsoleUser.of(who).name(), request.comment()));
        } catch (io.herald.customers.QuarantineLinking.BadLink e) {
            return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
        } catch (ActionRefused e) {
            return e.unknown() ? notFound(id) : ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", e.getMessage()));
        }
    }

    private static int bounded(int limit) {
        if (limit < 1) {
            throw new ActionRefused.InvalidInput("limit must be at least 1 (at most 1000 rows are returned); was " + limit);
        }
        return Math.min(limit, 1000);
    }

    private static ResponseEntity<?> notFound(long id) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no quarantined or ignored event " + id));
    }
}
