-- The name a message greets the customer by, as the CRM gives it (contact.updated firstName). NULL: not known (an entry
-- from before, or from a seed): the first word of display_name, as before. '': the CRM gave a name without a first name
-- (only a last name): the greeting has none ("Hello,", not "Hello Smith,"). A first name of two words ("Ana María") is
-- kept whole; it used to be cut to its first word.
ALTER TABLE customer ADD COLUMN first_name VARCHAR(200);
