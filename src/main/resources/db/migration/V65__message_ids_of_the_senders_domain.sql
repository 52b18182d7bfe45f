-- Herald's Message-IDs now end in the sender's own domain (herald.mail.from's, e.g. <4711.<claim token>@example.com>)
-- instead of the bare "@herald" spam filters score (io.herald.dispatch.EmailMessage). The index of the receipts that may name
-- a message of Herald's (io.herald.receipts.EarlyReceipts) recognises them by their shape, a delivery id and a 32-digit
-- claim token; the old form stays for receipts of mail sent before.
DROP INDEX delivery_receipt_early;
CREATE INDEX delivery_receipt_early ON delivery_receipt (received_at)
  WHERE outcome = 'UNMATCHED' AND (channel = 'sms' OR provider_message_id LIKE '%@herald>'
                                   OR provider_message_id ~ '^<[0-9]+[.][0-9a-f]{32}@');
