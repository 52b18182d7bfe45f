-- Inbound SMS (issue 13 point 3): every message a customer texted to Herald's number, kept whatever it said,
-- with what Herald did about it. It is the customer's SMS consent history: OPT_OUT (STOP and its synonyms)
-- and OPT_IN (START, UNSTOP) rows of a matched customer are the consent changes. The consent itself is the
-- suppression of the customer's number (suppression table, source: the OPT_OUT receipt), so the senders'
-- existing check skips it. action: OPT_OUT, OPT_IN, HELP, NONE (any other text). outcome: CONSENT_OFF,
-- CONSENT_ON, UNCHANGED (already so), ANSWERED (help), RECORDED (other text), UNMATCHED (no customer has the
-- number), AMBIGUOUS (several customers have it). Nothing but the number (masked) and a masked excerpt is kept.
CREATE TABLE inbound_sms (
  id            BIGSERIAL    PRIMARY KEY,
  message_sid   VARCHAR(64),
  from_masked   VARCHAR(40)  NOT NULL,
  customer_id   VARCHAR(64),
  keyword       VARCHAR(20),
  action        VARCHAR(20)  NOT NULL,
  outcome       VARCHAR(20)  NOT NULL,
  reason        TEXT         NOT NULL,
  excerpt       VARCHAR(200),
  received_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);
-- The provider's retry of the same message (same MessageSid) is kept and acted on once.
CREATE UNIQUE INDEX inbound_sms_message ON inbound_sms (message_sid) WHERE message_sid IS NOT NULL;
CREATE INDEX inbound_sms_customer ON inbound_sms (customer_id, received_at) WHERE customer_id IS NOT NULL;

-- Inbound SMS find their customer by the number as E.164 digits (no +, spaces, dashes or brackets; a 00 prefix dropped).
CREATE INDEX customer_phone_digits ON customer (regexp_replace(regexp_replace(phone, '[^0-9]', '', 'g'), '^00', ''));

-- Receipt reporting (issue 13 point 7): the delivery state each receipt stands for (DELIVERED, BOUNCED,
-- UNDELIVERED, COMPLAINED; null for an intermediate status or an opt-out), for the weekly review's counts
-- per channel and the spike check. Receipts kept before this migration have none.
ALTER TABLE delivery_receipt ADD COLUMN final_state VARCHAR(20);
CREATE INDEX delivery_receipt_final_recent ON delivery_receipt (received_at, channel) WHERE final_state IS NOT NULL;

-- A spike of bounces or undelivered messages on one channel (herald.receipts.spike.*): one row while it lasts.
-- The instance whose insert creates the row announces the spike, the one whose delete removes it announces its
-- end, each in the transaction of its post to the ops webhook, so each is posted once and a failed post is retried.
CREATE TABLE receipt_spike (
  channel     VARCHAR(20)  PRIMARY KEY,
  since       TIMESTAMPTZ  NOT NULL,
  alerted_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
