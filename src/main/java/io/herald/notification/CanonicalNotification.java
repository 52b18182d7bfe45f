package io.herald.notification;

import java.time.Instant;
import java.util.Map;

/**
 * The contract between normalisation and dispatch. The idempotency key is business identity
 * (what a customer would call "the same message"), never a transport id.
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
}
