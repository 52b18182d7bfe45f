package io.herald.retention;

import java.security.Principal;
import java.util.Map;

import io.herald.console.ActionRefused;
import io.herald.console.ConsoleUser;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
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

    @Operation(summary = "Erase a customer: directory entry, inbox, payloads and rendered messages removed; states, counts and audit"
            + " trail kept; later events for the customer quarantined with the erasure's reason. 404: Herald holds nothing of them;"
            + " 409: already erased; 400: no comment")
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
