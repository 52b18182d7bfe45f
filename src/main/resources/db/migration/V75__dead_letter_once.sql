-- A notifications record that dispatch dead-letters is kept once and published once, however often it is read (a consumer
-- group rebalance, a batch tried again after the broker refused its dead-letter record): its topic, partition and offset
-- name it, and published_at says its record is on the dead-letters topic (io.herald.ledger.DeadLetters). Rows kept before
-- this have no source record and stay as they are.
ALTER TABLE dead_letter
    ADD COLUMN source_topic     TEXT,
    ADD COLUMN source_partition INT,
    ADD COLUMN source_offset    BIGINT,
    ADD COLUMN published_at     TIMESTAMPTZ;
CREATE UNIQUE INDEX dead_letter_once ON dead_letter (source_topic, source_partition, source_offset) WHERE source_offset IS NOT NULL;
