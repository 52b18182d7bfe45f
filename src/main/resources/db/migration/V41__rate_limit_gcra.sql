-- Provider rate limits kept in plain SQL (dispatch/ProviderRateLimits), replacing V19's Bucket4j buckets: one row per
-- channel ('email', 'sms', 'push', 'ops_webhook', 'in_app') holding the instant the bucket's next permit is due (GCRA, the
-- generic cell rate algorithm: a token bucket written as one timestamp). A reservation locks the row, reads it and writes
-- it back in the transaction that asks, so the permits for a group of deliveries claimed for sending are reserved in the
-- same transaction as the claims (issue 17: at most one transaction per notification), and every instance on this
-- database shares the limit. The row also keeps the configuration it was last written with (interval between permits,
-- burst) and that configuration's version (the start time of the instance that wrote it): an instance started later
-- replaces it, so after a restart with a new rate every instance follows the new one. Rows are created on first use.
CREATE TABLE rate_limit_gcra (
  channel         VARCHAR(40)  PRIMARY KEY,
  tat_nanos       BIGINT       NOT NULL,   -- theoretical arrival time of the next permit (wall clock, epoch nanoseconds)
  interval_nanos  BIGINT       NOT NULL,   -- one permit every interval_nanos (the refill period / the refill per period)
  burst           INT          NOT NULL,   -- the most permits usable at once (the bucket's capacity)
  config_version  BIGINT       NOT NULL    -- epoch millis of the start of the instance whose configuration this is
);

DROP TABLE rate_limit_bucket;
