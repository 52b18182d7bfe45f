-- In-app channel: the customer's inbox, read by the product's app through /api/customers/{id}/inbox.
CREATE TABLE inbox_message (
  id               BIGSERIAL    PRIMARY KEY,
  customer_id      VARCHAR(64)  NOT NULL,
  delivery_id      BIGINT       NOT NULL UNIQUE REFERENCES delivery (id),
  type             VARCHAR(80)  NOT NULL,
  title            TEXT         NOT NULL,
  body             TEXT         NOT NULL,
  created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
  read_at          TIMESTAMPTZ
);
CREATE INDEX inbox_message_customer ON inbox_message (customer_id, created_at DESC);
