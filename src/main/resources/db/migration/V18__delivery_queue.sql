-- The delivery engine's queue is the ledger itself (issue 17): dispatch records each delivery to send
-- PENDING with next_attempt_at = now() and the customer it is for, in one statement per Kafka batch,
-- then commits the batch's offsets; each channel's sender claims due PENDING and PARKED rows in
-- batches (FOR UPDATE SKIP LOCKED, a lease in next_attempt_at) and sends them with a bounded number in
-- flight. A delivery is claimable only while no earlier delivery of the same customer on the same
-- channel is still PENDING or SENDING, so one customer's messages go out in order across instances.
ALTER TABLE delivery ADD COLUMN customer_id VARCHAR(64);

CREATE INDEX delivery_due ON delivery (channel, next_attempt_at, id)
  WHERE state IN ('PENDING', 'PARKED') AND next_attempt_at IS NOT NULL;
CREATE INDEX delivery_customer_in_flight ON delivery (channel, customer_id, id)
  WHERE state IN ('PENDING', 'SENDING') AND customer_id IS NOT NULL;
