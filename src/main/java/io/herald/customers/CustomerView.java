package io.herald.customers;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

import io.herald.console.ViewerMasking;
import io.herald.identity.Customer;
import io.herald.identity.CustomerDirectory;
import io.herald.identity.CustomerLinks;
import io.herald.identity.CustomerNames;
import io.herald.logging.Masking;
import io.herald.receipts.Suppressions;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * What an agent or operator sees of one customer (issue 13 point 5): found by customer id, a source system's id,
 * email or phone; their addresses, consent (channels per category), suppressed addresses, identity links, and every
 * notification they were sent, skipped or failed, newest first, each delivery with its final state and the receipts
 * the provider sent. Read-only. Viewers get it masked: emails, phone numbers, name, push tokens and free-text reasons.
 */
@Component
public class CustomerView {

    /** A search hit, and which key matched. */
    public record Found(String customerId, String displayName, String email, String phone, String matchedBy) {
    }

    /** An address that is not sent to, and why (receipts/Suppressions). */
    public record SuppressedAddress(String channel, String reason) {
    }

    public record Profile(String customerId, String displayName, String email, String phone, List<String> pushTokens,
                          String locale, String timeZone, Map<String, List<String>> consent,
                          List<SuppressedAddress> suppressions, List<CustomerLinks.Link> links) {
    }

    public record Receipt(String status, String errorCode, String outcome, String reason, Instant receivedAt) {
    }

    public record Delivery(long id, String channel, String state, String recipient, String reason, int attempts,
                           Instant sentAt, Instant updatedAt, List<Receipt> receipts) {
    }

    public record Notification(long id, String type, String source, String sourceEventId, String priority, String state,
                               String reason, String orderId, String ticketId, Instant occurredAt, Instant receivedAt,
                               List<Delivery> deliveries) {
    }

    /** One page of a customer's notifications, newest first; nextPage is null on the last page. */
    public record Page(String customerId, int page, int size, Integer nextPage, List<Notification> notifications) {
    }

    /** What to look notifications up by; blank fields do not filter, at least one must be set. */
    public record NotificationFilter(String customerId, String orderId, String ticketId) {
        boolean empty() {
            return blank(customerId) && blank(orderId) && blank(ticketId);
        }
    }

    public static final int MAX_PAGE_SIZE = 200;

    private final JdbcTemplate jdbc;
    private final CustomerDirectory directory;
    private final CustomerLinks links;
    private final Suppressions suppressions;
    private final ViewerMasking masking;
    private final CustomerNames customerNames;

    public CustomerView(JdbcTemplate jdbc, CustomerDirectory directory, CustomerLinks links, Suppressions suppressions,
                        ViewerMasking masking, CustomerNames customerNames) {
        this.jdbc = jdbc;
        this.customerNames = customerNames;
        this.directory = directory;
        this.links = links;
        this.suppressions = suppressions;
        this.masking = masking;
    }

    /**
     * Customers whose id, source-system id, email (any case) or phone (spaces and dashes ignored; 00 or no + before the country
     * code taken as +) is the query.
     */
    public List<Found> search(String query, boolean masked) {
        if (blank(query)) {
            return List.of();
        }
        String q = query.strip();
        // By its digits, as inbound SMS find their customer (CustomerDirectory.findByPhone, V27's index): "+44 7700 900123",
        // "0044 7700 900123" and "447700900123" find +447700900123, however the directory wrote it; a national number
        // (07700 900123) names no country and finds only one stored the same way.
        // Only a query written like a phone number: "cus_123" is no number whose digits are 123.
        String digits = q.matches("[0-9+()./\\s\\p{Zs}-]{6,}") ? q.replaceAll("[^0-9]", "").replaceFirst("^00", "") : "not a phone";
        List<Found> hits = jdbc.query("""
                SELECT c.customer_id, c.display_name, c.email, c.phone, 'customer id' AS matched_by FROM customer c WHERE c.customer_id = ?
                UNION ALL
                SELECT c.customer_id, c.display_name, c.email, c.phone, l.system || ' id' FROM customer_link l
                  JOIN customer c ON c.customer_id = l.customer_id WHERE l.external_id = ?
                UNION ALL
                SELECT c.customer_id, c.display_name, c.email, c.phone, 'email' FROM customer c WHERE lower(c.email) = lower(?)
                UNION ALL
                SELECT c.customer_id, c.display_name, c.email, c.phone, 'phone' FROM customer c
                  WHERE regexp_replace(regexp_replace(c.phone, '[^0-9]', '', 'g'), '^00', '') = ?
                LIMIT 50""",
                (row, n) -> new Found(row.getString(1), row.getString(2), row.getString(3), row.getString(4), row.getString(5)),
                q, q, q, digits);
        Map<String, Found> unique = new LinkedHashMap<>();
        for (Found hit : hits) {
            unique.merge(hit.customerId(), hit, (first, again) -> new Found(first.customerId(), first.displayName(), first.email(),
                    first.phone(), first.matchedBy() + ", " + again.matchedBy()));
        }
        return unique.values().stream().map(f -> masked
                ? new Found(f.customerId(), name(f.displayName()), Masking.email(f.email()), Masking.phone(f.phone()), f.matchedBy())
                : f).toList();
    }

