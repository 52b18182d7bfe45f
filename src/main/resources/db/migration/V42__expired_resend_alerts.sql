-- An operator's resend held for approval that nobody approved or rejected in time ends EXPIRED (V40); like an expired
-- notification it is now alerted on the ops webhook (io.herald.ops.FailureAlerts), once: alerted_at says when. Resends
-- that expired before this version are counted as alerted (their expiry is in the audit trail and the timeline).
ALTER TABLE delivery_resend ADD COLUMN alerted_at TIMESTAMPTZ;
UPDATE delivery_resend SET alerted_at = now() WHERE outcome = 'EXPIRED';
CREATE INDEX delivery_resend_expired_unalerted ON delivery_resend (id) WHERE outcome = 'EXPIRED' AND alerted_at IS NULL;
