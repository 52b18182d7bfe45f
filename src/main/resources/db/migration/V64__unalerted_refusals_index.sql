-- Only refusals the failure alerts announce (400, 413, 415) belong in the index they read: 500 and 503 answers to a caller
-- with a valid token (Alertmanager during an outage of the ops webhook or the database) are never announced, and in the
-- V63 index they stayed, unalerted, for as long as retention keeps the rows, read again at every poll.
DROP INDEX inbound_rejection_unalerted;
CREATE INDEX inbound_rejection_unalerted ON inbound_rejection (id)
  WHERE authenticated AND alerted_at IS NULL AND http_status IN (400, 413, 415);
