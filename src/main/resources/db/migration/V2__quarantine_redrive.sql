-- Re-drive of quarantined events: how often an operator re-drove one, when, and what came of it.
-- A re-driven event that succeeds is REDRIVEN (status) with its outcome; one that fails again
-- stays OPEN with the new step and reason.
ALTER TABLE unrouted_event ADD COLUMN redrive_count    INT  NOT NULL DEFAULT 0;
ALTER TABLE unrouted_event ADD COLUMN redriven_at      TIMESTAMPTZ;
ALTER TABLE unrouted_event ADD COLUMN redrive_outcome  TEXT;
CREATE INDEX unrouted_event_source ON unrouted_event (source, created_at DESC);
