-- A receipt that arrives before Herald has recorded its send (an SMS status callback racing the provider's own answer, a
-- slow database) is kept UNMATCHED and applied once the send is recorded, within herald.receipts.early.window
-- (io.herald.receipts.EarlyReceipts). The index finds the recent unmatched receipts; a number such a receipt says can never
-- receive is kept as the suppression list keeps it (SHA-256 of the normalised number, a masked copy) until the receipt
-- finds its delivery, since SMS callbacks suppress only for a message of Herald's.
ALTER TABLE delivery_receipt ADD COLUMN suppress_address_hash CHAR(64),
                             ADD COLUMN suppress_address_masked VARCHAR(320),
                             ADD COLUMN suppress_reason TEXT;
-- Only receipts that may name a message of Herald's: any SMS, and email whose Message-ID is Herald's (the email provider's
-- webhook also reports the account's other mail, which would otherwise be looked at again on every run).
CREATE INDEX delivery_receipt_early ON delivery_receipt (received_at)
  WHERE outcome = 'UNMATCHED' AND (channel = 'sms' OR provider_message_id LIKE '%@herald>');

-- A receipt for the message of an operator's resend of a delivery the customer had received (the delivery keeps its own
-- message id) is matched through the resend (DeliveryLedger.receipt).
CREATE INDEX delivery_resend_provider_message ON delivery_resend (provider_message_id) WHERE provider_message_id IS NOT NULL;
