-- The ledger's notifications and deliveries partitioned by month (issue 16 point 3): herald.retention.ledger drops a whole
-- month of both (io.herald.retention.MonthlyPartitions) once none of its notifications is in progress, instead of deleting
-- them row by row.
--   * A notification's id carries its month: (months since 2000-01, UTC) << 40 | the sequence's next value (40 bits), so
--     ids still grow with time, stay below 2^53 (JSON readers keep them exact) until the year 2682, and both tables can be
--     partitioned by it: notification by id, delivery by notification_id, the same bounds, a month of each dropped together.
--     The primary key of notification and every foreign key to notification(id) stay.
--   * The rows so far keep their ids and their tables: they become the partitions notification_legacy and delivery_legacy
--     (ids below 2^40, no month), deleted in batches as before; months get <table>_pYYYY_MM, created ahead by the
--     retention job; <table>_default catches an id outside every month (none expected), so an insert never fails.
--   * The idempotency key can no longer be a unique index (it would have to include the id): admission
--     (io.herald.ledger.NotificationLedger) takes a transaction-scoped advisory lock per key and inserts only if no month
--     holds it (index below, one probe per partition).
--   * delivery's primary key includes the partition key, as PostgreSQL requires: (id, notification_id); ids keep their
--     sequence, and (notification_id, channel) stays unique (the dispatch's ON CONFLICT arbiter). So nothing can reference a
--     delivery by id with a foreign key any more: inbox messages, resends, ticket notes and rendered contents name their
--     delivery, and retention deletes them with it.

CREATE FUNCTION herald_month_id(month DATE) RETURNS BIGINT IMMUTABLE LANGUAGE sql AS $$
  SELECT ((EXTRACT(YEAR FROM month)::BIGINT - 2000) * 12 + EXTRACT(MONTH FROM month)::BIGINT - 1) << 40
$$;

CREATE FUNCTION herald_notification_id() RETURNS BIGINT VOLATILE LANGUAGE sql AS $$
  SELECT herald_month_id(CAST(now() AT TIME ZONE 'UTC' AS DATE)) | (nextval('notification_id_seq') & 1099511627775)
$$;

-- Monthly partitions of the tables partitioned by notification id, as herald_month_partitions does for those by time.
CREATE FUNCTION herald_id_month_partitions(parent TEXT, first_month DATE, months_ahead INT) RETURNS INT
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
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', part_name, parent,
                     herald_month_id(month), herald_month_id((month + INTERVAL '1 month')::DATE));
      created := created + 1;
    END IF;
    month := (month + INTERVAL '1 month')::DATE;
  END LOOP;
  RETURN created;
END $$;

-- The references to the tables that become partitions: dropped here, made again to the partitioned tables (or not at all).
ALTER TABLE approval DROP CONSTRAINT approval_notification_id_fkey;
ALTER TABLE customer_digest_member DROP CONSTRAINT customer_digest_member_notification_id_fkey;
ALTER TABLE customer_digest DROP CONSTRAINT customer_digest_opened_by_fkey;
ALTER TABLE notification_payload DROP CONSTRAINT notification_payload_notification_id_fkey;
ALTER TABLE scheduled_send DROP CONSTRAINT scheduled_send_notification_id_fkey;
ALTER TABLE delivery DROP CONSTRAINT delivery_notification_id_fkey;
ALTER TABLE delivery DROP CONSTRAINT delivery_digest_id_fkey;
ALTER TABLE inbox_message DROP CONSTRAINT inbox_message_delivery_id_fkey;
ALTER TABLE delivery_resend DROP CONSTRAINT delivery_resend_delivery_id_fkey;
ALTER TABLE ticket_note DROP CONSTRAINT ticket_note_delivery_id_fkey;
ALTER TABLE delivery_content DROP CONSTRAINT delivery_content_delivery_id_fkey;

-- notification
ALTER TABLE notification RENAME TO notification_legacy;
ALTER TABLE notification_legacy DROP CONSTRAINT notification_idempotency_key_key;
ALTER TABLE notification_legacy RENAME CONSTRAINT notification_pkey TO notification_legacy_pkey;
ALTER INDEX notification_customer RENAME TO notification_legacy_customer;
ALTER INDEX notification_customer_newest RENAME TO notification_legacy_customer_newest;
ALTER INDEX notification_not_routed RENAME TO notification_legacy_not_routed;
ALTER INDEX notification_received RENAME TO notification_legacy_received;
ALTER INDEX notification_refs_order RENAME TO notification_legacy_refs_order;
ALTER INDEX notification_refs_ticket RENAME TO notification_legacy_refs_ticket;
ALTER INDEX notification_source_type RENAME TO notification_legacy_source_type;

