-- Time-aware sends (issue 14). Two tables:
--
-- scheduled_tasks: db-scheduler's own table (com.github.kagkarlsson:db-scheduler, its PostgreSQL schema), the durable,
-- cluster-safe timer: one row per pending execution, picked by one instance at a time, revived when the instance that
-- picked it dies (kill -9) and stops heart-beating. Herald schedules one execution per waiting notification.
CREATE TABLE scheduled_tasks (
  task_name            TEXT                     NOT NULL,
  task_instance        TEXT                     NOT NULL,
  task_data            BYTEA,
  execution_time       TIMESTAMP WITH TIME ZONE NOT NULL,
  picked               BOOLEAN                  NOT NULL,
  picked_by            TEXT,
  last_success         TIMESTAMP WITH TIME ZONE,
  last_failure         TIMESTAMP WITH TIME ZONE,
  consecutive_failures INT,
  last_heartbeat       TIMESTAMP WITH TIME ZONE,
  version              BIGINT                   NOT NULL,
  priority             SMALLINT,
  PRIMARY KEY (task_name, task_instance)
);
CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC);

-- scheduled_send: what a waiting notification waits for, in words, and how it ended. Its deliveries wait as SCHEDULED
-- (sent by themselves at fire_at) or HELD (waiting for an operator: fire_at NULL), written by DeliveryLedger.hold.
-- One owner of the state machine, io.herald.schedule.ScheduledSends, each step one conditional UPDATE:
--   SCHEDULED -> FIRED (its time came) | SENT_NOW (an operator) | CANCELLED (an operator, a cancellation, a superseding event)
--   HELD      -> SENT_NOW (an operator) | DISMISSED (an operator)
CREATE TABLE scheduled_send (
  notification_id  BIGINT        PRIMARY KEY REFERENCES notification (id) ON DELETE CASCADE,
  state            VARCHAR(20)   NOT NULL,
  fire_at          TIMESTAMPTZ,                -- when it goes out by itself; NULL while HELD for an operator
  reason           TEXT          NOT NULL,     -- why it waits, in words ("quiet hours 21:00-08:00 in Europe/Berlin")
  match_key        VARCHAR(300),               -- what a cancelling event names (e.g. appointment:A-17, invoice:in_123)
  created_at       TIMESTAMPTZ   NOT NULL DEFAULT now(),
  decided_by       VARCHAR(200),               -- the operator, or 'Herald'
  decided_at       TIMESTAMPTZ,
  comment          TEXT
);
-- The console's list (by time) and the cancellations (by what they name) read only the waiting ones.
CREATE INDEX scheduled_send_waiting ON scheduled_send (fire_at, notification_id) WHERE state IN ('SCHEDULED', 'HELD');
CREATE INDEX scheduled_send_match ON scheduled_send (match_key) WHERE state IN ('SCHEDULED', 'HELD');

-- An approval row goes with its notification when retention deletes the notification (it has no life of its own: the
-- decision is also in the audit trail, which stays).
ALTER TABLE approval DROP CONSTRAINT approval_notification_id_fkey,
  ADD CONSTRAINT approval_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES notification (id) ON DELETE CASCADE;
