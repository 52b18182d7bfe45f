package io.herald.identity;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** A CRM contact change (contact.updated) as the crm-outbox mapping emits it: a directory record, not a message. */
public record ContactUpdate(
        String customerId,
        String displayName,
        String email,
        String phone,
        List<String> pushTokens,
        String locale,
        String timeZone,
        Map<String, List<String>> preferences,
        Instant updatedAt) {
}