    public Optional<Profile> profile(String customerId, boolean masked) {
        return directory.find(customerId).map(customer -> profile(customer, masked));
    }

    private Profile profile(Customer c, boolean masked) {
        List<SuppressedAddress> suppressed = new ArrayList<>();
        addSuppression(suppressed, "email", c.email());
        addSuppression(suppressed, "sms", c.phone());
        UnaryOperator<String> text = masked ? masking::text : UnaryOperator.identity();
        return new Profile(c.customerId(),
                masked ? name(c.displayName()) : c.displayName(),
                masked ? Masking.email(c.email()) : c.email(),
                masked ? Masking.phone(c.phone()) : c.phone(),
                c.pushTokens() == null ? List.of() : c.pushTokens().stream().map(t -> masked ? token(t) : t).toList(),
                c.locale(), c.timeZone(), c.preferences(),
                suppressed.stream().map(s -> new SuppressedAddress(s.channel(), text.apply(s.reason()))).toList(),
                links.of(c.customerId()).stream().map(l -> masked ? new CustomerLinks.Link(l.system(), l.externalId(), l.customerId(),
                        text.apply(l.origin()), l.linkedAt()) : l).toList());
    }

    private void addSuppression(List<SuppressedAddress> suppressed, String channel, String address) {
        String reason = suppressions.reasonFor(channel, address);
        if (reason != null) {
            suppressed.add(new SuppressedAddress(channel, reason));
        }
    }

    /** A customer's notifications, newest first, a page at a time (page 0 first). */
    public Page notifications(String customerId, int page, int size, boolean masked) {
        int bounded = Math.max(1, Math.min(size, MAX_PAGE_SIZE));
        int from = Math.max(0, page);
        List<Notification> found = find("n.customer_id = ?", List.of(customerId), from, bounded, masked);
        return new Page(customerId, from, bounded, found.size() > bounded ? from + 1 : null,
                found.size() > bounded ? found.subList(0, bounded) : found);
    }

    /** Notifications (all of them, not only failures) by customer, order id and/or ticket id, newest first. */
    public Page search(NotificationFilter filter, int page, int size, boolean masked) {
        int bounded = Math.max(1, Math.min(size, MAX_PAGE_SIZE));
        int from = Math.max(0, page);
        List<String> where = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        if (!blank(filter.customerId())) {
            where.add("n.customer_id = ?");
            args.add(filter.customerId().strip());
        }
        if (!blank(filter.orderId())) {
            where.add("n.canonical -> 'refs' ->> 'orderId' = ?");
            args.add(filter.orderId().strip());
        }
        if (!blank(filter.ticketId())) {
            where.add("n.canonical -> 'refs' ->> 'ticketId' = ?");
            args.add(filter.ticketId().strip());
        }
        if (where.isEmpty()) {
            return new Page(null, from, bounded, null, List.of());
        }
        List<Notification> found = find(String.join(" AND ", where), args, from, bounded, masked);
        return new Page(filter.customerId(), from, bounded, found.size() > bounded ? from + 1 : null,
                found.size() > bounded ? found.subList(0, bounded) : found);
    }

