-- A source event read again while its unrouted row is still open (a redelivered Kafka record, a CRM batch read again)
-- is kept once (io.herald.ledger.UnroutedEvents): the check looks the event up by source and id among the open rows.
CREATE INDEX unrouted_event_open_by_source_event ON unrouted_event (source, source_event_id) WHERE status = 'OPEN';
