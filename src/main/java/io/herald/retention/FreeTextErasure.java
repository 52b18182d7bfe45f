package io.herald.retention;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

import io.herald.receipts.Suppressions;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Erasure of a customer: the free text kept in the rows that stay (reasons, providers' answers, operators', approvers' and
 * schedulers' comments, the audit trail's comments and outcomes, the words of the suppressions of their addresses or caused by their receipts) loses their names, addresses and phone numbers (ErasedText).
 * Only rows that are the customer's are read: those of their notifications, of the quarantined events, dead letters and
 * refused requests that named them, of their incident notices and texts to Herald's number, and the ops alerts whose example
 * is one of theirs. Only the texts that change
 * are written. The rows stay.
 */
@Component
class FreeTextErasure {

    private final JdbcTemplate jdbc;

    FreeTextErasure(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** In the rows of these notifications (their deliveries, attempts, receipts, resends, approvals, waits, notes, audit entries). */
    int inNotifications(Collection<Long> notifications, UnaryOperator<String> erase) {
        if (notifications.isEmpty()) {
            return 0;
        }
        Object ids = notifications.toArray(Long[]::new);   // one parameter, a bigint[]
        String ofDeliveries = " JOIN delivery_all d ON d.id = x.delivery_id WHERE d.notification_id = ANY(?)";
        return rewrite(erase, "notification_all", 1, "SELECT x.id, x.reason FROM notification_all x WHERE x.id = ANY(?)", ids)
                + rewrite(erase, "delivery_all", 1, "SELECT x.id, x.reason FROM delivery_all x WHERE x.notification_id = ANY(?)", ids)
                // Partitioned by month: each found by its key (id and month column), indexed in each month.
                + rewrite(erase, "delivery_attempt", 2, "SELECT x.id, x.attempted_at, x.reason FROM delivery_attempt x" + ofDeliveries, ids)
                + rewrite(erase, "delivery_receipt", 2, "SELECT x.id, x.received_at, x.reason, x.suppress_reason FROM delivery_receipt x"
                        + ofDeliveries, ids)
                + rewrite(erase, "delivery_resend", 1, "SELECT x.id, x.reason, x.comment FROM delivery_resend x" + ofDeliveries, ids)
                + rewrite(erase, "ticket_note", 1, "SELECT x.id, x.reason FROM ticket_note x" + ofDeliveries, ids)
                + rewrite(erase, "approval", 1, "SELECT x.notification_id, x.comment, x.reopened_because FROM approval x"
                        + " WHERE x.notification_id = ANY(?)", ids)
                + rewrite(erase, "resend_approval", 1, "SELECT x.resend_id, x.comment FROM resend_approval x WHERE x.notification_id = ANY(?)", ids)
                + rewrite(erase, "scheduled_send", 1, "SELECT x.notification_id, x.reason, x.comment FROM scheduled_send x"
                        + " WHERE x.notification_id = ANY(?)", ids)
                + rewrite(erase, "operator_action", 1, "SELECT x.id, x.comment, x.outcome FROM operator_action x WHERE x.notification_id = ANY(?)", ids)
                // The suppressions their receipts put in place (the bounce's words, an admin's lift comment) and the lifts' audit
                // entries, which name no notification: the suppression stays, its address masked.
                + rewrite(erase, "operator_action", 1, "SELECT x.id, x.comment, x.outcome FROM operator_action x WHERE x.target = 'suppression'"
                        + " AND x.target_id IN (SELECT s.id FROM suppression s JOIN delivery_receipt r ON r.id = s.receipt_id"
                        + " JOIN delivery_all d ON d.id = r.delivery_id WHERE d.notification_id = ANY(?))", ids)
                + rewrite(erase, "suppression", 1, "SELECT x.id, x.reason, x.lift_comment FROM suppression x"
                        + " JOIN delivery_receipt r ON r.id = x.receipt_id JOIN delivery_all d ON d.id = r.delivery_id WHERE d.notification_id = ANY(?)", ids)
                + alertExamples("notifications", ids, erase);
    }

    /** In the rows kept under the customer's id: who an incident named, what they texted to Herald's number. */
    int ofCustomer(String customerId, UnaryOperator<String> erase) {
        return rewrite(erase, "incident_notice", 3, "SELECT x.incident_id, x.episode, x.customer_id, x.reason FROM incident_notice x"
                        + " WHERE x.customer_id = ?", customerId)
                + rewrite(erase, "inbound_sms", 1, "SELECT x.id, x.reason FROM inbound_sms x WHERE x.customer_id = ?", customerId);
    }

    /**
     * In the suppressions of the customer's email address and phone number, whatever put them there (their STOP by SMS, a
     * bounce of a message not in their ledger) and whoever lifted them (an admin, their START): the reason and lift comment,
     * and the LIFT's audit entry (comment, outcome). Found by the key the list keeps (channel, address hash); the rows stay,
     * keyed and masked, so Herald goes on honouring a STOP of that number. Call with the addresses read before the directory
     * entry goes.
     */
    int ofAddresses(String email, String phone, UnaryOperator<String> erase) {
        List<String> keys = new ArrayList<>();
        if (email != null && !email.isBlank()) {
            keys.add("email:" + Suppressions.hash("email", email));
        }
        if (phone != null && !phone.isBlank()) {
            keys.add("sms:" + Suppressions.hash("sms", phone));
        }
        if (keys.isEmpty()) {
            return 0;
        }
        Object[] key = {keys.stream().map(k -> k.substring(k.indexOf(':') + 1)).toArray(String[]::new), keys.toArray(String[]::new)};
        String theirs = "SELECT s.id FROM suppression s WHERE s.address_hash = ANY(?) AND s.channel || ':' || s.address_hash = ANY(?)";
        return rewrite(erase, "operator_action", 1, "SELECT x.id, x.comment, x.outcome FROM operator_action x WHERE x.target = 'suppression'"
                        + " AND x.target_id IN (" + theirs + ")", key)
                + rewrite(erase, "suppression", 1, "SELECT x.id, x.reason, x.lift_comment FROM suppression x WHERE x.id IN (" + theirs + ")", key);
    }

    /** In the quarantined and ignored events that named the customer, and the operators' actions on them. */
    int inEvents(Collection<Long> events, UnaryOperator<String> erase) {
        if (events.isEmpty()) {
            return 0;
        }
        Object ids = events.toArray(Long[]::new);   // one parameter, a bigint[]
        return rewrite(erase, "unrouted_event", 1, "SELECT x.id, x.reason, x.redrive_outcome FROM unrouted_event x WHERE x.id = ANY(?)", ids)
                + rewrite(erase, "operator_action", 1, "SELECT x.id, x.comment, x.outcome FROM operator_action x"
                        + " WHERE x.target = 'quarantine' AND x.target_id = ANY(?)", ids)
                + alertExamples("quarantine", ids, erase);
    }

    /**
     * The example reason an ops alert keeps for its kind of failure (alert_group), when its link is to one of these
     * notifications or quarantined events (ConsoleLinks: .../console/notifications/&lt;id&gt;, .../console/quarantine/&lt;id&gt;).
     * One row per kind of failure: read whole.
     */
    private int alertExamples(String page, Object ids, UnaryOperator<String> erase) {
        return rewrite(erase, "alert_group", 1, "SELECT x.group_key, x.example FROM alert_group x"
                + " WHERE CAST(substring(x.link from '/console/" + page + "/([0-9]+)$') AS BIGINT) = ANY(?)", ids);
    }

    /** In the dead letters that named the customer. */
    int inDeadLetters(Collection<Long> letters, UnaryOperator<String> erase) {
        return letters.isEmpty() ? 0 : rewrite(erase, "dead_letter", 1, "SELECT x.id, x.reason FROM dead_letter x WHERE x.id = ANY(?)",
                (Object) letters.toArray(Long[]::new));
    }

    /** In the refused requests whose excerpt named the customer. */
    int inRefused(Collection<Long> refused, UnaryOperator<String> erase) {
        return refused.isEmpty() ? 0 : rewrite(erase, "inbound_rejection", 2, "SELECT x.id, x.received_at, x.reason FROM inbound_rejection x"
                + " WHERE x.id = ANY(?)", (Object) refused.toArray(Long[]::new));
    }

    /**
     * Runs {@code select} (its first {@code keys} columns the row's key, the others text columns named as in {@code table})
     * and writes back the texts {@code erase} changes, row by row in one batch. Returns how many rows changed.
     */
    private int rewrite(UnaryOperator<String> erase, String table, int keys, String select, Object... params) {
        List<Object[]> changed = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        jdbc.query(connection -> {
            var statement = connection.prepareStatement(select);
            for (int i = 0; i < params.length; i++) {
                Object param = params[i];
                statement.setObject(i + 1, param instanceof Long[] ids ? connection.createArrayOf("bigint", ids)
                        : param instanceof String[] texts ? connection.createArrayOf("varchar", texts) : param);
            }
            return statement;
        }, row -> {
            var meta = row.getMetaData();
            if (columns.isEmpty()) {
                for (int c = 1; c <= meta.getColumnCount(); c++) {
                    columns.add(meta.getColumnName(c));
                }
            }
            List<Object> texts = new ArrayList<>();
            boolean differs = false;
            for (int c = keys + 1; c <= meta.getColumnCount(); c++) {
                String text = row.getString(c);
                String erased = erase.apply(text);
                differs |= !Objects.equals(text, erased);
                texts.add(erased);
            }
            if (differs) {
                for (int c = 1; c <= keys; c++) {
                    texts.add(row.getObject(c));
                }
                changed.add(texts.toArray());
            }
        });
        if (changed.isEmpty()) {
            return 0;
        }
        String set = String.join(" = ?, ", columns.subList(keys, columns.size())) + " = ?";
        String where = String.join(" = ? AND ", columns.subList(0, keys)) + " = ?";
        jdbc.batchUpdate("UPDATE " + table + " SET " + set + " WHERE " + where, changed);
        return changed.size();
    }
}
