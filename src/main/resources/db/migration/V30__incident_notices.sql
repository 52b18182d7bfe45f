-- Customer-facing incident notices (io.herald.incidents.IncidentNotices): one row per incident, firing episode and
-- customer an Alertmanager alert named (annotation customers, or a configured segment). The notices themselves are
-- ordinary notifications in the ledger (idempotency key from the group, the episode and the customer, so a repeat of
-- the firing group never creates a second); this table remembers who was named, so that the resolution can withdraw
-- a notice still awaiting approval or send a follow-up to a customer whose notice was approved.
CREATE TABLE incident_notice (
  incident_id  BIGINT       NOT NULL REFERENCES incident (id),
  episode      TIMESTAMPTZ  NOT NULL,          -- incident.fired_at of the firing the customer was named in
  customer_id  VARCHAR(64)  NOT NULL,          -- as the alert named it (cut to fit when it is not an id anyway)
  outcome      VARCHAR(20)  NOT NULL,          -- NOTICE (admitted), UNKNOWN (not in the directory: not notified),
                                               -- WITHDRAWN (resolved before approval), FOLLOWED_UP (resolution sent)
  notice_key   VARCHAR(400),                   -- the notice's idempotency key (notification.idempotency_key)
  reason       TEXT,                           -- why it was not notified, in words
  named_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
  updated_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, episode, customer_id)
);
