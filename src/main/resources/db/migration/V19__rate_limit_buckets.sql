-- Provider rate limits shared by every Herald instance on this database (dispatch/ProviderRateLimits):
-- one Bucket4j token bucket per channel ('email', 'sms', 'push', 'ops_webhook', 'in_app'), in the shape
-- Bucket4j's PostgreSQLSelectForUpdateBasedProxyManager reads and writes: the bucket's configuration and
-- tokens serialised in state, locked row by row (SELECT ... FOR UPDATE) for the time of one take.
-- Rows are created by Bucket4j on first use; nothing else writes here.
CREATE TABLE rate_limit_bucket (
  id     VARCHAR(40) PRIMARY KEY,
  state  BYTEA
);
