-- Rolling upgrades and rollbacks: every Herald version's in-app insert must find its ON CONFLICT key, or the delivery
-- FAILS. Versions before V58 write "ON CONFLICT (delivery_id)", which needs a unique index on delivery_id alone; V58
-- dropped it (a resend's row shares its delivery's id), so an instance of such a version, beside an upgraded one during a
-- rollout or after a rollback, failed every in-app delivery it took ("there is no unique or exclusion constraint matching
-- the ON CONFLICT specification"). Now a resend's row names its resend alone (delivery_id NULL, resend_id the
-- delivery_resend; retention finds it through that), and delivery_id is unique again for the delivery's own row.
-- The V58 index stays for versions V58..V73 ("ON CONFLICT (delivery_id, (COALESCE(resend_id, 0)))"); the trigger moves
-- such a version's resend row (delivery_id and resend_id both set) to the new form, so it does not collide with the
-- delivery's own row.
ALTER TABLE inbox_message ALTER COLUMN delivery_id DROP NOT NULL;
UPDATE inbox_message SET delivery_id = NULL WHERE resend_id IS NOT NULL;
ALTER TABLE inbox_message ADD CONSTRAINT inbox_message_delivery_id_key UNIQUE (delivery_id);
CREATE UNIQUE INDEX inbox_message_resend ON inbox_message (resend_id);
ALTER TABLE inbox_message ADD CONSTRAINT inbox_message_of_a_delivery CHECK (delivery_id IS NOT NULL OR resend_id IS NOT NULL);

CREATE FUNCTION inbox_message_resend_apart() RETURNS trigger AS $$
BEGIN
  IF NEW.resend_id IS NOT NULL THEN
    NEW.delivery_id := NULL;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER inbox_message_resend_apart BEFORE INSERT ON inbox_message
  FOR EACH ROW EXECUTE FUNCTION inbox_message_resend_apart();
