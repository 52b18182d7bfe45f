-- Delivery receipts (issue 13): what a provider reported later about a message Herald handed it
-- (SMS status callbacks, email events). Every receipt is kept, matched or not; the delivery's state
-- changes only through DeliveryLedger.receipt. outcome: APPLIED (the delivery took the new state),
-- KEPT (recorded only: a duplicate, an out-of-order or an intermediate status), UNMATCHED (no delivery
-- has this provider message id).
CREATE TABLE delivery_receipt (
  id                   BIGSERIAL    PRIMARY KEY,
  channel              VARCHAR(20)  NOT NULL,
  provider_message_id  VARCHAR(300) NOT NULL,
  provider_event_id    VARCHAR(200),
  status               VARCHAR(40)  NOT NULL,
  error_code           VARCHAR(40),
  delivery_id          BIGINT       REFERENCES delivery (id),
  outcome              VARCHAR(20)  NOT NULL,
  reason               TEXT,
  received_at          TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX delivery_receipt_delivery ON delivery_receipt (delivery_id, id);
-- A provider's retry of the same event (SendGrid's sg_event_id) is kept once.
CREATE UNIQUE INDEX delivery_receipt_event ON delivery_receipt (channel, provider_event_id) WHERE provider_event_id IS NOT NULL;
-- Receipts find their delivery by the provider's message id (SMS sid, email Message-ID).
CREATE INDEX delivery_provider_message ON delivery (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- Addresses that must not be sent to again (hard bounce, spam complaint, a number that can never
-- receive). The address is kept as a SHA-256 hash of its normalised form (lower-case email, phone as
-- E.164) with a masked copy for people. One active entry per channel and address; lifting keeps the row.
CREATE TABLE suppression (
  id              BIGSERIAL    PRIMARY KEY,
  channel         VARCHAR(20)  NOT NULL,
  address_hash    CHAR(64)     NOT NULL,
  address_masked  VARCHAR(320) NOT NULL,
  reason          TEXT         NOT NULL,
  receipt_id      BIGINT       REFERENCES delivery_receipt (id),
  since           TIMESTAMPTZ  NOT NULL DEFAULT now(),
  lifted_at       TIMESTAMPTZ,
  lifted_by       VARCHAR(100),
  lift_comment    TEXT
);
CREATE UNIQUE INDEX suppression_active ON suppression (channel, address_hash) WHERE lifted_at IS NULL;