    /** One more than the page, so the caller knows whether another page follows; deliveries and receipts in two more queries. */
    private List<Notification> find(String where, List<Object> whereArgs, int page, int size, boolean masked) {
        List<Object> args = new ArrayList<>(whereArgs);
        args.add(size + 1);
        args.add((long) page * size);
        Map<Long, String> customerOf = new HashMap<>();
        Map<String, List<String>> names = new HashMap<>();
        List<Notification> notifications = jdbc.query("""
                SELECT n.id, n.customer_id, n.type, n.source, n.source_event_id, n.canonical ->> 'priority' AS priority, n.state, n.reason,
                       n.canonical -> 'refs' ->> 'orderId' AS order_id, n.canonical -> 'refs' ->> 'ticketId' AS ticket_id,
                       n.occurred_at, n.received_at
                FROM notification_all n WHERE\s""" + where + " ORDER BY n.received_at DESC, n.id DESC LIMIT ? OFFSET ?",
                (row, n) -> {
                    customerOf.put(row.getLong("id"), row.getString("customer_id"));
                    return new Notification(row.getLong("id"), row.getString("type"), row.getString("source"),
                        row.getString("source_event_id"), row.getString("priority"), row.getString("state"),
                        reason(row.getString("reason"), row.getString("customer_id"), masked, names),
                        row.getString("order_id"), row.getString("ticket_id"), instant(row, "occurred_at"),
                        instant(row, "received_at"), new ArrayList<>());
                },
                args.toArray());
        if (notifications.isEmpty()) {
            return notifications;
        }
        Map<Long, Notification> byId = new LinkedHashMap<>();
        notifications.forEach(n -> byId.put(n.id(), n));
        Map<Long, Delivery> deliveries = new LinkedHashMap<>();
        Map<Long, String> customerOfDelivery = new HashMap<>();
        jdbc.query(con -> {
            var statement = con.prepareStatement("""
                    SELECT id, notification_id, channel, state, recipient_masked, reason, attempts, sent_at, updated_at
                    FROM delivery_all WHERE notification_id = ANY(?) ORDER BY id""");
            statement.setArray(1, con.createArrayOf("bigint", byId.keySet().toArray()));
            return statement;
        }, row -> {
            String customerId = customerOf.get(row.getLong("notification_id"));
            customerOfDelivery.put(row.getLong("id"), customerId);
            Delivery d = new Delivery(row.getLong("id"), row.getString("channel"), row.getString("state"),
                    row.getString("recipient_masked"), reason(row.getString("reason"), customerId, masked, names),
                    row.getInt("attempts"), instant(row, "sent_at"), instant(row, "updated_at"), new ArrayList<>());
            deliveries.put(d.id(), d);
            byId.get(row.getLong("notification_id")).deliveries().add(d);
        });
        if (!deliveries.isEmpty()) {
            jdbc.query(con -> {
                var statement = con.prepareStatement("""
                        SELECT delivery_id, status, error_code, outcome, reason, received_at
                        FROM delivery_receipt WHERE delivery_id = ANY(?) ORDER BY id""");
                statement.setArray(1, con.createArrayOf("bigint", deliveries.keySet().toArray()));
                return statement;
            }, row -> {
                deliveries.get(row.getLong("delivery_id")).receipts().add(new Receipt(row.getString("status"),
                        row.getString("error_code"), row.getString("outcome"),
                        reason(row.getString("reason"), customerOfDelivery.get(row.getLong("delivery_id")), masked, names),
                        instant(row, "received_at")));
            });
        }
        return notifications;
    }

    /**
     * A reason as this reader sees it: for a viewer, emails, phone numbers and the customer's names masked, since reasons
     * quote people's words ("rejected by approver: Jenny Rosen disputes the amount"), as the notification's page masks them.
     * {@code names}: the customers' names read so far, by id.
     */
    private String reason(String reason, String customerId, boolean masked, Map<String, List<String>> names) {
        if (!masked || reason == null) {
            return reason;
        }
        return masking.message(reason, names.computeIfAbsent(customerId == null ? "" : customerId, customerNames::of));
    }

    private static Instant instant(ResultSet row, String column) throws SQLException {
        Timestamp at = row.getTimestamp(column);
        return at == null ? null : at.toInstant();
    }

    private static String name(String name) {
        return name == null || name.isEmpty() ? name : name.charAt(0) + "•••";
    }

    private static String token(String token) {
        return token == null || token.length() < 8 ? "•••" : token.substring(0, 6) + "•••";
    }

    static boolean blank(String text) {
        return text == null || text.isBlank();
    }
}
