package io.herald.retention;

import java.security.Principal;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.swagger.v3.oas.annotations.Operation;
import io.herald.config.HeraldOpenApi;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Erasure of one customer on request (admin only: HeraldSecurity), audited; see CustomerErasure for what goes and what stays. */
@RestController
@Tag(name = "Erasure", description = "Erase one customer on request (admin only)")
@RequestMapping("/api")
public class ErasureApi {

    private final CustomerErasure erasure;

    public ErasureApi(CustomerErasure erasure) {
        this.erasure = erasure;
    }

    static final String ERASED = """
            {"id": 12, "customerId": "cus_NffrFeUfNV2Hib", "erasedAt": "2026-12-02T09:10:00Z", "requestedBy": "admin",
             "comment": "GDPR erasure request, ticket 881",
             "removed": "directory entry deleted, 14 notification payloads and 19 rendered messages removed, 2 inbox messages deleted, 1 quarantined or ignored events, 0 dead letters and 0 refused request excerpts cleared"}""";
    static final String NO_COMMENT = "{\"error\": \"say why: an erasure needs a comment for the record (e.g. the customer's request and its reference)\"}";
    static final String UNKNOWN = "{\"error\": \"no customer cus_NffrFeUfNV2Hib in Herald's directory or ledger\"}";
    static final String ALREADY = "{\"error\": \"customer cus_NffrFeUfNV2Hib was already erased on 2026-12-02 by admin\"}";

    @Operation(summary = "Erase a customer (admin only): directory entry, inbox, payloads and rendered messages removed; states, counts"
            + " and audit trail kept; later events for the customer quarantined with the erasure's reason",
            responses = {@ApiResponse(responseCode = "200", description = "Erased", content = @Content(mediaType = "application/json",
                            schema = @Schema(implementation = CustomerErasure.Erasure.class), examples = @ExampleObject(value = ERASED))),
                    @ApiResponse(responseCode = "400", description = "No comment", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = NO_COMMENT))),
                    @ApiResponse(responseCode = "404", description = "Herald holds nothing of this customer", content = @Content(
                            mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = UNKNOWN))),
                    @ApiResponse(responseCode = "409", description = "Already erased", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ALREADY)))})
    @DeleteMapping("/customers/{customerId}")
    public ResponseEntity<?> erase(@PathVariable String customerId,
                                   @Parameter(description = "why, e.g. the customer's request and its reference (kept in the audit trail)")
                                   @RequestParam(required = false) String comment, Principal who) {
        try {
            return ResponseEntity.ok(erasure.erase(customerId, ConsoleUser.of(who).name(), comment));
        } catch (ActionRefused e) {
            HttpStatus status = e.unknown() ? HttpStatus.NOT_FOUND
                    : comment == null || comment.isBlank() ? HttpStatus.BAD_REQUEST : HttpStatus.CONFLICT;
            return ResponseEntity.status(status).body(Map.of("error", e.getMessage()));
        }
    }
}
