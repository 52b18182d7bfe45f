-- The ledger's two large tables partitioned by month without slowing the engine (issue 16, point 3): the rows the engine
-- works on stay where they are, in `notification` and `delivery`, which become the working-set partitions
-- (archived_month = 0) of two partitioned tables, `notification_all` and `delivery_all`. A settled notification past
-- herald.retention.archive-after moves with its deliveries, once, to the month it was received in (archived_month =
-- YYYYMM, partitions notification_aYYYY_MM and delivery_aYYYY_MM, created by herald_archive_month); retention drops
-- a month of both whole once it is past herald.retention.ledger. The engine's statements keep naming `notification` and
-- `delivery`: the same tables, indexes and plans as before, kept small. What may read an old row (the console, the
-- proof, the API, erasure) reads `notification_all` and `delivery_all`; a change to an archived row (an operator's retry
-- or resend, a late provider receipt) brings it back to the working set first (io.herald.ledger.WorkingSet).
--
-- A row moving between partitions must not break a reference, so nothing refers to notification or delivery by foreign
-- key any more: what used to go with them by ON DELETE CASCADE is deleted with them by retention (LedgerDependents).

ALTER TABLE delivery DROP CONSTRAINT IF EXISTS delivery_notification_id_fkey;
ALTER TABLE notification_payload DROP CONSTRAINT IF EXISTS notification_payload_notification_id_fkey;
ALTER TABLE approval DROP CONSTRAINT IF EXISTS approval_notification_id_fkey;
ALTER TABLE customer_digest_member DROP CONSTRAINT IF EXISTS customer_digest_member_notification_id_fkey;
ALTER TABLE customer_digest DROP CONSTRAINT IF EXISTS customer_digest_opened_by_fkey;
ALTER TABLE scheduled_send DROP CONSTRAINT IF EXISTS scheduled_send_notification_id_fkey;
ALTER TABLE delivery_content DROP CONSTRAINT IF EXISTS delivery_content_delivery_id_fkey;
ALTER TABLE delivery_resend DROP CONSTRAINT IF EXISTS delivery_resend_delivery_id_fkey;
ALTER TABLE inbox_message DROP CONSTRAINT IF EXISTS inbox_message_delivery_id_fkey;
ALTER TABLE push_device_send DROP CONSTRAINT IF EXISTS push_device_send_delivery_id_fkey;
ALTER TABLE ticket_note DROP CONSTRAINT IF EXISTS ticket_note_delivery_id_fkey;

-- The column is added with a constant default (no rewrite) and a CHECK that lets ATTACH skip reading the table.
ALTER TABLE notification ADD COLUMN archived_month INT NOT NULL DEFAULT 0 CONSTRAINT notification_working_set CHECK (archived_month = 0);
ALTER TABLE delivery ADD COLUMN archived_month INT NOT NULL DEFAULT 0 CONSTRAINT delivery_working_set CHECK (archived_month = 0);
CREATE TABLE notification_all (LIKE notification INCLUDING DEFAULTS) PARTITION BY LIST (archived_month);
CREATE TABLE delivery_all (LIKE delivery INCLUDING DEFAULTS) PARTITION BY LIST (archived_month);
ALTER TABLE notification_all ATTACH PARTITION notification FOR VALUES IN (0);
ALTER TABLE delivery_all ATTACH PARTITION delivery FOR VALUES IN (0);
ALTER TABLE notification DROP CONSTRAINT notification_working_set;
ALTER TABLE delivery DROP CONSTRAINT delivery_working_set;

-- A month of the archive: both partitions, with the working set's indexes (the console's filters read them the same way),
-- created empty and attached (ATTACH takes SHARE UPDATE EXCLUSIVE on the parent: the engine, which names the working set,
-- is not held up). Returns how many it created.
CREATE FUNCTION herald_archive_month(month INT) RETURNS INT
LANGUAGE plpgsql AS $$
DECLARE
  created INT := 0;
  part_name TEXT;
  t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['notification', 'delivery'] LOOP
    part_name := t || '_a' || (month / 100)::TEXT || '_' || lpad((month % 100)::TEXT, 2, '0');
    IF to_regclass(part_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING INDEXES)', part_name, t);
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)', t || '_all', part_name, month);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- An event's idempotency key is kept once across the working set and the archive: a new notification whose key an
-- archived one holds is not inserted (counted as a suppressed duplicate on the archived row), as ON CONFLICT does in the
-- working set. The shared advisory lock keeps a move to the archive (which takes it exclusively) from running between
-- this look and the insert: a key moved at that moment would be in neither place. A row brought back from the archive
-- (same id) is not its own duplicate.
CREATE FUNCTION herald_archived_duplicate() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtext('herald.ledger-archive'));
  UPDATE notification_all SET duplicates_suppressed = duplicates_suppressed + 1, updated_at = now()
  WHERE idempotency_key = NEW.idempotency_key AND archived_month <> 0 AND id <> NEW.id;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER notification_archived_duplicate BEFORE INSERT ON notification
  FOR EACH ROW EXECUTE FUNCTION herald_archived_duplicate();

-- How a notification's payload was removed (V38), for archived notifications too.
CREATE OR REPLACE VIEW notification_payload_removal AS
  SELECT n.id AS notification_id, coalesce(n.payload_removed_by, 'retention') AS removed_by,
         coalesce(n.payload_removed_at, m.dropped_at) AS removed_at
  FROM notification_all n
  LEFT JOIN payload_month_dropped m ON m.month = CAST(date_trunc('month', n.received_at AT TIME ZONE 'UTC') AS DATE)
  WHERE n.payload_removed_at IS NOT NULL
     OR (m.dropped_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM notification_payload p WHERE p.notification_id = n.id AND p.received_at = n.received_at));
