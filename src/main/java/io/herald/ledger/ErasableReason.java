package io.herald.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.herald.logging.Masking;

/**
 * An outcome's reason that quotes an address (a provider's answer naming the number or the mailbox) is written with the
 * address read "(erased)" when the notification's customer has been erased: a delivery SENDING while its customer was
 * erased writes its outcome after the erasure scrubbed the reasons there were. The notification row is read FOR SHARE, so
 * an erasure in progress (which updates it before it scrubs reasons) is waited for, and one that starts later scrubs this
 * reason too. A reason without an address is written as it is, without the lock.
 */
record ErasableReason(long deliveryId, boolean quotesAddress) {
    static ErasableReason of(DeliveryLedger.Claim claim, String reason) {
        return of(claim.deliveryId(), reason);
    }

    static ErasableReason of(long deliveryId, String reason) {
        return new ErasableReason(deliveryId, reason != null && !Masking.withoutAddresses(reason, "(erased)").equals(reason));
    }

    /** The statement's first words before more common table expressions: the erasure check when needed, and WITH. */
    String with() {
        return quotesAddress ? check() + "," : "WITH";
    }

    /** The erasure check alone, before a plain statement ("" when not needed). */
    String check() {
        return quotesAddress ? """
                WITH erased AS (SELECT n.payload_removed_by IS NOT DISTINCT FROM 'erasure' AS yes FROM delivery d
                                JOIN notification n ON n.id = d.notification_id WHERE d.id = ? FOR SHARE OF n)""" : "";
    }

    /** Where a reason goes: the erased or the plain one when it quotes an address, else the reason. */
    String choice() {
        return quotesAddress ? "CASE WHEN (SELECT yes FROM erased) THEN ? ELSE ? END" : "?";
    }

    /** The value {@link #with()} needs: the delivery whose notification is checked (none without the check). */
    Object[] checked() {
        return quotesAddress ? new Object[] {deliveryId} : new Object[0];
    }

    /** The values for {@link #choice()} of this text. */
    Object[] reasons(String text) {
        return quotesAddress ? new Object[] {Masking.withoutAddresses(text, "(erased)"), text} : new Object[] {text};
    }

    /** The values flattened: arrays spread, others as they are. */
    Object[] values(Object... parts) {
        List<Object> all = new ArrayList<>();
        for (Object part : parts) {
            if (part instanceof Object[] many) {
                all.addAll(Arrays.asList(many));
            } else {
                all.add(part);
            }
        }
        return all.toArray();
    }
}
