package io.herald.api;

import io.herald.console.ResendOrdinals;
import java.io.IOException;
import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.herald.console.OperatorActions;
import io.herald.config.ApiExamples;
import io.herald.config.HeraldOpenApi;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** One delivery with its attempts and resends, and the operator's explicit, recorded resend. */
@RestController
@Tag(name = "Deliveries", description = "One delivery with its attempts and resends; the audited resend")
@RequestMapping("/api/deliveries")
public class DeliveryApi {

    /** A resend must say so: {"confirm": true, "comment": "customer asked for a copy"}. */
    public record ResendRequest(Boolean confirm, String comment) {
    }

    private final JdbcTemplate jdbc;
    private final OperatorActions actions;

    private final ResendOrdinals ordinals;

    public DeliveryApi(JdbcTemplate jdbc, OperatorActions actions, ResendOrdinals ordinals) {
        this.ordinals = ordinals;
        this.jdbc = jdbc;
        this.actions = actions;
    }

    @Operation(summary = "One delivery with every attempt and resend",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.DELIVERY_DETAIL), examples = @ExampleObject(value = ApiExamples.DELIVERY))),
                    @ApiResponse(responseCode = "404", description = "No such delivery", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.NOT_FOUND)))})
    @GetMapping("/{id}")
    public ResponseEntity<?> one(@PathVariable long id) {
        List<Map<String, Object>> delivery = jdbc.queryForList("""
                SELECT d.id, n.idempotency_key, n.type, n.customer_id, d.channel, d.state, d.reason, d.recipient_masked,
                       c.subject, c.rendered_body, d.provider_message_id, d.attempts, d.parked_count, d.next_attempt_at,
                       d.created_at, d.sent_at, d.updated_at
                FROM delivery_all d JOIN notification_all n ON n.id = d.notification_id
                LEFT JOIN delivery_content c ON c.delivery_id = d.id WHERE d.id = ?""", id);
        if (delivery.isEmpty()) {
            return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no delivery " + id));
        }
        Map<String, Object> body = new java.util.LinkedHashMap<>(delivery.get(0));
        // A resend is named by its place among this delivery's resends ("2nd resend: sent"), as the timeline names it; the
        // ledger's texts say its id across every delivery ("resend 4127: sent"). Its id stays in resends[].id.
        Map<Long, Integer> places = ordinals.placesOnDelivery(id);
        List<Map<String, Object>> attempts = jdbc.queryForList("SELECT attempted_at, outcome, provider_status, reason FROM delivery_attempt"
                + " WHERE delivery_id = ? ORDER BY id", id);
        attempts.forEach(attempt -> attempt.put("reason", ResendOrdinals.named((String) attempt.get("reason"), places)));
        body.put("attempts_log", attempts);
        List<Map<String, Object>> resends = new java.util.ArrayList<>();
        for (Map<String, Object> row : jdbc.queryForList("SELECT id, requested_by, comment, requested_at, outcome, reason FROM delivery_resend"
                + " WHERE delivery_id = ? ORDER BY id", id)) {
            Map<String, Object> resend = new java.util.LinkedHashMap<>();
            resend.put("id", row.get("id"));
            resend.put("resend", ResendOrdinals.ordinal(places.getOrDefault(((Number) row.get("id")).longValue(), resends.size() + 1)) + " resend");
            row.forEach((key, value) -> resend.putIfAbsent(key, key.equals("reason") ? ResendOrdinals.named((String) value, places) : value));
            resends.add(resend);
        }
        body.put("resends", resends);
        return ResponseEntity.ok(body);
    }

    @Operation(summary = "Send the customer another copy (explicit, audited; a double click sends one); when the notification's type needs"
            + " approval the resend is held instead (state AWAITING_APPROVAL) until another approver approves it (/api/approvals/resends)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json", schema = @Schema(implementation = ResendRequest.class), examples = @ExampleObject(value = ApiExamples.RESEND_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", schema = @Schema(implementation = io.herald.dispatch.DeliveryResend.Result.class), examples = @ExampleObject(value = ApiExamples.RESEND_RESULT))),
                    @ApiResponse(responseCode = "400", description = "Not confirmed, or no comment", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.RESEND_UNCONFIRMED))),
                    @ApiResponse(responseCode = "404", description = "No such delivery", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.NOT_FOUND))),
                    @ApiResponse(responseCode = "409", description = "Cannot be resent now (in progress, never reached the customer, or just resent)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.CONFLICT)))})
    @PostMapping("/{id}/resend")
    public ResponseEntity<?> resend(@PathVariable long id, @RequestBody(required = false) ResendRequest request, Principal who)
            throws IOException {
        if (request == null || !Boolean.TRUE.equals(request.confirm())) {
            return ResponseEntity.badRequest().body(Map.of("error",
                    "a resend sends the customer a second copy; confirm it with {\"confirm\": true, \"comment\": \"why\"}"));
        }
        try {
            return ResponseEntity.ok(actions.resend(id, true, ConsoleUser.of(who).name(), request.comment()));
        } catch (ActionRefused e) {
            HttpStatus status = e instanceof ActionRefused.InvalidInput ? HttpStatus.BAD_REQUEST   // no comment
                    : e.unknown() ? HttpStatus.NOT_FOUND : HttpStatus.CONFLICT;
            return ResponseEntity.status(status).body(Map.of("error", e.getMessage()));
        }
    }
}
