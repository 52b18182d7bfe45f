-- When the post of a ticket note went out (io.herald.helpdesk.TicketNotes.stillPending, right before the PUT): a note whose
-- post started and whose outcome was never recorded (Herald stopped, or lost its database longer than the note's lease) is
-- not posted again by another instance, which would put a second copy on the ticket; it is FAILED for a person to check.
ALTER TABLE ticket_note ADD COLUMN post_started_at TIMESTAMPTZ;
