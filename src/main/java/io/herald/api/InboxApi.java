package io.herald.api;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import io.herald.config.ApiExamples;
import io.herald.config.HeraldOpenApi;
import io.herald.ledger.StoredText;
import io.herald.security.InboxScope;
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
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** A customer's in-app inbox, for the product's app: list messages (newest first) and mark one read. */
@RestController
@Tag(name = "Inbox", description = "A customer's in-app inbox, for the product's app")
@RequestMapping("/api/customers/{customerId}/inbox")
public class InboxApi {

    public record InboxMessage(long id, String type, String title, String body, Instant createdAt, Instant readAt) {
    }

    private final JdbcTemplate jdbc;
    private final InboxScope scope;

    public InboxApi(JdbcTemplate jdbc, InboxScope scope) {
        this.jdbc = jdbc;
        this.scope = scope;
    }

    @Operation(summary = "The customer's inbox messages, newest first; page back with before (the last message's id)",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json", array = @ArraySchema(schema = @Schema(implementation = InboxMessage.class)), examples = @ExampleObject(value = ApiExamples.INBOX))),
                    @ApiResponse(responseCode = "400", description = "A limit below 1", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"limit must be at least 1 (at most 500 messages are returned); was 0\"}"))),
                    @ApiResponse(responseCode = "403", description = "An APP token issued to another customer (herald.security.oidc.customer-claim)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR))),
                    @ApiResponse(responseCode = "404", description = "before names another customer's message", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.INBOX_NOT_FOUND)))})
    @GetMapping
    public ResponseEntity<?> list(@PathVariable String customerId, @RequestParam(defaultValue = "false") boolean unreadOnly,
                                  @Parameter(description = "at most this many messages (1 to 500)") @RequestParam(defaultValue = "50") int limit,
                                  @Parameter(description = "only messages older than this one of the customer's (the id of the last message"
                                          + " of the page before): the next page") @RequestParam(required = false) Long before,
                                  @Parameter(hidden = true) Authentication caller) {
        Optional<String> refused = scope.refusal(caller, customerId);
        if (refused.isPresent()) {
            return forbidden(refused.get());
        }
        if (limit < 1) {
            // It answered one message, as if limit=1 had been asked.
            throw new io.herald.console.ActionRefused.InvalidInput("limit must be at least 1 (at most 500 messages are returned); was " + limit);
        }
        // Another customer's message is no place to page from. A message no longer there (removed by retention or an erasure)
        // still is: the list is in id order, so the page goes on from where it stood, nothing skipped or listed twice.
        if (before != null && !jdbc.queryForList("SELECT 1 FROM inbox_message WHERE id = ? AND customer_id <> ?", before, customerId).isEmpty()) {
            return notFound(customerId, before);
        }
        return ResponseEntity.ok(jdbc.query("SELECT id, type, title, body, created_at, read_at FROM inbox_message WHERE customer_id = ?"
                        + (unreadOnly ? " AND read_at IS NULL" : "")
                        + (before == null ? "" : " AND id < ?")
                        + " ORDER BY id DESC LIMIT ?",
                (row, n) -> new InboxMessage(row.getLong("id"), row.getString("type"), row.getString("title"), row.getString("body"),
                        row.getTimestamp("created_at").toInstant(),
                        row.getTimestamp("read_at") == null ? null : row.getTimestamp("read_at").toInstant()),
                before == null ? new Object[] {customerId, Math.min(limit, 500)}
                        : new Object[] {customerId, before, Math.min(limit, 500)}));
    }

    @Operation(summary = "Mark one message read (reading it again changes nothing)",
            responses = {@ApiResponse(responseCode = "204", description = "Marked read", content = @Content),
                    @ApiResponse(responseCode = "403", description = "An APP token issued to another customer (herald.security.oidc.customer-claim)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR))),
                    @ApiResponse(responseCode = "404", description = "The customer has no such message", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = ApiExamples.INBOX_NOT_FOUND)))})
    @PostMapping("/{messageId}/read")
    public ResponseEntity<?> markRead(@PathVariable String customerId, @PathVariable long messageId,
                                      @Parameter(hidden = true) Authentication caller) {
        Optional<String> refused = scope.refusal(caller, customerId);
        if (refused.isPresent()) {
            return forbidden(refused.get());
        }
        int updated = jdbc.update("UPDATE inbox_message SET read_at = COALESCE(read_at, now()) WHERE id = ? AND customer_id = ?",
                messageId, customerId);
        return updated == 1 ? ResponseEntity.noContent().build() : notFound(customerId, messageId);
    }

    private static ResponseEntity<?> forbidden(String reason) {
        return ResponseEntity.status(HttpStatus.FORBIDDEN).body(Map.of("error", reason));
    }

    private static ResponseEntity<?> notFound(String customerId, long messageId) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "customer " + StoredText.label(customerId, 64)
                + " has no inbox message " + messageId));
    }
}
