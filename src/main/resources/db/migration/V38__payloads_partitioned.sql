-- Payloads partitioned by month (issue 16 point 3): the bulk bytes leave the dedup-keyed tables (notification's unique
-- idempotency key, delivery's unique (notification_id, channel), and the many references to both cannot live on a table
-- partitioned by time) for two tables partitioned by the notification's received_at, so that herald.retention.payloads
-- drops a whole month of them (io.herald.retention.MonthlyPartitions) instead of updating rows one by one.
--   notification_payload: the raw source event and the canonical notification's data (notification.canonical keeps
--                         everything else, with "data": {}; herald_canonical() puts the data back for readers);
--   delivery_content:     the rendered subject and body of a delivery.
-- Both are keyed by their row and the notification's received_at, so one month of a notification's bytes lives in one
-- partition. The old columns (notification.raw_payload, delivery.subject, delivery.rendered_body) are dropped.

CREATE TABLE notification_payload (
  notification_id  BIGINT       NOT NULL REFERENCES notification (id) ON DELETE CASCADE,
  received_at      TIMESTAMPTZ  NOT NULL,   -- the notification's received_at (the partition key)
  raw_payload      TEXT,
  data             JSONB,
  PRIMARY KEY (notification_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE notification_payload_default PARTITION OF notification_payload DEFAULT;

CREATE TABLE delivery_content (
  delivery_id      BIGINT       NOT NULL REFERENCES delivery (id) ON DELETE CASCADE,
  received_at      TIMESTAMPTZ  NOT NULL,   -- its notification's received_at (the partition key)
  subject          TEXT,
  rendered_body    TEXT,
  PRIMARY KEY (delivery_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE delivery_content_default PARTITION OF delivery_content DEFAULT;

SELECT herald_month_partitions('notification_payload', coalesce((SELECT min(received_at) FROM notification), now())::DATE, 3);
SELECT herald_month_partitions('delivery_content', coalesce((SELECT min(received_at) FROM notification), now())::DATE, 3);

-- Payloads already removed (retention, erasure) have no row: their notification's payload_removed_at says when and why.
INSERT INTO notification_payload (notification_id, received_at, raw_payload, data)
  SELECT id, received_at, raw_payload, canonical -> 'data' FROM notification WHERE payload_removed_at IS NULL;
INSERT INTO delivery_content (delivery_id, received_at, subject, rendered_body)
  SELECT d.id, n.received_at, d.subject, d.rendered_body FROM delivery d JOIN notification n ON n.id = d.notification_id
  WHERE d.subject IS NOT NULL OR d.rendered_body IS NOT NULL;
UPDATE notification SET canonical = jsonb_set(canonical, '{data}', '{}') WHERE canonical -> 'data' <> '{}';
ALTER TABLE notification DROP COLUMN raw_payload;
ALTER TABLE delivery DROP COLUMN subject;
ALTER TABLE delivery DROP COLUMN rendered_body;

-- A notification's canonical form as it was admitted: the row's canonical with its data put back from its payload row
-- ("data": {} once the payload was removed). For readers that render or show it: herald_canonical(n.id, n.received_at, n.canonical).
CREATE FUNCTION herald_canonical(notification_id BIGINT, received_at TIMESTAMPTZ, canonical JSONB) RETURNS JSONB
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT jsonb_set($3, '{data}', p.data) FROM notification_payload p
                   WHERE p.notification_id = $1 AND p.received_at = $2 AND p.data IS NOT NULL), $3)
$$;

-- The months whose payload partitions retention dropped, and when: a notification of such a month without a payload row
-- reads "payload removed by retention on <dropped_at>" (io.herald.retention.PayloadRemovals). Payload rows removed one by
-- one (erasure, retention in the default partition) mark their notification's payload_removed_at instead.
CREATE TABLE payload_month_dropped (
  month       DATE         PRIMARY KEY,   -- the first day of the month (UTC)
  dropped_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- How the payload of a notification was removed, for those whose payload is gone (one row per such notification).
CREATE VIEW notification_payload_removal AS
  SELECT n.id AS notification_id, coalesce(n.payload_removed_by, 'retention') AS removed_by,
         coalesce(n.payload_removed_at, m.dropped_at) AS removed_at
  FROM notification n
  LEFT JOIN payload_month_dropped m ON m.month = CAST(date_trunc('month', n.received_at AT TIME ZONE 'UTC') AS DATE)
  WHERE n.payload_removed_at IS NOT NULL
     OR (m.dropped_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM notification_payload p WHERE p.notification_id = n.id AND p.received_at = n.received_at));

-- The notifications not routed yet, for retention's look-up of a month's notifications still in progress (their payloads
-- are carried to the default partition when the month is dropped).
CREATE INDEX notification_not_routed ON notification (received_at) WHERE state = 'RECEIVED';

-- Retention no longer looks for notifications whose payload is kept (it drops their months, and reads the default
-- partition): V26's index of them would only cost every admission a write.
DROP INDEX notification_payload_kept;
