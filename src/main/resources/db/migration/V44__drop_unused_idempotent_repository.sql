-- camel_messageprocessed (V5) was the camel-sql idempotent repository of dispatch. Since the delivery engine (issue 17)
-- dispatch keeps a notification's deliveries once through the ledger (delivery's unique notification x channel, queued
-- with ON CONFLICT DO NOTHING) and nothing writes this table; its rows are old keys nothing reads, which retention
-- deleted row by row. Dropped.
DROP TABLE IF EXISTS camel_messageprocessed;
