package io.herald.dispatch;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/** Reads a canonical notification off the topic and answers which channels the catalog sends it on. */
@Component
public class DispatchPlanner {

    public static final String NOTIFICATION = "heraldNotification";
    public static final String NOTIFICATION_ID = "heraldNotificationId";

    private final ObjectMapper json;
    private final NotificationCatalog catalog;
    private final NotificationLedger ledger;

    public DispatchPlanner(ObjectMapper json, NotificationCatalog catalog, NotificationLedger ledger) {
        this.json = json;
        this.catalog = catalog;
        this.ledger = ledger;
    }

    public List<String> plan(Exchange exchange) throws IOException {
        CanonicalNotification notification = json.readValue(exchange.getMessage().getBody(String.class), CanonicalNotification.class);
        exchange.setProperty(NOTIFICATION, notification);
        exchange.setProperty(NOTIFICATION_ID, ledger.idOf(notification.idempotencyKey()));
        return catalog.entry(notification.type()).channels();
    }
}
