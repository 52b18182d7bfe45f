-- The names a CRM contact change replaced (display and first name), kept so that a viewer reads them masked in what was
-- written with them before the change: a message's "Hello Octavia" after the customer became Tavi, a provider's answer or
-- a comment quoting the old name (io.herald.identity.CustomerNames). Removed with the entry by an erasure.
ALTER TABLE customer ADD COLUMN former_names TEXT[] NOT NULL DEFAULT '{}';
