package io.herald.dispatch;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.CustomerDirectory;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.apache.camel.Exchange;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Reads a canonical notification off the topic and answers which channels the catalog sends it on. */
@Component
public class DispatchPlanner {

    public static final String NOTIFICATION = "heraldNotification";
    public static final String NOTIFICATION_ID = "heraldNotificationId";
    public static final String KEY = "heraldIdempotencyKey";
    public static final String FIRST_SUCCESS = "heraldFirstSuccess";
    /** The customer's directory entry, read once for all the notification's channels (absent if not in the directory). */
    public static final String CUSTOMER = "heraldCustomer";

    private final ObjectMapper json;
    private final NotificationCatalog catalog;
    private final JdbcTemplate jdbc;
    private final CustomerDirectory directory;

    public DispatchPlanner(ObjectMapper json, NotificationCatalog catalog, JdbcTemplate jdbc, CustomerDirectory directory) {
        this.json = json;
        this.catalog = catalog;
        this.jdbc = jdbc;
        this.directory = directory;
    }

    /**
     * Reads the notification, its ledger id and the customer's directory entry into exchange properties
     * (and its key, for the idempotent consumer). The channels share the entry instead of each reading it.
     */
    public void read(Exchange exchange) throws IOException {
        CanonicalNotification notification = json.readValue(exchange.getMessage().getBody(String.class), CanonicalNotification.class);
        exchange.setProperty(NOTIFICATION, notification);
        exchange.setProperty(KEY, notification.idempotencyKey());
        exchange.setProperty(FIRST_SUCCESS, catalog.entry(notification.type()).firstSuccess());
        // The ledger id and the directory entry in one round trip (customer columns are null when not in the directory).
        boolean found = Boolean.TRUE.equals(jdbc.query("""
                SELECT n.id AS notification_id, c.* FROM notification n LEFT JOIN customer c ON c.customer_id = n.customer_id
                WHERE n.idempotency_key = ?""", row -> {
            if (!row.next()) {
                return false;
            }
            exchange.setProperty(NOTIFICATION_ID, row.getLong("notification_id"));
            if (row.getString("customer_id") != null) {
                exchange.setProperty(CUSTOMER, directory.toCustomer(row, 0));
            }
            return true;
        }, notification.idempotencyKey()));
        if (!found) {
            throw new IllegalStateException("notification " + notification.idempotencyKey()
                    + " is not in the ledger: it did not come through Herald's intake");
        }
    }

    /**
     * The channel routes in catalog order (first-success relies on the order), each reached as
     * direct:deliver-&lt;name&gt;. The ops webhook of a type posted in digests (catalog ops: digest, the
     * default) is ops_digest: recorded as waiting for the next digest, never posted from here.
     */
    public List<String> channels(Exchange exchange) {
        NotificationCatalog.Entry entry = catalog.entry(exchange.getProperty(NOTIFICATION, CanonicalNotification.class).type());
        return entry.opsEach() ? entry.channels()
                : entry.channels().stream().map(channel -> "ops_webhook".equals(channel) ? "ops_digest" : channel).toList();
    }
}
