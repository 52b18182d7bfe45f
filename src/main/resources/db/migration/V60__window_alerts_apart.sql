-- A delivery that missed its send window is alerted for that (window_alerted_at), and alerted again if it then fails
-- (alerted_at). Before, the window alert set alerted_at, so when the same delivery later failed (parked until its retries
-- ran out, say) that failure was never alerted (io.herald.ops.FailureAlerts).
ALTER TABLE delivery ADD COLUMN window_alerted_at TIMESTAMPTZ;

-- Window alerts already posted: kept as such; the deliveries among them still under way owe their failure alert, if any.
UPDATE delivery SET window_alerted_at = alerted_at,
                    alerted_at = CASE WHEN state IN ('PENDING', 'RETRYING', 'PARKED', 'SENDING') THEN NULL ELSE alerted_at END
WHERE window_missed_at IS NOT NULL AND alerted_at IS NOT NULL AND state NOT IN ('FAILED', 'UNCERTAIN', 'EXPIRED', 'HELD');

-- The failure alerts' poll, as FailureAlerts.UNALERTED_DELIVERIES asks it (late-held deliveries are covered too now).
DROP INDEX delivery_unalerted;
CREATE INDEX delivery_unalerted ON delivery (id)
  WHERE alerted_at IS NULL AND (state IN ('FAILED', 'UNCERTAIN', 'EXPIRED') OR (window_missed_at IS NOT NULL AND window_alerted_at IS NULL)
                                OR (state = 'HELD' AND late_at IS NOT NULL));
