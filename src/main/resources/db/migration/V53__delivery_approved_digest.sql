-- Approval before send: what the approver approved on each channel, as the SHA-256 of the recipient and every part that
-- would be sent (MessagePreview.sendDigest), written when the notification is approved. The sender renders the message
-- again at send time; one that differs (a template, the catalog or the customer's address edited after the approval, or
-- while the delivery was parked) is not sent as approved: it fails with a reason and is resent, and approved, again.
-- Metadata-only in PostgreSQL 11+ (nullable, no default).
ALTER TABLE delivery ADD COLUMN approved_digest char(64);
