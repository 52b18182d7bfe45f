-- Two-way support notes (issue 13 point 6): a private note on the helpdesk ticket for each outcome of a support
-- notification's delivery (types with ticket-notes in config/catalog.yaml). Queued by a scan of recent outcomes and
-- posted by routes/ticket-notes.camel.yaml; io.herald.helpdesk.TicketNotes is the one writer of state.
-- state: PENDING (to post, at next_attempt_at; a claim moves next_attempt_at by a lease), POSTED, FAILED (refused by
-- the helpdesk, or retried until herald.helpdesk.max-attempts). One note per delivery and outcome, whatever repeats.
CREATE TABLE ticket_note (
  id               BIGSERIAL    PRIMARY KEY,
  delivery_id      BIGINT       NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,   -- kept as long as its delivery (retention)
  outcome          VARCHAR(20)  NOT NULL,
  ticket_id        VARCHAR(100) NOT NULL,
  body             TEXT         NOT NULL,
  state            VARCHAR(20)  NOT NULL DEFAULT 'PENDING',
  attempts         INT          NOT NULL DEFAULT 0,
  next_attempt_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
  provider_status  INT,
  reason           TEXT,
  created_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ  NOT NULL DEFAULT now(),
  posted_at        TIMESTAMPTZ,
  UNIQUE (delivery_id, outcome)
);
CREATE INDEX ticket_note_due ON ticket_note (next_attempt_at) WHERE state = 'PENDING';
CREATE INDEX ticket_note_recent ON ticket_note (updated_at DESC);

-- The scan finds recent outcomes through this index (the outcome states only, by time).
CREATE INDEX delivery_outcome_recent ON delivery (updated_at)
  WHERE state IN ('SENT', 'DELIVERED', 'BOUNCED', 'UNDELIVERED', 'COMPLAINED', 'FAILED', 'UNCERTAIN');
