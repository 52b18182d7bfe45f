-- Long provider outages: a delivery still failing transiently after its in-process retries is
-- PARKED with the time of its next attempt, and re-driven by the parked-deliveries route.
ALTER TABLE delivery ADD COLUMN next_attempt_at TIMESTAMPTZ;
ALTER TABLE delivery ADD COLUMN parked_count    INT NOT NULL DEFAULT 0;
CREATE INDEX delivery_parked_due ON delivery (next_attempt_at) WHERE state = 'PARKED';
