-- Incidents from Prometheus Alertmanager (POST /webhooks/incidents): one row per alert group (Alertmanager's
-- groupKey, kept as its SHA-256 so any key fits), holding what was last announced on the ops webhook.
-- The instance whose INSERT ... ON CONFLICT ... WHERE writes the row is the one that posts, in the same
-- transaction: a repeat of the same firing alerts changes nothing and is not posted, two deliveries of the
-- same notification at once produce one post, and a post the ops webhook did not take leaves no trace.
CREATE TABLE incident (
  id              BIGSERIAL    PRIMARY KEY,
  group_digest    CHAR(64)     NOT NULL UNIQUE,   -- SHA-256 (hex) of Alertmanager's groupKey
  group_key       TEXT         NOT NULL,          -- the groupKey as shown (control characters escaped, cut)
  receiver        VARCHAR(200),
  status          VARCHAR(10)  NOT NULL,          -- firing, resolved: what was last announced
  title           TEXT         NOT NULL,          -- the group's labels, as people read them
  summary         TEXT,                           -- the group's common summary annotation
  link            TEXT,                           -- Alertmanager's externalURL
  alerts_digest   CHAR(64)     NOT NULL,          -- SHA-256 of the announced alerts' fingerprints
  alert_count     INT          NOT NULL,
  fired_at        TIMESTAMPTZ,                    -- when the current (or last) firing was first announced
  resolved_at     TIMESTAMPTZ,
  posts           INT          NOT NULL DEFAULT 1, -- posts made to the ops webhook for this group
  repeats         INT          NOT NULL DEFAULT 0, -- notifications received that announced nothing new (not posted)
  updated_at      TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX incident_recent ON incident (updated_at DESC);
