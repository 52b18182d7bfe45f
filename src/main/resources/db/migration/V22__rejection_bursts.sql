-- A burst of webhook signature failures from one source (a broken secret rotation) is alerted once:
-- one row per source while its burst lasts. The instance whose insert creates the row posts the alert,
-- in the same transaction, so two instances never announce the same burst and a failed post is tried again.
CREATE TABLE rejection_burst (
  source      VARCHAR(20)  PRIMARY KEY,
  since       TIMESTAMPTZ  NOT NULL,
  alerted_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- The burst check counts recent signature refusals per source.
CREATE INDEX inbound_rejection_signature_recent ON inbound_rejection (received_at) WHERE http_status = 401;
