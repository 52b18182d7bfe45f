-- The operations console. Every operator action (retry, re-drive, dismiss, resend) is kept:
-- who, when, what, the comment, and what came of it; the timeline and the weekly review read it.
CREATE TABLE operator_action (
  id               BIGSERIAL    PRIMARY KEY,
  acted_at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
  actor            VARCHAR(200) NOT NULL,
  action           VARCHAR(20)  NOT NULL,   -- RETRY, REDRIVE, DISMISS, RESEND
  target           VARCHAR(20)  NOT NULL,   -- delivery, quarantine
  target_id        BIGINT       NOT NULL,
  notification_id  BIGINT,
  comment          TEXT,
  outcome          TEXT
);
CREATE INDEX operator_action_target ON operator_action (target, target_id);
CREATE INDEX operator_action_notification ON operator_action (notification_id);
CREATE INDEX operator_action_time ON operator_action (acted_at);

-- Payload history: the source event as it arrived, next to the canonical notification.
ALTER TABLE notification ADD COLUMN raw_payload TEXT;

-- When a delivery first failed for good (FAILED or UNCERTAIN), for time to resolution.
ALTER TABLE delivery ADD COLUMN failed_at TIMESTAMPTZ;
CREATE INDEX delivery_open_failures ON delivery (updated_at DESC) WHERE state IN ('FAILED', 'PARKED', 'UNCERTAIN');
CREATE INDEX notification_refs_order ON notification ((canonical -> 'refs' ->> 'orderId'));
CREATE INDEX notification_refs_ticket ON notification ((canonical -> 'refs' ->> 'ticketId'));
