-- An operator's resend of an in-app message puts a new message in the customer's inbox (unread), next to the first:
-- the row was keyed by delivery alone, so the resend found the first row (read, perhaps) and was recorded SENT with
-- nothing new for the customer. resend_id names the delivery_resend the row came from (NULL: the delivery's own).
ALTER TABLE inbox_message ADD COLUMN resend_id BIGINT;
ALTER TABLE inbox_message DROP CONSTRAINT inbox_message_delivery_id_key;
CREATE UNIQUE INDEX inbox_message_delivery_resend ON inbox_message (delivery_id, COALESCE(resend_id, 0));
