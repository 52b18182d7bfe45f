package io.herald.digest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The send side of customer digests: the notification that opened a digest is sent carrying the digest's events, so its
 * templates can list them. Wherever a delivery's notification is read for sending (a sender's claimed delivery, a parked
 * resend, an operator's resend), {@link #carrying} adds {@code data.digest} when the notification opened a digest that
 * others joined:
 * <pre>
 * digest: {count: 10, items: [...], first: {...}, last: {...}}
 * </pre>
 * Each item is one event's data, oldest first, with its number (1..count) and occurredAt, to which MessageContext adds
 * occurredAtLocal as to every time (the event's time in the customer's zone and the message's language), so a template lists them with
 * {@code {{#digest}}{{#items}}...{{/items}}{{/digest}}} and never prints a raw instant. A digest of the opening
 * notification alone adds nothing: the message is the type's usual one ({@code {{^digest}}...{{/digest}}}). The stored
 * notification is not changed; the members are those that joined before the digest's send fired (CustomerDigests).
 */
@Component
public class DigestMessages {

    public static final String FIELD = "digest";

    private final JdbcTemplate jdbc;
    private final NotificationCatalog catalog;
    private final ObjectMapper json;

    public DigestMessages(JdbcTemplate jdbc, NotificationCatalog catalog, ObjectMapper json) {
        this.jdbc = jdbc;
        this.catalog = catalog;
        this.json = json;
    }

    /** The notification as it is sent: with data.digest when it carries a digest of two or more events, else as it is. */
    public CanonicalNotification carrying(long notificationId, CanonicalNotification notification) {
        if (!catalog.knows(notification.type()) || catalog.digest(notification.type()) == null) {
            return notification;   // no digest for this type: no query on the way to every send
        }
        List<Map<String, Object>> members = jdbc.queryForList("""
                SELECT n.id, herald_canonical(n.id, n.received_at, n.canonical)::text AS canonical FROM customer_digest d
                JOIN customer_digest_member m ON m.digest_id = d.id JOIN notification n ON n.id = m.notification_id
                WHERE d.opened_by = ? ORDER BY n.occurred_at NULLS LAST, n.id""", notificationId);
        if (members.size() < 2) {
            return notification;
        }
        List<Map<String, Object>> items = new ArrayList<>();
        for (Map<String, Object> member : members) {
            CanonicalNotification event = read((String) member.get("canonical"));
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("number", items.size() + 1);
            if (event.occurredAt() != null) {
                item.put("occurredAt", event.occurredAt().toString());   // MessageContext adds occurredAtLocal, as for every time
            }
            if (event.data() != null) {
                event.data().forEach((k, v) -> {
                    if (v != null && !item.containsKey(k)) {
                        item.put(k, v);
                    }
                });
            }
            items.add(item);
        }
        Map<String, Object> digest = new LinkedHashMap<>();
        digest.put("count", items.size());
        digest.put("items", items);
        digest.put("first", items.get(0));
        digest.put("last", items.get(items.size() - 1));
        Map<String, Object> data = new LinkedHashMap<>(notification.data() == null ? Map.of() : notification.data());
        data.put(FIELD, digest);
        return new CanonicalNotification(notification.idempotencyKey(), notification.source(), notification.sourceEventId(),
                notification.type(), notification.customerId(), notification.occurredAt(), notification.refs(), data,
                notification.priority());
    }

    private CanonicalNotification read(String canonical) {
        try {
            return json.readValue(canonical, CanonicalNotification.class);
        } catch (IOException e) {
            throw new UncheckedIOException("a notification of a digest cannot be read back from the ledger", e);
        }
    }
}
