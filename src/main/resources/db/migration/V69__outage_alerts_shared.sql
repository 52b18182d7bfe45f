-- Outages announced on the ops webhook (io.herald.ops.OutageAlerts), shared by every Herald instance on this database:
-- each instance records the outages it sees (last_seen_at), and the start and the end of an outage are each posted by one
-- instance, which claims the row for the post (claimed_until), so two instances seeing the same parked backlog, Kafka
-- outage or failing provider post it once, and its end once, when no instance has seen it for herald.alerts.outage-settle.
CREATE TABLE outage_alert (
    outage        text PRIMARY KEY,          -- provider:<channel>, parked:<channel>, kafka, postgresql
    detail        text NOT NULL,             -- the start's words, %s standing for the time it started
    since         timestamptz NOT NULL,      -- first seen by any instance
    last_seen_at  timestamptz NOT NULL,      -- last seen by any instance
    announced_at  timestamptz,               -- its start was posted
    claimed_until timestamptz                -- an instance is posting its start or end until then
);
