package io.herald.dispatch;

import java.util.HashMap;
import java.util.Map;

import io.herald.identity.Customer;
import io.herald.notification.CanonicalNotification;

/** What a template may use: the notification's data and refs at the top level, plus customer.*. */
final class MessageContext {

    private MessageContext() {
    }

    static Map<String, Object> of(CanonicalNotification notification, Customer customer) {
        Map<String, Object> context = new HashMap<>();
        notification.refs().forEach((k, v) -> {
            if (v != null) {
                context.put(k, v);
            }
        });
        notification.data().forEach((k, v) -> {
            if (v != null) {
                context.put(k, v);
            }
        });
        Map<String, Object> who = new HashMap<>();
        who.put("id", customer.customerId());
        if (customer.displayName() != null) {
            who.put("name", customer.displayName());
            who.put("firstName", customer.displayName().split(" ")[0]);
        }
        context.put("customer", who);
        context.put("type", notification.type());
        return context;
    }
}
