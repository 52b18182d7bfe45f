package io.herald.identity;

import java.util.List;
import java.util.Map;

/**
 * A customer as Herald's directory knows them: addresses, locale and channel preferences per category. firstName is what a
 * message greets them by, as the CRM gave it: null when not known (then the first word of displayName), "" when their name
 * has none.
 */
public record Customer(
        String customerId,
        String displayName,
        String email,
        String phone,
        List<String> pushTokens,
        String locale,
        String timeZone,
        Map<String, List<String>> preferences,
        String firstName) {

    /** A customer whose first name the directory does not know apart from their display name. */
    public Customer(String customerId, String displayName, String email, String phone, List<String> pushTokens, String locale,
                    String timeZone, Map<String, List<String>> preferences) {
        this(customerId, displayName, email, phone, pushTokens, locale, timeZone, preferences, null);
    }
}
