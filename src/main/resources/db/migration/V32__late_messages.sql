-- The late-message policy (issue 14 point 5, config/catalog.yaml late: send | drop | hold, valid-until).
-- late_at: when the policy stopped this delivery because it was late (past its window or past the time its data names in
-- valid-until): it then ended EXPIRED (late: drop) or waits HELD for an operator (late: hold). NULL for every other
-- delivery, so an EXPIRED delivery with late_at is "too late to be worth sending", one without it "not approved in time"
-- (issue 16). Written by io.herald.ledger.DeliveryLedger (expireLate, holdLate, markLate) only.
ALTER TABLE delivery ADD COLUMN late_at TIMESTAMPTZ;
-- The weekly review counts them by week.
CREATE INDEX delivery_late ON delivery (late_at) WHERE late_at IS NOT NULL;
