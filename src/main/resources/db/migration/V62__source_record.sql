-- The Kafka record a notification's source event was last read from: its topic and partition ("herald.billing.events/2")
-- and its offset. Intake reads a record again after a consumer group rebalance or a crash before the offset commit; that
-- is Herald's own re-read, not the source sending the event again, so it is not counted in duplicates_suppressed (the
-- console's "N repeat(s) of this event arrived later", the weekly review). A record at or before the one kept, on the
-- same partition, has been read before. Null for a notification Herald makes itself and for a quarantine re-drive.
ALTER TABLE notification ADD COLUMN source_record_partition VARCHAR(300), ADD COLUMN source_record_offset BIGINT;
