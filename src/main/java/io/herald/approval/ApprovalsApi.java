package io.herald.approval;

import java.io.IOException;
import java.security.Principal;
import java.util.List;
import java.util.Map;

import io.herald.config.HeraldOpenApi;
import io.herald.dispatch.DeliveryResend;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Notifications awaiting approval, for scripts and approvers: the list (with what each channel would send;
 * recipients masked for viewers), approve and reject with a comment (approver role; audited; four eyes); and the same for
 * operators' resends held for approval (/api/approvals/resends).
 */
@RestController
@Tag(name = "Approvals", description = "Notifications held for an approver before they are sent")
@RequestMapping("/api/approvals")
public class ApprovalsApi {

    static final int PAGE_SIZE = 200;
    static final String LIST_EXAMPLE = """
            [{"notificationId": 4211, "type": "billing.refund_issued", "customerId": "cus_RkT4aB7cD9eF1g",
              "rule": "billing.refund_issued with amountRefunded 1250.00 GBP is above the approval threshold 1000 (config/catalog.yaml)",
              "requestedAt": "2026-11-21T10:00:02Z", "expiresAt": "2026-11-22T10:00:02Z", "triggeredBy": [],
              "channels": [{"channel": "email", "recipient": "o***@example.com", "recipientMasked": "o***@example.com",
                            "headline": "Your refund of 1250.00 GBP", "text": "Hello Olivia, we refunded 1250.00 GBP ...", "problem": null}],
              "previewDigest": "9f2c4e0b7a1d3c5e8f6a2b4d0c9e7f1a3b5d7c9e1f3a5b7d9c1e3f5a7b9d1c3e", "reopenedBecause": null}]""";
    static final String DECISION_REQUEST = "{\"comment\": \"refund agreed with the customer by phone, ticket 5521\","
            + " \"previewDigest\": \"9f2c4e0b7a1d3c5e8f6a2b4d0c9e7f1a3b5d7c9e1f3a5b7d9c1e3f5a7b9d1c3e\"}";
    static final String CHANGED = "{\"error\": \"notification 4211 would not go out as you were shown it: its message or recipient changed"
            + " since (a template, the catalog or the customer's details were edited). Review it again and approve what is shown now\"}";
    static final String APPROVED = """
            {"notificationId": 4211, "state": "APPROVED", "decidedBy": "approver", "comment": "refund agreed with the customer by phone",
             "channels": ["email"], "message": "notification 4211 approved: 1 delivery queued (email)"}""";
    static final String REJECTED = """
            {"notificationId": 4211, "state": "REJECTED", "decidedBy": "approver", "comment": "amount is wrong, billing reissues it",
             "channels": [], "message": "notification 4211 rejected: 1 delivery REJECTED, nothing sent"}""";
    static final String REFUSED = "{\"error\": \"notification 4211 is already APPROVED by approver at 2026-11-21T10:05:00Z: nothing more to decide\"}";
    static final String FOUR_EYES = "{\"error\": \"operator may not approve notification 4211: they triggered or edited it (see its timeline), and four eyes means another approver decides\"}";

    /**
     * {"comment": "why"}: required. previewDigest: to approve a notification, the previewDigest of the listing the approver
     * read; the approval is refused (409) when the message would no longer go out as shown. Without it, the approval is not
     * pinned to what was read.
     */
    public record DecisionRequest(String comment, String previewDigest) {
    }

    private final Approvals approvals;
    private final ResendApprovals resends;
    private final DeliveryResend resend;

    public ApprovalsApi(Approvals approvals, ResendApprovals resends, DeliveryResend resend) {
        this.approvals = approvals;
        this.resends = resends;
        this.resend = resend;
    }

