-- The delivery table is also the engine's queue (V18): the senders claim due rows through the partial indexes
-- delivery_due and delivery_customer_in_flight, and every row that leaves the queue (SENDING, SENT, ...) leaves index
-- entries and row versions behind that each claim walks until a vacuum removes them. PostgreSQL's default vacuums a
-- table once a fifth of it is dead: on a ledger of a year, never during a burst. Vacuumed here once 1% of it (at least
-- 1,000 row versions) is dead, and analyzed once 2% changed, without the cost-based pauses that stretch a vacuum out.
ALTER TABLE delivery SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
                          autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000,
                          autovacuum_vacuum_cost_delay = 0);
