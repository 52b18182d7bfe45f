package io.herald.api;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.config.HeraldOpenApi;
import io.herald.console.ConsoleUser;
import io.herald.receipts.Suppressions;
import io.swagger.v3.oas.annotations.Operation;
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
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The suppression list for operators: addresses Herald no longer sends to (hard bounce, spam complaint,
 * a number that can never receive), masked, with the reason and the receipt that caused it. An admin lifts
 * an entry with a comment (audited in operator_action); the next notification to that address is sent.
 */
@RestController
@Tag(name = "Suppressions", description = "Addresses Herald no longer sends to, and lifting them")
@RequestMapping("/api/suppressions")
public class SuppressionsApi {

    static final String LIST_EXAMPLE = """
            [{"id": 7, "channel": "email", "addressMasked": "o***@example.com", "reason": "hard bounce: 5.1.1 550 5.1.1 The email account that you tried to reach does not exist",
              "receiptId": 1532, "since": "2026-11-21T10:14:02Z", "liftedAt": null, "liftedBy": null, "liftComment": null}]""";
    static final String LIFT_REQUEST = "{\"comment\": \"customer fixed their mailbox, confirmed by phone\"}";
    static final String LIFTED = """
            {"id": 7, "channel": "email", "addressMasked": "o***@example.com", "reason": "hard bounce: 5.1.1", "receiptId": 1532,
             "since": "2026-11-21T10:14:02Z", "liftedAt": "2026-11-22T09:00:00Z", "liftedBy": "admin", "liftComment": "customer fixed their mailbox"}""";
    static final String REFUSED = "{\"error\": \"suppression 7 is not active (lifted already, or no such entry)\"}";

    /** {"comment": "why"}: required. */
    public record LiftRequest(String comment) {
    }

    private final Suppressions suppressions;

    public SuppressionsApi(Suppressions suppressions) {
        this.suppressions = suppressions;
    }

    @Operation(summary = "The suppression list, active entries first, newest first (addresses masked)",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = Suppressions.Suppression.class)), examples = @ExampleObject(value = LIST_EXAMPLE))))
    @GetMapping
    public List<Suppressions.Suppression> list(@RequestParam(name = "includeLifted", defaultValue = "false") boolean includeLifted) {
        return suppressions.list(includeLifted, 500);
    }

    @Operation(summary = "Lift a suppression with a comment (admin; audited): later notifications to the address are sent again",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = LiftRequest.class), examples = @ExampleObject(value = LIFT_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Lifted", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = Suppressions.Suppression.class), examples = @ExampleObject(value = LIFTED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why the suppression is lifted (comment)\"}"))),
                    @ApiResponse(responseCode = "403", description = "Not an admin", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"only an admin may lift a suppression\"}"))),
                    @ApiResponse(responseCode = "409", description = "Not active", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = REFUSED)))})
    @PostMapping("/{id}/lift")
    public ResponseEntity<Object> lift(@PathVariable long id, @RequestBody(required = false) LiftRequest request, Principal who) {
        ConsoleUser user = ConsoleUser.of(who);
        if (!user.admin()) {
            return ResponseEntity.status(HttpStatus.FORBIDDEN).body(Map.of("error", "only an admin may lift a suppression"));
        }
        String comment = request == null || request.comment() == null ? "" : request.comment().trim();
        if (comment.isEmpty()) {
            return ResponseEntity.badRequest().body(Map.of("error", "say why the suppression is lifted (comment)"));
        }
        if (!suppressions.lift(id, user.name(), comment)) {
            return ResponseEntity.status(HttpStatus.CONFLICT).body(Map.of("error", "suppression " + id + " is not active (lifted already, or no such entry)"));
        }
        return ResponseEntity.ok(suppressions.find(id).orElseThrow());
    }
}