    static final String RESEND_LIST = """
            [{"resendId": 77, "resend": "2nd resend of delivery 9120", "deliveryId": 9120, "notificationId": 4211, "type": "billing.refund_issued", "customerId": "cus_RkT4aB7cD9eF1g",
              "channel": "email", "rule": "a resend of billing.refund_issued with amountRefunded 1250.00 GBP is above the approval threshold 1000 (config/catalog.yaml)",
              "requestedBy": "operator", "reason": "customer lost the mail", "requestedAt": "2026-11-22T09:00:00Z", "expiresAt": "2026-11-23T09:00:00Z",
              "message": {"channel": "email", "recipient": "o***@example.com", "recipientMasked": "o***@example.com",
                          "headline": "Your refund of 1250.00 GBP", "text": "Hello Olivia, we refunded 1250.00 GBP ...", "problem": null},
              "previewDigest": "4b1d3c5e8f6a2b4d0c9e7f1a3b5d7c9e1f3a5b7d9c1e3f5a7b9d1c3e9f2c4e0b"}]""";
    static final String RESEND_APPROVED = """
            {"decision": {"resendId": 77, "deliveryId": 9120, "notificationId": 4211, "state": "APPROVED", "decidedBy": "approver",
                          "comment": "confirmed with the customer"},
             "resend": {"deliveryId": 9120, "resendId": 77, "requestedBy": "operator", "state": "SENT", "reason": null}}""";
    static final String RESEND_REJECTED = """
            {"resendId": 77, "deliveryId": 9120, "notificationId": 4211, "state": "REJECTED", "decidedBy": "approver",
             "comment": "already refunded twice"}""";
    static final String RESEND_FOUR_EYES = "{\"error\": \"operator may not approve the 2nd resend of delivery 9120: they asked for it, and four eyes means another approver decides\"}";
    static final String RESEND_REFUSED = "{\"error\": \"the 2nd resend of delivery 9120 is already APPROVED by approver at 2026-11-22T09:05:00Z: nothing more to decide\"}";
    static final String RESEND_UNKNOWN = "{\"error\": \"resend 77 is not awaiting approval (no such resend, or its notification's type needs none)\"}";

