-- An outcome is written only by the attempt that claimed the delivery: claim_token is set when a
-- delivery is claimed for sending and cleared when its outcome is written, so a late answer from an
-- attempt that was given up (timed out, taken for a crash) matches nothing and changes nothing.
ALTER TABLE delivery ADD COLUMN claim_token UUID;

-- A resend is an attempt of its own, with its own state, provider key (…:resend-<id>), claim token
-- and park schedule; it never changes the delivery's SENT record. outcome is its state:
-- PENDING -> SENDING -> SENT | PARKED | FAILED | UNCERTAIN | SKIPPED.
ALTER TABLE delivery_resend ADD COLUMN claim_token          UUID;
ALTER TABLE delivery_resend ADD COLUMN provider_message_id  VARCHAR(300);
ALTER TABLE delivery_resend ADD COLUMN next_attempt_at      TIMESTAMPTZ;
ALTER TABLE delivery_resend ADD COLUMN parked_count         INT NOT NULL DEFAULT 0;
ALTER TABLE delivery_resend ADD COLUMN updated_at           TIMESTAMPTZ NOT NULL DEFAULT now();
-- Two clicks or two operators at once: at most one resend of a delivery is in progress.
CREATE UNIQUE INDEX delivery_resend_one_open ON delivery_resend (delivery_id) WHERE outcome IN ('PENDING', 'SENDING', 'PARKED');
CREATE INDEX delivery_resend_parked_due ON delivery_resend (next_attempt_at) WHERE outcome = 'PARKED';
