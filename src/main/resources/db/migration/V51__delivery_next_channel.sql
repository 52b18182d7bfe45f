-- With strategy first-success, the channel a delivery's sender queues once it has ended (the catalog's next channel at the
-- moment it was queued). ChainsCutOff follows a chain whose sender stopped before queueing it by this column, not by the
-- catalog of today: a channel added to a type later is not sent for notifications that were dispatched before.
ALTER TABLE delivery ADD COLUMN next_channel varchar(32);