CREATE TABLE notification (LIKE notification_legacy INCLUDING DEFAULTS INCLUDING STORAGE) PARTITION BY RANGE (id);
ALTER TABLE notification ALTER COLUMN id SET DEFAULT herald_notification_id();
ALTER SEQUENCE notification_id_seq OWNED BY notification.id;
ALTER TABLE notification ADD CONSTRAINT notification_pkey PRIMARY KEY (id);
-- Admission looks a key up here under the key's advisory lock.
CREATE INDEX notification_key ON notification (idempotency_key);
CREATE INDEX notification_customer ON notification (customer_id);
CREATE INDEX notification_customer_newest ON notification (customer_id, received_at DESC, id DESC);
CREATE INDEX notification_not_routed ON notification (received_at) WHERE state = 'RECEIVED';
CREATE INDEX notification_received ON notification (received_at);
CREATE INDEX notification_refs_order ON notification ((canonical -> 'refs' ->> 'orderId'));
CREATE INDEX notification_refs_ticket ON notification ((canonical -> 'refs' ->> 'ticketId'));
CREATE INDEX notification_source_type ON notification (source, type);
ALTER TABLE notification ATTACH PARTITION notification_legacy FOR VALUES FROM (MINVALUE) TO (1099511627776);
CREATE TABLE notification_default PARTITION OF notification DEFAULT;

-- delivery
ALTER TABLE delivery RENAME TO delivery_legacy;
ALTER TABLE delivery_legacy DROP CONSTRAINT delivery_pkey;
ALTER TABLE delivery_legacy RENAME CONSTRAINT delivery_notification_id_channel_key TO delivery_legacy_notification_id_channel_key;
ALTER INDEX delivery_customer_in_flight RENAME TO delivery_legacy_customer_in_flight;
ALTER INDEX delivery_digest RENAME TO delivery_legacy_digest;
ALTER INDEX delivery_digest_waiting RENAME TO delivery_legacy_digest_waiting;
ALTER INDEX delivery_dismissed RENAME TO delivery_legacy_dismissed;
ALTER INDEX delivery_due RENAME TO delivery_legacy_due;
ALTER INDEX delivery_failed_at RENAME TO delivery_legacy_failed_at;
ALTER INDEX delivery_late RENAME TO delivery_legacy_late;
ALTER INDEX delivery_open_failures RENAME TO delivery_legacy_open_failures;
ALTER INDEX delivery_outcome_recent RENAME TO delivery_legacy_outcome_recent;
ALTER INDEX delivery_parked_due RENAME TO delivery_legacy_parked_due;
ALTER INDEX delivery_provider_message RENAME TO delivery_legacy_provider_message;
ALTER INDEX delivery_skipped RENAME TO delivery_legacy_skipped;
ALTER INDEX delivery_state RENAME TO delivery_legacy_state;
ALTER INDEX delivery_unalerted RENAME TO delivery_legacy_unalerted;
ALTER INDEX delivery_window_missed RENAME TO delivery_legacy_window_missed;
ALTER INDEX delivery_window_missed_recent RENAME TO delivery_legacy_window_missed_recent;
ALTER INDEX delivery_window_watch RENAME TO delivery_legacy_window_watch;

CREATE TABLE delivery (LIKE delivery_legacy INCLUDING DEFAULTS INCLUDING STORAGE) PARTITION BY RANGE (notification_id);
ALTER SEQUENCE delivery_id_seq OWNED BY delivery.id;
ALTER TABLE delivery ADD CONSTRAINT delivery_pkey PRIMARY KEY (id, notification_id);
ALTER TABLE delivery ADD CONSTRAINT delivery_notification_id_channel_key UNIQUE (notification_id, channel);
ALTER TABLE delivery ADD CONSTRAINT delivery_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES notification (id);
ALTER TABLE delivery ADD CONSTRAINT delivery_digest_id_fkey FOREIGN KEY (digest_id) REFERENCES ops_digest (id);
CREATE INDEX delivery_customer_in_flight ON delivery (channel, customer_id, id)
  WHERE state IN ('PENDING', 'SENDING') AND customer_id IS NOT NULL;