    @Operation(summary = "Resends awaiting approval (an operator's resend of a notification whose type needs approval), the first to"
            + " expire first, with who asked for it and why",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ResendApprovals.Pending.class)), examples = @ExampleObject(value = RESEND_LIST))))
    @GetMapping("/resends")
    public List<ResendApprovals.Pending> awaitingResends(Principal who) {
        return resends.awaiting(Approver.of(who).masked(), PAGE_SIZE);
    }

    /** An approved resend: the decision, and what its send did (SENT, PARKED, FAILED... with the reason). */
    public record ResendApproved(ResendApprovals.Decision decision, DeliveryResend.Result resend) {
    }

    @Operation(summary = "Approve a held resend with a comment (approver; audited): it is sent now, one more copy; refused to the operator"
            + " who asked for it (four eyes)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = DecisionRequest.class), examples = @ExampleObject(value = DECISION_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Approved and sent", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ResendApproved.class), examples = @ExampleObject(value = RESEND_APPROVED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: an approval needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "403", description = "Four eyes: the caller asked for the resend", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = RESEND_FOUR_EYES))),
                    @ApiResponse(responseCode = "404", description = "Not awaiting approval", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = RESEND_UNKNOWN))),
                    @ApiResponse(responseCode = "409", description = "Already decided or expired", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = RESEND_REFUSED)))})
    @PostMapping("/resends/{resendId}/approve")
    public ResendApproved approveResend(@PathVariable long resendId, @RequestBody(required = false) DecisionRequest request, Principal who)
            throws IOException {
        ResendApprovals.Decision decision = resends.approve(resendId, Approver.of(who), request == null ? null : request.comment(),
                request == null ? null : request.previewDigest());
        return new ResendApproved(decision, resend.sendApproved(resendId));
    }

    @Operation(summary = "Reject a held resend with a comment (approver; audited): it ends REJECTED with the approver's words, not sent",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = DecisionRequest.class), examples = @ExampleObject(value = DECISION_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Rejected", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = ResendApprovals.Decision.class), examples = @ExampleObject(value = RESEND_REJECTED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: a rejection needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "404", description = "Not awaiting approval", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = RESEND_UNKNOWN))),
                    @ApiResponse(responseCode = "409", description = "Already decided or expired", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = RESEND_REFUSED)))})
    @PostMapping("/resends/{resendId}/reject")
    public ResendApprovals.Decision rejectResend(@PathVariable long resendId, @RequestBody(required = false) DecisionRequest request,
                                                 Principal who) {
        return resends.reject(resendId, Approver.of(who).name(), request == null ? null : request.comment());
    }

    @Operation(summary = "Notifications awaiting approval, the first to expire first, with each channel's rendered message and recipient"
            + " (masked for viewers); reopenedBecause says why one approved before awaits approval again (its message changed)",
            responses = @ApiResponse(responseCode = "200", description = "OK", content = @Content(mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = Approvals.Pending.class)), examples = @ExampleObject(value = LIST_EXAMPLE))))
    @GetMapping
    public List<Approvals.Pending> awaiting(Principal who) {
        return approvals.awaiting(Approver.of(who).masked(), PAGE_SIZE);
    }

    @Operation(summary = "Approve with a comment (approver; audited): the deliveries are queued and sent; refused to the person who"
            + " triggered or edited the notification (four eyes)",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = DecisionRequest.class), examples = @ExampleObject(value = DECISION_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Approved", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = Approvals.Decision.class), examples = @ExampleObject(value = APPROVED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: an approval needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "403", description = "Four eyes: the caller triggered or edited it", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = FOUR_EYES))),
                    @ApiResponse(responseCode = "404", description = "Not awaiting approval", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"notification 4211 is not awaiting approval (no such notification, or its type needs none)\"}"))),
                    @ApiResponse(responseCode = "409", description = "Already decided or expired, or the message changed since the approver read it (previewDigest)", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = {@ExampleObject(name = "decided", value = REFUSED), @ExampleObject(name = "changed", value = CHANGED)}))})
    @PostMapping("/{notificationId}/approve")
    public Approvals.Decision approve(@PathVariable long notificationId, @RequestBody(required = false) DecisionRequest request, Principal who) {
        return approvals.approve(notificationId, Approver.of(who), request == null ? null : request.comment(),
                request == null ? null : request.previewDigest());
    }

    @Operation(summary = "Reject with a comment (approver; audited): the deliveries end REJECTED with the approver's words, nothing is sent",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = DecisionRequest.class), examples = @ExampleObject(value = DECISION_REQUEST))),
            responses = {@ApiResponse(responseCode = "200", description = "Rejected", content = @Content(mediaType = "application/json",
                    schema = @Schema(implementation = Approvals.Decision.class), examples = @ExampleObject(value = REJECTED))),
                    @ApiResponse(responseCode = "400", description = "No comment given", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"say why: a rejection needs a comment for the record\"}"))),
                    @ApiResponse(responseCode = "404", description = "Not awaiting approval", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = "{\"error\": \"notification 4211 is not awaiting approval (no such notification, or its type needs none)\"}"))),
                    @ApiResponse(responseCode = "409", description = "Already decided or expired", content = @Content(mediaType = "application/json", schema = @Schema(ref = HeraldOpenApi.ERROR), examples = @ExampleObject(value = REFUSED)))})
    @PostMapping("/{notificationId}/reject")
    public Approvals.Decision reject(@PathVariable long notificationId, @RequestBody(required = false) DecisionRequest request, Principal who) {
        return approvals.reject(notificationId, Approver.of(who).name(), request == null ? null : request.comment());
    }

    @ExceptionHandler(ApprovalRefused.class)
    public ResponseEntity<Map<String, String>> refused(ApprovalRefused e) {
        return ResponseEntity.status(e.status()).body(Map.of("error", e.getMessage()));
    }
}
