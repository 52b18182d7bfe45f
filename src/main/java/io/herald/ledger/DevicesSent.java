package io.herald.ledger;

import java.util.List;

/**
 * Work that belongs in the transaction of a group of SENT records (DeliveryLedger.sent): the device records of the pushes
 * among them (dispatch.PushDeviceRecords, the only writer of push_device_send), in one statement for the group, whether or
 * not each SENT record was still the claim's to write (a late answer's device did take the message).
 */
public interface DevicesSent {

    void write(List<DeviceSent> devices);
}
