-- Approval of resends (issue 16): an operator's resend of a delivery whose notification's type needs approval (catalog
-- approval: required, or above its threshold) is held like the original. One row per held resend (its delivery_resend row
-- stays PENDING meanwhile, which also keeps a second resend of the delivery out), AWAITING -> APPROVED / REJECTED / EXPIRED,
-- each decided once by a conditional UPDATE (io.herald.approval.ResendApprovals). Four eyes: requested_by may not approve it.
-- Deleted with its resend (retention of the ledger).
CREATE TABLE resend_approval (
  resend_id        BIGINT        PRIMARY KEY REFERENCES delivery_resend (id) ON DELETE CASCADE,
  delivery_id      BIGINT        NOT NULL,
  notification_id  BIGINT        NOT NULL,
  rule             TEXT          NOT NULL,      -- why it is held, in words (the catalog's rule)
  requested_by     VARCHAR(200)  NOT NULL,      -- the operator who asked for the resend
  state            VARCHAR(20)   NOT NULL DEFAULT 'AWAITING',
  requested_at     TIMESTAMPTZ   NOT NULL DEFAULT now(),
  expires_at       TIMESTAMPTZ   NOT NULL,
  decided_by       VARCHAR(200),
  decided_at       TIMESTAMPTZ,
  comment          TEXT
);
CREATE INDEX resend_approval_awaiting ON resend_approval (expires_at) WHERE state = 'AWAITING';
