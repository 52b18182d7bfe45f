-- The in-app inbox lists a customer's messages newest first by id and pages back with "before" (io.herald.api.InboxApi):
-- an id keeps its place after retention or an erasure removed its message, where (created_at, id) of a removed message
-- could no longer be read and the app paging from it was answered 404. Ids follow the order messages were written in.
DROP INDEX inbox_message_customer;
CREATE INDEX inbox_message_customer ON inbox_message (customer_id, id DESC);
