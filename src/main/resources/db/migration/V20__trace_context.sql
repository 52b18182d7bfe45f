-- The W3C traceparent of the intake that admitted a notification (null while tracing is off): a channel's sender
-- continues that trace when it takes the notification's delivery from the ledger, so one trace runs from the
-- webhook to the provider call.
ALTER TABLE notification ADD COLUMN traceparent TEXT;
