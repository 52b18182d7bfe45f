-- LOCAL AND TEST ONLY: the CRM's outbox as the CRM team exposes it (../shared/samples/crm/outbox.sql).
-- In other environments the CRM owns this table; Herald only reads it and sets processed_at.
CREATE TABLE crm_outbox (
  id            BIGSERIAL PRIMARY KEY,
  aggregate     VARCHAR(40)  NOT NULL,
  event_type    VARCHAR(60)  NOT NULL,
  payload       TEXT         NOT NULL,
  created_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
  processed_at  TIMESTAMPTZ
);
CREATE INDEX crm_outbox_unprocessed ON crm_outbox (id) WHERE processed_at IS NULL;
