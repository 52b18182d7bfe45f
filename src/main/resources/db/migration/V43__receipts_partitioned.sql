-- Provider receipts partitioned by month of received_at (issue 16 point 3): one row per SMS status callback, email event,
-- inbound STOP or removed push token, several per delivery, so after the attempts the ledger's fastest-growing table.
-- herald.retention.receipts now drops a whole month (io.herald.retention.MonthlyPartitions) instead of deleting row by row.
--   * The primary key includes the partition key, as PostgreSQL requires: (id, received_at); ids keep their sequence.
--   * A provider's retry of the same event (channel, provider_event_id) can no longer be refused by a unique index (it
--     would have to include received_at, and a retry comes later): io.herald.receipts.DeliveryReceipts takes a
--     transaction-scoped advisory lock on the event and inserts only if no month holds it (index below, one probe per
--     partition).
--   * Nothing references a receipt by foreign key any more: suppression.receipt_id names the receipt that caused it,
--     and retention carries such a receipt to the default partition when its month is dropped (the suppression outlives
--     it). The reference to delivery is not kept either, as for attempts: retention deletes a delivery's receipts with it.

ALTER TABLE suppression DROP CONSTRAINT IF EXISTS suppression_receipt_id_fkey;
ALTER SEQUENCE delivery_receipt_id_seq OWNED BY NONE;
ALTER TABLE delivery_receipt RENAME TO delivery_receipt_unpartitioned;
ALTER INDEX delivery_receipt_pkey RENAME TO delivery_receipt_unpartitioned_pkey;
ALTER INDEX delivery_receipt_delivery RENAME TO delivery_receipt_unpartitioned_delivery;
ALTER INDEX delivery_receipt_event RENAME TO delivery_receipt_unpartitioned_event;
ALTER INDEX delivery_receipt_received RENAME TO delivery_receipt_unpartitioned_received;
ALTER INDEX delivery_receipt_final_recent RENAME TO delivery_receipt_unpartitioned_final_recent;

CREATE TABLE delivery_receipt (
  id                   BIGINT       NOT NULL DEFAULT nextval('delivery_receipt_id_seq'),
  channel              VARCHAR(20)  NOT NULL,
  provider_message_id  VARCHAR(300) NOT NULL,
  provider_event_id    VARCHAR(200),
  status               VARCHAR(40)  NOT NULL,
  error_code           VARCHAR(40),
  delivery_id          BIGINT,
  outcome              VARCHAR(20)  NOT NULL,
  reason               TEXT,
  received_at          TIMESTAMPTZ  NOT NULL DEFAULT now(),
  final_state          VARCHAR(20),
  PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
CREATE TABLE delivery_receipt_default PARTITION OF delivery_receipt DEFAULT;
SELECT herald_month_partitions('delivery_receipt',
       coalesce((SELECT min(received_at) FROM delivery_receipt_unpartitioned), now())::DATE, 3);
INSERT INTO delivery_receipt (id, channel, provider_message_id, provider_event_id, status, error_code, delivery_id, outcome, reason,
                              received_at, final_state)
  SELECT id, channel, provider_message_id, provider_event_id, status, error_code, delivery_id, outcome, reason, received_at, final_state
  FROM delivery_receipt_unpartitioned;
ALTER SEQUENCE delivery_receipt_id_seq OWNED BY delivery_receipt.id;
DROP TABLE delivery_receipt_unpartitioned;

CREATE INDEX delivery_receipt_delivery ON delivery_receipt (delivery_id, id);
-- A provider's retry of the same event (SendGrid's sg_event_id) is kept once: looked up here under the event's advisory lock.
CREATE INDEX delivery_receipt_event ON delivery_receipt (channel, provider_event_id) WHERE provider_event_id IS NOT NULL;
CREATE INDEX delivery_receipt_received ON delivery_receipt (received_at);
CREATE INDEX delivery_receipt_final_recent ON delivery_receipt (received_at, channel) WHERE final_state IS NOT NULL;
