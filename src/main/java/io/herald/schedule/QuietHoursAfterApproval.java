package io.herald.schedule;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.identity.CustomerDirectory;
import io.herald.ledger.NotificationLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.NotificationCatalog;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * An approval given inside the customer's quiet hours (issue 14 with issue 16): dispatch held the notification for its
 * approver before it looked at quiet hours, so the approval is where they are judged. Its customer channels wait
 * SCHEDULED until the quiet hours end, exactly as a quiet-hours hold at dispatch: on the Scheduled page, where an
 * operator can send it now or cancel it, cancelled by a superseding event, its send window counted from the end (unless it
 * had passed already while it waited for approval: a late message stays late). A notification that already has a scheduled
 * send (a reopened approval approved again) is released instead, and the senders schedule it the same way when they claim
 * it. The team's ops webhook post is released at once. The senders judge quiet hours again before any send (QuietHoursBeforeSend).
 */
@Component
public class QuietHoursAfterApproval {

    private static final String OPS_WEBHOOK = "ops_webhook";

    /** The channels that wait, and until when (and in words, in the customer's zone). */
    public record Waiting(List<String> channels, Instant until, String ends) {
    }

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final NotificationCatalog catalog;
    private final CustomerDirectory directory;
    private final QuietHours quietHours;
    private final ScheduledSends scheduled;
    private final NotificationLedger notifications;
    private final Clock clock;

    public QuietHoursAfterApproval(JdbcTemplate jdbc, ObjectMapper json, NotificationCatalog catalog, CustomerDirectory directory,
                                   QuietHours quietHours, ScheduledSends scheduled, NotificationLedger notifications, Clock clock) {
        this.clock = clock;
        this.jdbc = jdbc;
        this.json = json;
        this.catalog = catalog;
        this.directory = directory;
        this.quietHours = quietHours;
        this.scheduled = scheduled;
        this.notifications = notifications;
    }

    /**
     * Called in the approval's transaction, before its deliveries are released: when it is inside the customer's quiet
     * hours for its category now, the customer channels still AWAITING_APPROVAL are scheduled for their end. Empty when it
     * is not (or the notification cannot be read: released as before, and judged again before the send).
     */
    public Optional<Waiting> schedule(long notificationId) {
        Map<String, Object> row = jdbc.queryForMap("SELECT n.type, n.customer_id, herald_canonical(n.id, n.received_at, n.canonical)::text"
                + " AS canonical FROM notification n WHERE n.id = ?", notificationId);
        String type = (String) row.get("type");
        if (type == null || !catalog.knows(type)) {
            return Optional.empty();
        }
        CanonicalNotification notification;
        try {
            notification = json.readValue((String) row.get("canonical"), CanonicalNotification.class);
        } catch (IOException e) {
            return Optional.empty();
        }
        String customerId = (String) row.get("customer_id");
        Optional<QuietHours.Wait> wait = quietHours.waitFor(catalog.entry(type), notification,
                customerId == null ? null : directory.find(customerId).orElse(null));
        if (wait.isEmpty()) {
            return Optional.empty();
        }
        List<String> channels = jdbc.queryForList("SELECT channel FROM delivery WHERE notification_id = ? AND state = 'AWAITING_APPROVAL'"
                + " AND channel <> ?", String.class, notificationId, OPS_WEBHOOK);
        if (channels.isEmpty() || !scheduled.scheduleHeld(notificationId, wait.get().until(), wait.get().reason(), wait.get().matchKey(),
                "AWAITING_APPROVAL", channels)) {
            return Optional.empty();
        }
        // Herald chose the delay: the window counts from its end, unless it had passed already while it waited for approval.
        notifications.postponeDeadlines(Map.of(notificationId, wait.get().deadline()), clock.instant());
        return Optional.of(new Waiting(channels, wait.get().until(), wait.get().ends()));
    }
}
