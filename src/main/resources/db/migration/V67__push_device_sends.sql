-- A push goes to every device of the customer: one row per device token and per attempt scope (the delivery itself,
-- resend_id 0, or one operator resend), written before the provider is called and settled by its answer
-- (dispatch.PushDevices owns this state machine: CALLING -> SENT | TOKEN_REMOVED | REFUSED; a REFUSED or CALLING row
-- left by an attempt that did not end with the device's answer is called again by the next attempt, a SENT or
-- TOKEN_REMOVED one never). The token itself is kept only as a hash and its first 8 characters.
CREATE TABLE push_device_send (
  id                   BIGSERIAL    PRIMARY KEY,
  delivery_id          BIGINT       NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
  resend_id            BIGINT       NOT NULL DEFAULT 0,
  token_hash           CHAR(64)     NOT NULL,
  token_masked         VARCHAR(20)  NOT NULL,
  state                VARCHAR(20)  NOT NULL,
  provider_message_id  VARCHAR(300),
  reason               TEXT,
  calls                INT          NOT NULL DEFAULT 1,
  updated_at           TIMESTAMPTZ  NOT NULL DEFAULT now(),
  UNIQUE (delivery_id, resend_id, token_hash)
);
-- A token FCM reported dead is not called again, even when the CRM lists it again (FCM never revives a token).
CREATE INDEX push_device_send_dead ON push_device_send (token_hash) WHERE state = 'TOKEN_REMOVED';
