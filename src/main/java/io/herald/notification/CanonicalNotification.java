package io.herald.notification;

import java.time.Instant;
import java.util.Map;

/**
 * The contract between normalisation and dispatch. The idempotency key is business identity
 * (what a customer would call "the same message"), never a transport id. The customer id is
 * null only while an email-only event awaits identity resolution.
 */
public record CanonicalNotification(
        String idempotencyKey,
        String source,
        String sourceEventId,
        String type,
        String customerId,
        Instant occurredAt,
        Map<String, Object> refs,
        Map<String, Object> data,
        String priority) {

    /** The same notification for the directory's customer id (resolved from an email-only event). */
    public CanonicalNotification forCustomer(String resolvedCustomerId) {
        return new CanonicalNotification(idempotencyKey, source, sourceEventId, type, resolvedCustomerId, occurredAt, refs, data, priority);
    }
}
