package io.herald.config;

/** Example requests and answers shown in the OpenAPI document (see HeraldOpenApi), as a script would see them. */
public final class ApiExamples {

    private ApiExamples() {
    }

    public static final String NOT_FOUND = "{\"error\": \"no delivery 4711\"}";
    public static final String CONFLICT = "{\"error\": \"delivery 4711 is SENDING: it can be retried once it has failed or is parked\"}";
    public static final String RESEND_UNCONFIRMED = "{\"error\": \"a resend sends the customer a second copy; "
            + "confirm it with {\\\"confirm\\\": true, \\\"comment\\\": \\\"why\\\"}\"}";

    public static final String DELIVERY = """
            {"id": 4711, "idempotency_key": "billing:invoice.payment_failed:in_1MtHbE:attempt-2", "type": "billing.payment_failed",
             "customer_id": "cus_NffrFeUfNV2Hib", "channel": "sms", "state": "FAILED",
             "reason": "SMS provider rejected +155…0123: not a mobile number; permanent, not retried",
             "recipient_masked": "+155…0123", "subject": null, "rendered_body": "Your payment of 49.00 USD failed.",
             "provider_message_id": null, "attempts": 1, "parked_count": 0, "next_attempt_at": null,
             "created_at": "2026-11-21T10:00:02Z", "sent_at": null, "updated_at": "2026-11-21T10:00:03Z",
             "attempts_log": [{"attempted_at": "2026-11-21T10:00:03Z", "outcome": "FAILED", "provider_status": 400,
                               "reason": "SMS provider rejected +155…0123: not a mobile number; permanent, not retried"}],
             "resends": []}""";

    public static final String RESEND_REQUEST = "{\"confirm\": true, \"comment\": \"customer asked for a copy\"}";
    public static final String RESEND_RESULT = """
            {"deliveryId": 4711, "resendId": 12, "requestedBy": "operator", "state": "SENT",
             "reason": "resent on request: customer asked for a copy", "message": "2nd resend of delivery 4711: sent"}""";

    public static final String ACTION_REQUEST = "{\"comment\": \"provider fixed the number format\"}";
    public static final String OUTCOME = """
            {"action": "retry", "target": "delivery", "targetId": 4711, "notificationId": 815, "state": "PENDING",
             "message": "delivery 4711 (sms) queued again with the same idempotency key"}""";
    public static final String BULK_RETRY_REQUEST = """
            {"confirm": true, "comment": "SMS provider back", "channel": "sms", "state": "PARKED", "from": "2026-11-21"}""";
    public static final String BULK_RETRY_RESULT = """
            {"retried": 1, "filter": "channel=sms, state=PARKED, from=2026-11-21",
             "deliveries": [{"action": "retry", "target": "delivery", "targetId": 4711, "notificationId": 815, "state": "PENDING",
                             "message": "delivery 4711 (sms) queued again with the same idempotency key"}]}""";

    public static final String FAILURES = """
            [{"kind": "delivery", "id": 4711, "notificationId": 815, "source": "billing", "type": "billing.payment_failed",
              "channel": "sms", "customerId": "cus_NffrFeUfNV2Hib", "orderId": null, "ticketId": null, "state": "FAILED",
              "reason": "SMS provider rejected +155…0123: not a mobile number; permanent, not retried",
              "at": "2026-11-21T10:00:03Z", "windowMissed": false},
             {"kind": "quarantine", "id": 93, "notificationId": null, "source": "support", "type": null, "channel": null,
              "customerId": null, "orderId": null, "ticketId": "35436", "state": "QUARANTINED",
              "reason": "the ticket's requester 9912 is not in Herald's directory: add the customer, then re-drive",
              "at": "2026-11-21T09:58:00Z", "windowMissed": false}]""";

