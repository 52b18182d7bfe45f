package io.herald.identity;

import java.util.List;
import java.util.Map;

/** A customer as Herald's directory knows them: addresses, locale and channel preferences per category. */
public record Customer(
        String customerId,
        String displayName,
        String email,
        String phone,
        List<String> pushTokens,
        String locale,
        String timeZone,
        Map<String, List<String>> preferences) {
}
