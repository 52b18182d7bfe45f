package io.herald.dispatch;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import io.herald.ledger.DeviceSent;
import io.herald.ledger.DevicesSent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The only writer of push_device_send (V67), the record of each device a push went to; {@link PushDevices} decides what is
 * written, and this states it: CALLING -> SENT | TOKEN_REMOVED | REFUSED, REFUSED -> RETRY_ASKED by an operator's retry.
 * The device whose answer settles a push is written with the delivery's SENT record, in its group's transaction
 * ({@link DevicesSent}); every other answer on its own.
 */
@Component
public class PushDeviceRecords implements DevicesSent {

    private static final Logger log = LoggerFactory.getLogger(PushDeviceRecords.class);

    private final JdbcTemplate jdbc;
    /** A savepoint inside the SENT records' transaction: device rows that cannot be written do not undo the SENT records. */
    private final TransactionTemplate savepoint;

    public PushDeviceRecords(JdbcTemplate jdbc, TransactionTemplate transaction) {
        this.jdbc = jdbc;
        this.savepoint = new TransactionTemplate(transaction.getTransactionManager());
        this.savepoint.setPropagationBehavior(TransactionDefinition.PROPAGATION_NESTED);
    }

    /** Before a call: CALLING (a device called once more after a crash or an operator's retry is CALLING again). */
    void calling(long deliveryId, long resendId, String tokenHash, String tokenMasked) {
        jdbc.update("""
                INSERT INTO push_device_send (delivery_id, resend_id, token_hash, token_masked, state) VALUES (?, ?, ?, ?, 'CALLING')
                ON CONFLICT (delivery_id, resend_id, token_hash) DO UPDATE SET state = 'CALLING', reason = NULL, updated_at = now()
                WHERE push_device_send.state IN ('CALLING', 'RETRY_ASKED')""", deliveryId, resendId, tokenHash, tokenMasked);
    }

    /** A device's answer, written whether or not its call was written first (CALLING). */
    void answered(long deliveryId, long resendId, String tokenHash, String tokenMasked, String state, String providerMessageId,
                  String reason) {
        jdbc.update("""
                INSERT INTO push_device_send (delivery_id, resend_id, token_hash, token_masked, state, provider_message_id, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (delivery_id, resend_id, token_hash) DO UPDATE SET state = EXCLUDED.state,
                  provider_message_id = EXCLUDED.provider_message_id, reason = EXCLUDED.reason, updated_at = now()""",
                deliveryId, resendId, tokenHash, tokenMasked, state, providerMessageId, reason);
    }

    /** A device called after another took the push that was not reached (its retries ran out, the breaker turned it away). */
    void notReached(long deliveryId, long resendId, String tokenHash, String reason) {
        jdbc.update("UPDATE push_device_send SET state = 'REFUSED', reason = ?, updated_at = now() WHERE delivery_id = ? AND resend_id = ?"
                + " AND token_hash = ? AND state = 'CALLING'", reason, deliveryId, resendId, tokenHash);
    }

    /**
     * The devices whose answers settled a group of pushes SENT: one statement, in the SENT records' transaction, inside a
     * savepoint: if PostgreSQL refuses it, the group's SENT records (of every channel) are written all the same, and the
     * pushes' device rows are missing (their deliveries say which devices took them; the timeline shows no device row).
     */
    @Override
    public void write(List<DeviceSent> devices) {
        try {
            savepoint.executeWithoutResult(status -> writeAll(devices));
        } catch (DataAccessException e) {
            log.warn("The device records of {} push deliveries (e.g. delivery {}) could not be written with their SENT records ({});"
                    + " the deliveries are SENT, their device rows are missing", devices.size(), devices.get(0).deliveryId(),
                    e.getMostSpecificCause().getMessage());
        }
    }

    private void writeAll(List<DeviceSent> devices) {
        Map<String, DeviceSent> once = new LinkedHashMap<>();
        devices.forEach(d -> once.put(d.deliveryId() + ":" + d.tokenHash(), d));
        List<DeviceSent> rows = List.copyOf(once.values());
        jdbc.update(con -> {
            var statement = con.prepareStatement("""
                    INSERT INTO push_device_send (delivery_id, resend_id, token_hash, token_masked, state, provider_message_id)
                    SELECT d.delivery_id, 0, d.token_hash, d.token_masked, 'SENT', d.provider_message_id
                    FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS d(delivery_id, token_hash, token_masked, provider_message_id)
                    ON CONFLICT (delivery_id, resend_id, token_hash) DO UPDATE SET state = 'SENT',
                      provider_message_id = EXCLUDED.provider_message_id, reason = NULL, updated_at = now()""");
            statement.setArray(1, con.createArrayOf("bigint", rows.stream().map(DeviceSent::deliveryId).toArray()));
            statement.setArray(2, con.createArrayOf("text", rows.stream().map(DeviceSent::tokenHash).toArray()));
            statement.setArray(3, con.createArrayOf("text", rows.stream().map(DeviceSent::tokenMasked).toArray()));
            statement.setArray(4, con.createArrayOf("text", rows.stream().map(DeviceSent::providerMessageId).toArray()));
            return statement;
        });
    }

    /**
     * An operator's retry of the delivery (console.OperatorActions, in its transaction): the devices that refused it are called
     * once more by the attempt it queues (the operator fixed what the refusal named, e.g. the Firebase project or the APNs key).
     */
    public int retryRefused(long deliveryId) {
        return jdbc.update("UPDATE push_device_send SET state = 'RETRY_ASKED', updated_at = now() WHERE delivery_id = ? AND resend_id = 0"
                + " AND state = 'REFUSED'", deliveryId);
    }

    /** Erasure of a customer: the device records of these notifications' deliveries (masked tokens, their hashes) are deleted. */
    public int forget(Collection<Long> notificationIds) {
        String ids = notificationIds.stream().map(String::valueOf).collect(Collectors.joining(",", "{", "}"));
        return jdbc.update("DELETE FROM push_device_send s USING delivery_all d WHERE d.id = s.delivery_id"
                + " AND d.notification_id = ANY(CAST(? AS BIGINT[]))", ids);
    }
}
