-- Retention deletes texts to Herald's number (inbound_sms) older than herald.retention.ledger in batches, oldest first.
CREATE INDEX inbound_sms_received ON inbound_sms (received_at);
