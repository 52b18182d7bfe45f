-- A link keeps the time of what it says (identity/CustomerLinks): a CRM contact change's updatedAt for the links it
-- wrote or confirmed, the moment an operator linked it by hand. A contact change older than that does not move the link
-- (it is recorded as IGNORED with the reason). NULL: seeded by V28, or written by a contact change before this migration
-- (its time was not kept); the next contact change that lists the id may move it, as before.
ALTER TABLE customer_link ADD COLUMN changed_at TIMESTAMPTZ;

UPDATE customer_link SET changed_at = linked_at WHERE origin LIKE 'linked by %';
