-- An SMS status callback names the delivery it is about (the callback URL's signed ?ref=<delivery id>,
-- io.herald.dispatch.SmsRequest): an SMS whose provider answer was lost (UNCERTAIN, no message id) is settled by the
-- provider's own report. A receipt that arrives while that delivery is still SENDING keeps the id here until the delivery is
-- UNCERTAIN or has the message id (io.herald.receipts.EarlyReceipts); cleared once applied.
ALTER TABLE delivery_receipt ADD COLUMN sent_for BIGINT;
