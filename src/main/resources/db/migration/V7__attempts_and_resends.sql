-- Every attempt of a delivery: when, what came of it, the provider's status and the reason.
CREATE TABLE delivery_attempt (
  id               BIGSERIAL    PRIMARY KEY,
  delivery_id      BIGINT       NOT NULL REFERENCES delivery (id),
  attempted_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
  outcome          VARCHAR(20)  NOT NULL,   -- SENT, RETRYING, PARKED, FAILED, RESEND
  provider_status  INT,
  reason           TEXT
);
CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id, id);

-- Operator resends: the only way a second copy reaches a customer, and always recorded.
CREATE TABLE delivery_resend (
  id            BIGSERIAL    PRIMARY KEY,
  delivery_id   BIGINT       NOT NULL REFERENCES delivery (id),
  requested_by  VARCHAR(200) NOT NULL,
  comment       TEXT,
  requested_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
  outcome       VARCHAR(20),
  reason        TEXT
);
