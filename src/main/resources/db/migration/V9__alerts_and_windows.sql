-- Send windows: a notification is worth sending until occurred_at + its catalog window. The
-- deadline is fixed when the row is created, so a later catalog edit does not move it.
ALTER TABLE notification ADD COLUMN window_deadline TIMESTAMPTZ;
-- A delivery that missed its window: sent after the deadline (set to the time it was sent), or
-- still not sent (PENDING, RETRYING, PARKED, FAILED, UNCERTAIN) when the deadline passed (set to
-- when Herald noticed). SKIPPED and DISMISSED deliveries are not misses. Set once.
ALTER TABLE delivery ADD COLUMN window_missed_at TIMESTAMPTZ;

-- Failure alerts: set once the row has been included in an alert to the ops webhook (announced,
-- or counted under a group already announced). NULL = not yet alerted.
ALTER TABLE delivery ADD COLUMN alerted_at TIMESTAMPTZ;
ALTER TABLE unrouted_event ADD COLUMN alerted_at TIMESTAMPTZ;
ALTER TABLE dead_letter ADD COLUMN alerted_at TIMESTAMPTZ;

-- The rows the alert poll looks for. Rows leave these indexes once alerted (or flagged), so they stay small.
CREATE INDEX delivery_unalerted ON delivery (id)
  WHERE alerted_at IS NULL AND (state IN ('FAILED', 'UNCERTAIN') OR window_missed_at IS NOT NULL);
CREATE INDEX unrouted_event_unalerted ON unrouted_event (id) WHERE alerted_at IS NULL AND outcome = 'QUARANTINED';
CREATE INDEX dead_letter_unalerted ON dead_letter (id) WHERE alerted_at IS NULL;
-- Deliveries not (yet) sent and not yet flagged: the window check compares their deadline with now.
CREATE INDEX delivery_window_watch ON delivery (notification_id)
  WHERE window_missed_at IS NULL AND state IN ('PENDING', 'RETRYING', 'PARKED', 'FAILED', 'UNCERTAIN');

-- One row per kind of failure Herald has alerted about (kind + channel or source + reason class),
-- so an ongoing outage is announced once and then summarised at most once per herald.alerts.repeat-after,
-- whichever Herald instance runs the poll.
CREATE TABLE alert_group (
  group_key          VARCHAR(64)  PRIMARY KEY,   -- SHA-256 of the kind, channel or source, and reason class
  summary            TEXT         NOT NULL,      -- what the alert says this group is
  unit               VARCHAR(20)  NOT NULL,      -- what one failure is counted as: delivery, event, message
  example            TEXT,                       -- one (masked) reason from the group
  link               TEXT,                       -- where in the console to look
  first_alerted_at   TIMESTAMPTZ  NOT NULL,
  last_alerted_at    TIMESTAMPTZ  NOT NULL,      -- last announcement or reminder
  unannounced        INT          NOT NULL DEFAULT 0,   -- rows counted since then, for the next reminder
  unannounced_since  TIMESTAMPTZ
);
CREATE INDEX alert_group_reminders ON alert_group (last_alerted_at) WHERE unannounced > 0;
