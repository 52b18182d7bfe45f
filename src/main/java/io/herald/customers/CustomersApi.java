package io.herald.customers;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.config.HeraldOpenApi;
import io.herald.console.ConsoleUser;
import io.herald.ledger.StoredText;
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
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The customer view over HTTP (issue 13 point 5): find a customer by id, a source system's id, email or phone; read
 * their addresses, consent, suppressions and identity links; page through every notification they were sent, skipped
 * or failed; and look notifications up by customer, order or ticket. Viewers may read it, masked.
 */
@RestController
@Tag(name = "Customers", description = "Find a customer and see what they were sent (masked for viewers)")
@RequestMapping("/api")
public class CustomersApi {

    static final String FOUND = """
            [{"customerId": "cus_RkT4aB7cD9eF1g", "displayName": "Jenny Rosen", "email": "jenny.rosen@example.org",
              "phone": "+447700900123", "matchedBy": "zendesk id"}]""";
    static final String PROFILE = """
            {"customerId": "cus_RkT4aB7cD9eF1g", "displayName": "Jenny Rosen", "email": "jenny.rosen@example.org",
             "phone": "+447700900123", "pushTokens": ["fcm:dQw4w9WgXcQ:APA91b"], "locale": "en-GB", "timeZone": "Europe/London",
             "consent": {"billing": ["email", "sms"], "support": ["email", "in_app"], "marketing": []},
             "suppressions": [{"channel": "email", "reason": "address j***@example.org is suppressed since 2026-11-21 10:02 UTC: hard bounce (550 5.1.1 user unknown)"}],
             "links": [{"system": "zendesk", "externalId": "9000000123456", "customerId": "cus_RkT4aB7cD9eF1g",
                        "origin": "linked by operator: requester of ticket 35436", "linkedAt": "2026-11-21T10:15:00Z"}]}""";
    static final String PAGE = """
            {"customerId": "cus_RkT4aB7cD9eF1g", "page": 0, "size": 50, "nextPage": null, "notifications": [
              {"id": 812, "type": "support.ticket_status_changed", "source": "support", "sourceEventId": "01JD4S7K9Q2W3E4R5T6Y7U8I9O",
               "priority": "normal", "state": "ROUTED", "reason": null, "orderId": null, "ticketId": "35436",
               "occurredAt": "2026-11-21T10:12:44Z", "receivedAt": "2026-11-21T10:12:45Z", "deliveries": [
                 {"id": 1630, "channel": "email", "state": "DELIVERED", "recipient": "j***@example.org", "reason": null, "attempts": 1,
                  "sentAt": "2026-11-21T10:12:46Z", "updatedAt": "2026-11-21T10:12:51Z", "receipts": [
                    {"status": "delivered", "errorCode": null, "outcome": "APPLIED", "reason": null, "receivedAt": "2026-11-21T10:12:51Z"}]},
                 {"id": 1631, "channel": "in_app", "state": "SKIPPED", "recipient": null,
                  "reason": "customer has no in-app consent for support", "attempts": 0, "sentAt": null,
                  "updatedAt": "2026-11-21T10:12:46Z", "receipts": []}]}]}""";
    static final String NOT_FOUND = "{\"error\": \"no customer cus_unknown in Herald's customer directory\"}";
    static final String BAD_PAGE = "{\"error\": \"page must be 0 or more (0: the newest); was -1\"}";
    static final String NO_FILTER = "{\"error\": \"say what to look for: customerId, orderId or ticketId\"}";

    private final CustomerView view;

    public CustomersApi(CustomerView view) {
        this.view = view;
    }

    @Operation(summary = "Find customers by customer id, a source system's id (Stripe, Zendesk, CRM), email or phone",
            responses = @ApiResponse(responseCode = "200", description = "OK, possibly empty", content = @Content(mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = CustomerView.Found.class)), examples = @ExampleObject(value = FOUND))))
    @GetMapping("/customers")
    public List<CustomerView.Found> find(@Parameter(description = "an id, external id, email or phone number") @RequestParam String q,
                                         Principal who) {
        return view.search(q, ConsoleUser.of(who).masked());
    }

    @Operation(summary = "One customer: addresses, consent per category, suppressed addresses and identity links",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = CustomerView.Profile.class), examples = @ExampleObject(value = PROFILE))),
                    @ApiResponse(responseCode = "404", description = "No such customer", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = NOT_FOUND)))})
    @GetMapping("/customers/{id}")
    public ResponseEntity<?> customer(@PathVariable String id, Principal who) {
        return view.profile(id, ConsoleUser.of(who).masked()).<ResponseEntity<?>>map(ResponseEntity::ok).orElseGet(() -> notFound(id));
    }

    @Operation(summary = "Every notification of a customer (sent, skipped, failed), newest first, with each delivery's state and receipts",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = CustomerView.Page.class), examples = @ExampleObject(value = PAGE))),
                    @ApiResponse(responseCode = "400", description = "A page below 0 or a size below 1", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = BAD_PAGE))),
                    @ApiResponse(responseCode = "404", description = "No such customer", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = NOT_FOUND)))})
    @GetMapping("/customers/{id}/notifications")
    public ResponseEntity<?> notifications(@PathVariable String id, @RequestParam(defaultValue = "0") int page,
                                           @RequestParam(defaultValue = "50") int size, Principal who) {
        checkPage(page, size);
        boolean masked = ConsoleUser.of(who).masked();
        if (view.profile(id, masked).isEmpty()) {
            return notFound(id);
        }
        return ResponseEntity.ok(view.notifications(id, page, size, masked));
    }

    @Operation(summary = "Notifications (all, not only failures) by customer, order id and/or ticket id, newest first",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = CustomerView.Page.class), examples = @ExampleObject(value = PAGE))),
                    @ApiResponse(responseCode = "400", description = "No filter given, a page below 0 or a size below 1", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = NO_FILTER)))})
    @GetMapping("/notifications")
    public ResponseEntity<?> search(@RequestParam(required = false) String customerId, @RequestParam(required = false) String orderId,
                                    @RequestParam(required = false) String ticketId, @RequestParam(defaultValue = "0") int page,
                                    @RequestParam(defaultValue = "50") int size, Principal who) {
        checkPage(page, size);
        CustomerView.NotificationFilter filter = new CustomerView.NotificationFilter(customerId, orderId, ticketId);
        if (filter.empty()) {
            return ResponseEntity.badRequest().body(Map.of("error", "say what to look for: customerId, orderId or ticketId"));
        }
        return ResponseEntity.ok(view.search(filter, page, size, ConsoleUser.of(who).masked()));
    }

    /** A page before the first or of no rows is refused (it was answered as page 0, or a page of one, as if that had been asked). */
    private static void checkPage(int page, int size) {
        if (page < 0) {
            throw new io.herald.console.ActionRefused.InvalidInput("page must be 0 or more (0: the newest); was " + page);
        }
        if (size < 1) {
            throw new io.herald.console.ActionRefused.InvalidInput("size must be at least 1 (at most " + CustomerView.MAX_PAGE_SIZE
                    + " are returned); was " + size);
        }
    }

    private static ResponseEntity<?> notFound(String id) {
        return ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no customer " + StoredText.label(id, 64) + " in Herald's customer directory"));
    }
}
