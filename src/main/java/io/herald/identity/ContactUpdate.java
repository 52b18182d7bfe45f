package io.herald.identity;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CRM contact change (contact.updated) as the crm-outbox mapping emits it: a directory record, not a message.
 * {@code given}: the fields the change carries (displayName, firstName, email, phone, pushTokens, locale, timeZone, preferences); the
 * others keep the directory's values (a change that does not mention preferences leaves the customer's opt-outs alone).
 */
public record ContactUpdate(
        String customerId,
        String displayName,
        String firstName,
        String email,
        String phone,
        List<String> pushTokens,
        String locale,
        String timeZone,
        Map<String, List<String>> preferences,
        Instant updatedAt,
        Set<String> given) {

    /** Whether the change carries this field (null or empty counts: it clears it). */
    public boolean gives(String field) {
        return given.contains(field);
    }
}