    public static final String NOTIFICATION = """
            {"id": 815, "idempotencyKey": "billing:invoice.payment_failed:in_1MtHbE:attempt-2", "source": "billing",
             "sourceEventId": "evt_1NG8Du2", "type": "billing.payment_failed", "customerId": "cus_NffrFeUfNV2Hib",
             "orderId": null, "ticketId": null, "state": "ROUTED", "occurredAt": "2026-11-21T10:00:00Z",
             "receivedAt": "2026-11-21T10:00:01Z", "windowDeadline": null, "duplicatesSuppressed": 0,
             "deliveries": [{"id": 4711, "channel": "sms", "state": "FAILED",
                             "reason": "SMS provider rejected +155…0123: not a mobile number; permanent, not retried",
                             "recipient": "+155…0123", "attempts": 1, "updatedAt": "2026-11-21T10:00:03Z", "windowMissedAt": null,
                             "retryable": true, "dismissable": true, "resendable": false}],
             "timeline": [{"at": "2026-11-21T10:00:00Z", "channel": null, "what": "Occurred at the source",
                           "detail": "billing event evt_1NG8Du2", "actor": null}],
             "rawPayload": "{\\"id\\": \\"evt_1NG8Du2\\", \\"type\\": \\"invoice.payment_failed\\"}",
             "canonical": "{\\"type\\": \\"billing.payment_failed\\"}"}""";

    public static final String WEEKLY = """
            {"week": "2026-W47", "from": "2026-11-16T00:00:00Z", "to": "2026-11-23T00:00:00Z", "failures": 3,
             "byReason": [{"key": "SMS provider rejected the number", "count": 2}], "bySource": [{"key": "billing", "count": 3}],
             "byChannel": [{"key": "sms", "count": 3}], "byType": [{"key": "billing.payment_failed", "count": 3}], "resolved": 1,
             "medianTimeToResolution": "PT2H", "p90TimeToResolution": "PT2H", "maxTimeToResolution": "PT2H", "windowMisses": 0,
             "windowMissesByType": [], "duplicatesSuppressed": 4, "openItems": 1,
             "open": [{"kind": "delivery", "id": 4711, "notificationId": 815, "state": "FAILED",
                       "reason": "SMS provider rejected +155…0123: not a mobile number; permanent, not retried",
                       "since": "2026-11-21T10:00:03Z"}],
             "receipts": [{"channel": "email", "delivered": 1830, "bounced": 12, "undelivered": 3, "complained": 1},
                          {"channel": "sms", "delivered": 911, "bounced": 0, "undelivered": 7, "complained": 0}],
             "lateDropped": 2, "lateDroppedByType": [{"key": "billing.payment_failed / email", "count": 1},
                                                     {"key": "billing.payment_failed / sms", "count": 1}],
             "lateHeld": 0, "lateHeldByType": []}""";
    public static final String WEEKLY_CSV = """
            section,key,count
            week,2026-W47 (2026-11-16T00:00:00Z to 2026-11-23T00:00:00Z),
            failures,total,3
            """;

    public static final String QUARANTINE_LIST = """
            [{"id": 93, "source": "support", "sourceEventId": "zd_35436_1763719200", "outcome": "QUARANTINED", "step": "identity",
              "reason": "the ticket's requester 9912 is not in Herald's directory: add the customer, then re-drive",
              "status": "OPEN", "redriveCount": 0, "redriveOutcome": null,
              "createdAt": "2026-11-21T09:58:00Z", "updatedAt": "2026-11-21T09:58:00Z"}]""";
    public static final String QUARANTINED = """
            {"id": 93, "source": "support", "sourceEventId": "zd_35436_1763719200", "outcome": "QUARANTINED", "step": "identity",
             "reason": "the ticket's requester 9912 is not in Herald's directory: add the customer, then re-drive",
             "status": "OPEN", "redriveCount": 0, "redriveOutcome": null,
             "createdAt": "2026-11-21T09:58:00Z", "updatedAt": "2026-11-21T09:58:00Z",
             "rawPayload": "{\\"type\\": \\"ticket.updated\\", \\"detail\\": {\\"id\\": \\"35436\\", \\"requester_id\\": \\"9912\\"}}"}""";
    public static final String REDRIVE_RESULT = """
            {"id": 93, "status": "REDRIVEN", "outcome": "ROUTE", "reason": null,
             "notificationKey": "support:ticket.updated:35436:1763719200"}""";
    public static final String QUARANTINE_NOT_FOUND = "{\"error\": \"no quarantined or ignored event 93\"}";

    public static final String INBOX = """
            [{"id": 51, "type": "support.ticket_replied", "title": "We answered your ticket 35436",
              "body": "Our support team replied to your ticket.", "createdAt": "2026-11-21T10:00:05Z", "readAt": null}]""";
    public static final String INBOX_NOT_FOUND = "{\"error\": \"customer cus_NffrFeUfNV2Hib has no inbox message 51\"}";
}
