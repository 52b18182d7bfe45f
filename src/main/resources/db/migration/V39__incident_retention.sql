-- Retention of incidents (issue 16): incident_notice rows of a firing that is over, and resolved incident rows, are
-- deleted after herald.retention.ledger, oldest first in bounded batches (RetentionJob.deleteLedgerRows); incident rows
-- are found by incident_recent (V23).
CREATE INDEX incident_notice_updated ON incident_notice (updated_at);
