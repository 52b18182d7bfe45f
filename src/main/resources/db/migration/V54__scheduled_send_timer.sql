-- A scheduled send made again after it fired (a delivery it released came due inside its customer's quiet hours: it waits
-- SCHEDULED for their end, io.herald.schedule.ScheduledSends.scheduleAfterClaim) gets a timer of its own: the generation
-- below, in db-scheduler's task instance id ("<notification id>" for the first, "<notification id>.<n>" after). The timer
-- that fired is only removed by db-scheduler once its firing ends, so a new timer under the same id could not be set
-- while it ran and would be lost with it. A firing of an older generation does nothing.
ALTER TABLE scheduled_send ADD COLUMN timer INT NOT NULL DEFAULT 0;
