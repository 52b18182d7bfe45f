-- Retention, erasure and growth (issue 16 points 3 and 5). What is kept how long is herald.retention.*; the job is
-- routes/retention.camel.yaml (io.herald.retention.RetentionJob).

-- Payloads (the raw source event, the canonical notification's data, rendered subjects and bodies) are removed after
-- herald.retention.payloads, or at once when the customer is erased; the row (state, reason, counts) stays. When and why
-- (retention, erasure) it was removed, so the console, the proof of delivery and a re-drive say so instead of failing.
ALTER TABLE notification   ADD COLUMN payload_removed_at TIMESTAMPTZ;
ALTER TABLE notification   ADD COLUMN payload_removed_by VARCHAR(20);   -- retention, erasure
ALTER TABLE unrouted_event ADD COLUMN payload_removed_at TIMESTAMPTZ;
ALTER TABLE unrouted_event ADD COLUMN payload_removed_by VARCHAR(20);
ALTER TABLE dead_letter    ADD COLUMN payload_removed_at TIMESTAMPTZ;
ALTER TABLE dead_letter    ADD COLUMN payload_removed_by VARCHAR(20);

-- The rows the retention job looks for, oldest first; rows leave the partial indexes once their payload is gone.
CREATE INDEX notification_received ON notification (received_at);
CREATE INDEX notification_payload_kept ON notification (received_at) WHERE payload_removed_at IS NULL;
CREATE INDEX unrouted_event_payload_kept ON unrouted_event (created_at) WHERE payload_removed_at IS NULL;
CREATE INDEX unrouted_event_created ON unrouted_event (created_at);
CREATE INDEX dead_letter_payload_kept ON dead_letter (created_at) WHERE payload_removed_at IS NULL;
CREATE INDEX delivery_receipt_received ON delivery_receipt (received_at);
CREATE INDEX camel_messageprocessed_created ON camel_messageprocessed (createdAt);
CREATE INDEX ops_digest_posted ON ops_digest (posted_at) WHERE posted_at IS NOT NULL;
CREATE INDEX delivery_digest ON delivery (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX suppression_receipt ON suppression (receipt_id) WHERE receipt_id IS NOT NULL;

-- Indexes the console's filters need (every filter of the failures view and the weekly review, shown by IndexesTest):
-- the weekly review's failures and window misses of a week and its duplicates (notification_received), the failures
-- view's DISMISSED and WINDOW_MISSED states newest first (FAILED, PARKED, UNCERTAIN: delivery_open_failures, V8), its
-- source and type filters, and the quarantined events of a week.
CREATE INDEX delivery_failed_at ON delivery (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX delivery_window_missed ON delivery (window_missed_at) WHERE window_missed_at IS NOT NULL;
CREATE INDEX delivery_dismissed ON delivery (updated_at DESC) WHERE state = 'DISMISSED';
CREATE INDEX delivery_window_missed_recent ON delivery (updated_at DESC) WHERE window_missed_at IS NOT NULL;
CREATE INDEX notification_source_type ON notification (source, type);
CREATE INDEX unrouted_event_quarantined ON unrouted_event (created_at) WHERE outcome = 'QUARANTINED';

-- Erasure of one customer on request: the tombstone that makes a later event for them quarantined with this reason.
-- Kept for good (it holds the customer's id, no contact data); the operator_action row (ERASE) is its audit trail.
CREATE TABLE customer_erasure (
  id            BIGSERIAL    PRIMARY KEY,
  customer_id   VARCHAR(64)  NOT NULL UNIQUE,
  erased_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
  requested_by  VARCHAR(200) NOT NULL,
  comment       TEXT         NOT NULL,
  counts        TEXT         NOT NULL     -- what was removed, in words (kept for the record)
);

-- Monthly partitions (UTC) named <table>_pYYYY_MM, created ahead by the retention job and dropped whole once the month is
-- past retention. Rows outside every month land in <table>_default, so an insert never fails for want of a partition.
CREATE FUNCTION herald_month_partitions(parent TEXT, first_month DATE, months_ahead INT) RETURNS INT
LANGUAGE plpgsql AS $$
DECLARE
  month DATE := date_trunc('month', first_month)::DATE;
  last_month DATE := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead))::DATE;
  created INT := 0;
  part_name TEXT;
BEGIN
  WHILE month <= last_month LOOP
    part_name := parent || '_p' || to_char(month, 'YYYY_MM');
    IF to_regclass(part_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part_name, parent,
                     month::TIMESTAMP AT TIME ZONE 'UTC', (month + INTERVAL '1 month')::TIMESTAMP AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
    month := (month + INTERVAL '1 month')::DATE;
  END LOOP;
  RETURN created;
END $$;

-- Attempts: append-only, the largest table (one row per try). Partitioned by attempted_at. The primary key includes the
-- partition key, as PostgreSQL requires; nothing references an attempt by id. The reference to delivery is not kept
-- (a partition is dropped whole, the ledger's delivery rows are deleted in batches): an attempt row outlives its delivery
-- by at most a month. The engine's statements only INSERT attempts (no ON CONFLICT), unchanged.
ALTER TABLE delivery_attempt RENAME TO delivery_attempt_unpartitioned;
ALTER INDEX delivery_attempt_delivery RENAME TO delivery_attempt_unpartitioned_delivery;
CREATE TABLE delivery_attempt (
  id               BIGINT       NOT NULL DEFAULT nextval('delivery_attempt_id_seq'),
  delivery_id      BIGINT       NOT NULL,
  attempted_at     TIMESTAMPTZ  NOT NULL DEFAULT now(),
  outcome          VARCHAR(20)  NOT NULL,
  provider_status  INT,
  reason           TEXT,
  PRIMARY KEY (id, attempted_at)
) PARTITION BY RANGE (attempted_at);
CREATE TABLE delivery_attempt_default PARTITION OF delivery_attempt DEFAULT;
SELECT herald_month_partitions('delivery_attempt',
       coalesce((SELECT min(attempted_at) FROM delivery_attempt_unpartitioned), now())::DATE, 3);
INSERT INTO delivery_attempt (id, delivery_id, attempted_at, outcome, provider_status, reason)
  SELECT id, delivery_id, attempted_at, outcome, provider_status, reason FROM delivery_attempt_unpartitioned;
ALTER SEQUENCE delivery_attempt_id_seq OWNED BY delivery_attempt.id;
DROP TABLE delivery_attempt_unpartitioned;
CREATE INDEX delivery_attempt_delivery ON delivery_attempt (delivery_id, id);

-- Refused inbound requests: append-only, partitioned by received_at. Excerpts are cleared after
-- herald.retention.rejected-excerpts; the rows (counts per source and kind) go with their month after herald.retention.ledger.
ALTER TABLE inbound_rejection RENAME TO inbound_rejection_unpartitioned;
ALTER INDEX inbound_rejection_signature_recent RENAME TO inbound_rejection_unpartitioned_signature_recent;
CREATE TABLE inbound_rejection (
  id            BIGINT       NOT NULL DEFAULT nextval('inbound_rejection_id_seq'),
  source        VARCHAR(20)  NOT NULL,
  http_status   INT          NOT NULL,
  reason        TEXT         NOT NULL,
  remote_addr   VARCHAR(64),
  content_type  VARCHAR(200),
  body_bytes    BIGINT       NOT NULL,
  body_excerpt  TEXT,
  received_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE inbound_rejection_default PARTITION OF inbound_rejection DEFAULT;
SELECT herald_month_partitions('inbound_rejection',
       coalesce((SELECT min(received_at) FROM inbound_rejection_unpartitioned), now())::DATE, 3);
INSERT INTO inbound_rejection SELECT id, source, http_status, reason, remote_addr, content_type, body_bytes, body_excerpt, received_at
  FROM inbound_rejection_unpartitioned;
ALTER SEQUENCE inbound_rejection_id_seq OWNED BY inbound_rejection.id;
DROP TABLE inbound_rejection_unpartitioned;
CREATE INDEX inbound_rejection_signature_recent ON inbound_rejection (received_at) WHERE http_status = 401;
CREATE INDEX inbound_rejection_excerpt_kept ON inbound_rejection (received_at) WHERE body_excerpt IS NOT NULL;
