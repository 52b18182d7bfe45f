-- The CRM poller reads a payload's size before the payload itself (routes/crm-outbox.camel.yaml): a row over
-- herald.crm.max-row-bytes is claimed with its size and its first characters only, so a broken CRM row of hundreds of MB
-- is never loaded into Herald. The outbox's payload column may be text, json, jsonb or bytea (UTF-8 JSON); PostgreSQL
-- picks the function for the column's type.

-- Bytes of the payload as Herald reads it: text as written, json as written, jsonb as PostgreSQL prints it, bytea as stored.
CREATE FUNCTION herald_crm_payload_bytes(payload text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT octet_length(payload)::bigint';
CREATE FUNCTION herald_crm_payload_bytes(payload json) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT octet_length(payload::text)::bigint';
CREATE FUNCTION herald_crm_payload_bytes(payload jsonb) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT octet_length(payload::text)::bigint';
CREATE FUNCTION herald_crm_payload_bytes(payload bytea) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT octet_length(payload)::bigint';

-- The payload's beginning, at most chars characters (bytea: bytes), kept with the quarantined row so people can see what it was.
CREATE FUNCTION herald_crm_payload_start(payload text, chars integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT left(payload, chars)';
CREATE FUNCTION herald_crm_payload_start(payload json, chars integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT left(payload::text, chars)';
CREATE FUNCTION herald_crm_payload_start(payload jsonb, chars integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT left(payload::text, chars)';
CREATE FUNCTION herald_crm_payload_start(payload bytea, chars integer) RETURNS bytea
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT substring(payload from 1 for chars)';