CREATE INDEX delivery_digest ON delivery (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX delivery_digest_waiting ON delivery (digest_id, id) WHERE state = 'DIGEST_WAITING';
CREATE INDEX delivery_dismissed ON delivery (updated_at DESC) WHERE state = 'DISMISSED';
CREATE INDEX delivery_due ON delivery (channel, next_attempt_at, id) WHERE state IN ('PENDING', 'PARKED') AND next_attempt_at IS NOT NULL;
CREATE INDEX delivery_failed_at ON delivery (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX delivery_late ON delivery (late_at) WHERE late_at IS NOT NULL;
CREATE INDEX delivery_open_failures ON delivery (updated_at DESC) WHERE state IN ('FAILED', 'PARKED', 'UNCERTAIN');
CREATE INDEX delivery_outcome_recent ON delivery (updated_at)
  WHERE state IN ('SENT', 'DELIVERED', 'BOUNCED', 'UNDELIVERED', 'COMPLAINED', 'FAILED', 'UNCERTAIN');
CREATE INDEX delivery_parked_due ON delivery (next_attempt_at) WHERE state = 'PARKED';
CREATE INDEX delivery_provider_message ON delivery (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX delivery_skipped ON delivery (updated_at DESC, id DESC) WHERE state = 'SKIPPED';
CREATE INDEX delivery_state ON delivery (state);
CREATE INDEX delivery_unalerted ON delivery (id)
  WHERE alerted_at IS NULL AND (state IN ('FAILED', 'UNCERTAIN', 'EXPIRED') OR window_missed_at IS NOT NULL);
CREATE INDEX delivery_window_missed ON delivery (window_missed_at) WHERE window_missed_at IS NOT NULL;
CREATE INDEX delivery_window_missed_recent ON delivery (updated_at DESC) WHERE window_missed_at IS NOT NULL;
CREATE INDEX delivery_window_watch ON delivery (notification_id)
  WHERE window_missed_at IS NULL AND state IN ('PENDING', 'RETRYING', 'PARKED', 'FAILED', 'UNCERTAIN');
ALTER TABLE delivery ATTACH PARTITION delivery_legacy FOR VALUES FROM (MINVALUE) TO (1099511627776);
CREATE TABLE delivery_default PARTITION OF delivery DEFAULT;

SELECT herald_id_month_partitions('notification', now()::DATE, 3);
SELECT herald_id_month_partitions('delivery', now()::DATE, 3);

-- The references to notification(id), made again to the partitioned table.
ALTER TABLE approval ADD CONSTRAINT approval_notification_id_fkey
  FOREIGN KEY (notification_id) REFERENCES notification (id) ON DELETE CASCADE;
ALTER TABLE customer_digest_member ADD CONSTRAINT customer_digest_member_notification_id_fkey
  FOREIGN KEY (notification_id) REFERENCES notification (id) ON DELETE CASCADE;
ALTER TABLE customer_digest ADD CONSTRAINT customer_digest_opened_by_fkey
  FOREIGN KEY (opened_by) REFERENCES notification (id) ON DELETE CASCADE;
ALTER TABLE notification_payload ADD CONSTRAINT notification_payload_notification_id_fkey
  FOREIGN KEY (notification_id) REFERENCES notification (id) ON DELETE CASCADE;
ALTER TABLE scheduled_send ADD CONSTRAINT scheduled_send_notification_id_fkey
  FOREIGN KEY (notification_id) REFERENCES notification (id) ON DELETE CASCADE;

-- Views name their tables once: made again on the partitioned table.
CREATE OR REPLACE VIEW notification_payload_removal AS
  SELECT n.id AS notification_id, coalesce(n.payload_removed_by, 'retention') AS removed_by,
         coalesce(n.payload_removed_at, m.dropped_at) AS removed_at
  FROM notification n
  LEFT JOIN payload_month_dropped m ON m.month = CAST(date_trunc('month', n.received_at AT TIME ZONE 'UTC') AS DATE)
  WHERE n.payload_removed_at IS NOT NULL
     OR (m.dropped_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM notification_payload p WHERE p.notification_id = n.id AND p.received_at = n.received_at));

-- Retention deletes the resends of a month's deliveries before dropping the month (the foreign key that found them is gone).
CREATE INDEX delivery_resend_delivery ON delivery_resend (delivery_id);
