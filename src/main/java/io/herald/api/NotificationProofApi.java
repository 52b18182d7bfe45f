package io.herald.api;

import java.security.Principal;
import java.util.Map;

import io.herald.config.HeraldOpenApi;
import io.herald.console.ConsoleUser;
import io.herald.proof.DeliveryProof;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** Proof of delivery of one notification, as JSON; viewers may read it, masked (the console's printable page shows the same). */
@RestController
@Tag(name = "Proof of delivery", description = "What was sent to whom, when, through which provider, with every attempt and a digest of the content")
public class NotificationProofApi {

    static final String EXAMPLE = """
            {"notificationId": 812, "idempotencyKey": "billing:invoice.payment_failed:in_1MtHbE:attempt-2",
             "type": "billing.payment_failed", "source": "billing", "sourceEventId": "evt_1NG8Du2", "customerId": "cus_NffrFeUfNV2Hib",
             "state": "ROUTED", "occurredAt": "2026-11-21T10:00:00Z", "receivedAt": "2026-11-21T10:00:01Z",
             "generatedAt": "2026-11-22T08:00:00Z", "viewedAs": "viewer", "masked": true,
             "deliveries": [{"id": 4711, "channel": "sms", "provider": "SMS provider (Twilio-style Messages API) at api.twilio.com",
               "recipient": "+155…0123", "state": "SENT", "reason": null, "createdAt": "2026-11-21T10:00:01Z",
               "sentAt": "2026-11-21T10:00:02Z", "updatedAt": "2026-11-21T10:00:02Z", "providerMessageId": "SM9f1c2d",
               "subject": null, "subjectSha256": null, "renderedBody": "Your payment of 49.00 USD failed.",
               "contentSha256": "9c1d4b6e0f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4",
               "attempts": [{"at": "2026-11-21T10:00:02Z", "outcome": "SENT", "providerStatus": 201, "reason": null}],
               "resends": [], "receipt": null}],
             "operatorActions": [],
             "suppressions": [{"channel": "sms", "address": "+155…0123", "reason": "dead number: carrier error 21614 …",
               "since": "2026-11-21T10:00:05Z", "liftedAt": null, "liftedBy": null, "liftComment": null}],
             "ticketNotes": [{"channel": "email", "outcome": "SENT", "ticketId": "35436", "state": "POSTED",
               "text": "Customer notified by email (j***@example.org) at 10:00 UTC on 2026-11-21: 'Your request #35436 …'.",
               "reason": null, "createdAt": "2026-11-21T10:00:03Z", "postedAt": "2026-11-21T10:00:04Z"}],
             "notes": ["This copy was made for a viewer: its subject, renderedBody, reasons and comments are masked …",
               "contentSha256 and subjectSha256 are SHA-256 (lower-case hex) of the UTF-8 bytes of renderedBody and subject exactly as an operator's or admin's copy of this proof gives them …"],
             "payloadRemoved": null}""";

    private final DeliveryProof proof;

    public NotificationProofApi(DeliveryProof proof) {
        this.proof = proof;
    }

    @Operation(summary = "Proof of delivery of one notification: deliveries, recipients (masked for viewers), provider message ids,"
            + " every attempt and receipt, operator actions, the addresses its receipts suppressed, the notes on the customer's helpdesk"
            + " ticket, and a SHA-256 digest of each rendered content",
            responses = {@ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = DeliveryProof.Proof.class), examples = @ExampleObject(value = EXAMPLE))),
                    @ApiResponse(responseCode = "404", description = "No such notification", content = @Content(mediaType = "application/json",
                            schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"no notification 812\"}")))})
    @GetMapping("/api/notifications/{id}/proof")
    public ResponseEntity<?> proof(@PathVariable long id, Principal who) {
        ConsoleUser user = ConsoleUser.of(who);
        return proof.of(id, user.masked(), user.role()).<ResponseEntity<?>>map(ResponseEntity::ok)
                .orElseGet(() -> ResponseEntity.status(HttpStatus.NOT_FOUND).body(Map.of("error", "no notification " + id)));
    }
}
