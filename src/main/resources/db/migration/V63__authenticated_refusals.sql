-- A refused webhook request that carried the sender's valid credential (today: Alertmanager's bearer token on
-- /webhooks/incidents) is the sender's own request, not hostile input: when its body is refused (400, 413, 415) the
-- sender does not send it again, so the failure alerts announce it (FailureAlerts), once, marked by alerted_at.
ALTER TABLE inbound_rejection ADD COLUMN authenticated BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE inbound_rejection ADD COLUMN alerted_at TIMESTAMPTZ;
CREATE INDEX inbound_rejection_unalerted ON inbound_rejection (id) WHERE authenticated AND alerted_at IS NULL;
