-- Ops webhook digests: notifications of a type that also go to the internal team's webhook wait
-- (delivery state DIGEST_WAITING) and are posted together, one post per digest, by routes/ops-digest.camel.yaml.
-- A digest keeps its items until posted: a failed or crashed post is sent again with the same
-- Idempotency-Key (digest-<id>) and the same items.
CREATE TABLE ops_digest (
  id               BIGSERIAL    PRIMARY KEY,
  type             VARCHAR(80)  NOT NULL,
  created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
  next_attempt_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
  attempts         INT          NOT NULL DEFAULT 0,
  reason           TEXT,
  posted_at        TIMESTAMPTZ
);
CREATE INDEX ops_digest_due ON ops_digest (next_attempt_at) WHERE posted_at IS NULL;

ALTER TABLE delivery ADD COLUMN digest_id BIGINT REFERENCES ops_digest (id);
CREATE INDEX delivery_digest_waiting ON delivery (digest_id, id) WHERE state = 'DIGEST_WAITING';
