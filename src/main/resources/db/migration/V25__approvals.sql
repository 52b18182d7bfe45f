-- Approval before send (issue 16 point 1). A notification whose catalog type requires approval is not
-- dispatched: its deliveries wait as AWAITING_APPROVAL (written by DeliveryLedger.hold) and one approval row
-- per notification carries the decision. The approval row's state is the one place a decision is taken:
-- AWAITING -> APPROVED | REJECTED | EXPIRED, each by a conditional UPDATE (io.herald.approval.Approvals), so a
-- double click or two approvers at once decide once. Approved: the deliveries become PENDING (queued as
-- dispatch would have); rejected or expired: the deliveries end REJECTED or EXPIRED with the reason.
CREATE TABLE approval (
  notification_id  BIGINT       PRIMARY KEY REFERENCES notification (id),
  state            VARCHAR(20)  NOT NULL DEFAULT 'AWAITING',
  rule             TEXT         NOT NULL,      -- why it needs approval, in words (catalog rule that matched)
  requested_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
  expires_at       TIMESTAMPTZ  NOT NULL,
  decided_by       VARCHAR(200),              -- the approver, or 'Herald' for an expiry
  decided_at       TIMESTAMPTZ,
  comment          TEXT
);
-- The console's list and the expiry sweep read only the waiting ones.
CREATE INDEX approval_awaiting ON approval (expires_at) WHERE state = 'AWAITING';

-- An expired delivery is alerted like a failure (FailureAlerts): the unalerted index covers it too.
DROP INDEX delivery_unalerted;
CREATE INDEX delivery_unalerted ON delivery (id)
  WHERE alerted_at IS NULL AND (state IN ('FAILED', 'UNCERTAIN', 'EXPIRED') OR window_missed_at IS NOT NULL);
