-- Herald's own schema. The delivery ledger is what operators read: every inbound
-- attempt, every notification and every delivery ends in a state with a reason.

-- Customer directory: customers are matched by stable id, never guessed from an email.
CREATE TABLE customer (
  customer_id   VARCHAR(64)  PRIMARY KEY,
  display_name  VARCHAR(200),
  email         VARCHAR(320),
  phone         VARCHAR(32),
  push_tokens   JSONB        NOT NULL DEFAULT '[]',
  locale        VARCHAR(16)  NOT NULL DEFAULT 'en',
  time_zone     VARCHAR(64)  NOT NULL DEFAULT 'UTC',
  preferences   JSONB        NOT NULL DEFAULT '{}',
  updated_at    TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX customer_email ON customer (lower(email));

-- Inbound attempts refused at the door (bad signature, too large, not JSON...).
-- Kept so that nothing is only logged; the body is kept up to a bounded size.
CREATE TABLE inbound_rejection (
  id            BIGSERIAL    PRIMARY KEY,
  source        VARCHAR(20)  NOT NULL,
  http_status   INT          NOT NULL,
  reason        TEXT         NOT NULL,
  remote_addr   VARCHAR(64),
  content_type  VARCHAR(200),
  body_bytes    BIGINT       NOT NULL,
  body_excerpt  TEXT,
  received_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- One row per canonical notification; the idempotency key is business identity.
CREATE TABLE notification (
  id               BIGSERIAL    PRIMARY KEY,
  idempotency_key  VARCHAR(400) NOT NULL UNIQUE,
  source           VARCHAR(20)  NOT NULL,
  source_event_id  VARCHAR(200) NOT NULL,
  type             VARCHAR(80)  NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  state            VARCHAR(20)  NOT NULL,
  reason           TEXT,
  canonical        JSONB        NOT NULL,
  occurred_at      TIMESTAMPTZ,
  received_at      TIMESTAMPTZ  NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ  NOT NULL DEFAULT now()
);
ALTER TABLE notification ADD COLUMN duplicates_suppressed INT NOT NULL DEFAULT 0;
CREATE INDEX notification_customer ON notification (customer_id);

-- One row per notification x channel. The unique pair is the second dedup guard.
CREATE TABLE delivery (
  id                   BIGSERIAL    PRIMARY KEY,
  notification_id      BIGINT       NOT NULL REFERENCES notification (id),
  channel              VARCHAR(20)  NOT NULL,
  state                VARCHAR(20)  NOT NULL,
  recipient_masked     VARCHAR(320),
  subject              TEXT,
  rendered_body        TEXT,
  provider_message_id  VARCHAR(300),
  reason               TEXT,
  attempts             INT          NOT NULL DEFAULT 0,
  created_at           TIMESTAMPTZ  NOT NULL DEFAULT now(),
  updated_at           TIMESTAMPTZ  NOT NULL DEFAULT now(),
  sent_at              TIMESTAMPTZ,
  UNIQUE (notification_id, channel)
);
CREATE INDEX delivery_state ON delivery (state);

-- Source events that did not become a notification: QUARANTINED (mapping, validation or
-- identity failed; an operator fixes and re-drives) or IGNORED (understood, not for customers).
CREATE TABLE unrouted_event (
  id               BIGSERIAL    PRIMARY KEY,
  source           VARCHAR(20)  NOT NULL,
  source_event_id  VARCHAR(200),
  outcome          VARCHAR(20)  NOT NULL,
  step             VARCHAR(20)  NOT NULL,
  reason           TEXT         NOT NULL,
  raw_payload      TEXT         NOT NULL,
  status           VARCHAR(20)  NOT NULL DEFAULT 'OPEN',
  created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX unrouted_event_open ON unrouted_event (outcome, status, created_at DESC);
