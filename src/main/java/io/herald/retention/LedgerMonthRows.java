package io.herald.retention;

import io.herald.ledger.DeliveryLedger;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A month of the ledger (V45: notification_pYYYY_MM and delivery_pYYYY_MM) as retention sees it before dropping it
 * (MonthlyPartitions.dropLedgerMonthsBefore, in its transaction): open while one of its notifications is not routed yet or
 * has a delivery in progress or held (found through the indexes of those few rows, not by reading the month); cleared by
 * deleting what refers to its rows by id (the references to a delivery are not foreign keys any more; those to a
 * notification are, and would refuse the drop).
 */
@Component
public class LedgerMonthRows implements MonthlyPartitions.LedgerMonth {

    private final JdbcTemplate jdbc;

    public LedgerMonthRows(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Override
    public boolean open(String notifications, String deliveries) {
        return jdbc.queryForObject("SELECT EXISTS (SELECT 1 FROM " + notifications + " WHERE state = 'RECEIVED')"
                + " OR EXISTS (SELECT 1 FROM " + deliveries + " WHERE state IN (" + DeliveryLedger.IN_PROGRESS
                + ", 'AWAITING_APPROVAL', 'SCHEDULED', 'HELD'))", Boolean.class);
    }

    @Override
    public int clear(String notifications, String deliveries) {
        String ofDeliveries = "delivery_id IN (SELECT id FROM " + deliveries + ")";
        String ofNotifications = " IN (SELECT id FROM " + notifications + ")";
        return jdbc.update("DELETE FROM inbox_message WHERE " + ofDeliveries)
                + jdbc.update("DELETE FROM delivery_resend WHERE " + ofDeliveries)
                + jdbc.update("DELETE FROM ticket_note WHERE " + ofDeliveries)
                + jdbc.update("DELETE FROM delivery_content WHERE " + ofDeliveries)
                // A receipt a suppression points to stays (the suppression says why an address is not sent to), without its delivery.
                + jdbc.update("DELETE FROM delivery_receipt r WHERE " + ofDeliveries
                        + " AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.receipt_id = r.id)")
                + jdbc.update("UPDATE delivery_receipt SET delivery_id = NULL WHERE " + ofDeliveries)
                + jdbc.update("DELETE FROM approval WHERE notification_id" + ofNotifications)
                + jdbc.update("DELETE FROM scheduled_send WHERE notification_id" + ofNotifications)
                + jdbc.update("DELETE FROM customer_digest_member WHERE notification_id" + ofNotifications)
                + jdbc.update("DELETE FROM customer_digest WHERE opened_by" + ofNotifications)
                + jdbc.update("DELETE FROM notification_payload WHERE notification_id" + ofNotifications);
    }
}
