-- Identity links (issue 13 point 4): a customer's ids in each source system (stripe: cus_…, zendesk: the
-- requester's user id, crm: the CRM's account id). An event resolves through its source's link; one
-- external id names at most one customer. Written only by identity/CustomerLinks: contact.updated keeps
-- them current, an operator links an unknown id from its quarantined event (audited), the migration seeds
-- what today's data already implies. origin says which of those wrote the row.
CREATE TABLE customer_link (
  system       VARCHAR(20)  NOT NULL,
  external_id  VARCHAR(200) NOT NULL,
  customer_id  VARCHAR(64)  NOT NULL REFERENCES customer (customer_id),
  origin       VARCHAR(200) NOT NULL,
  linked_at    TIMESTAMPTZ  NOT NULL DEFAULT now(),
  PRIMARY KEY (system, external_id)
);
CREATE INDEX customer_link_customer ON customer_link (customer_id);
CREATE INDEX customer_link_external_id ON customer_link (external_id);

-- Seeds. Herald's customer ids are Stripe customer ids (cus_…): each is its own Stripe link.
INSERT INTO customer_link (system, external_id, customer_id, origin)
SELECT 'stripe', customer_id, customer_id, 'seeded: the customer id is the Stripe customer id'
FROM customer WHERE customer_id LIKE 'cus\_%';

-- A Zendesk requester or CRM account whose past notifications all resolved to one customer is that customer.
-- Raw payloads are read leniently: one that PostgreSQL cannot parse as JSON is skipped, never fails the migration.
CREATE FUNCTION herald_v28_json(raw TEXT) RETURNS JSONB AS $$
BEGIN
  RETURN raw::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$ LANGUAGE plpgsql;

INSERT INTO customer_link (system, external_id, customer_id, origin)
SELECT 'zendesk', requester, min(customer_id), 'seeded: every earlier ticket of this requester resolved to this customer'
FROM (SELECT n.customer_id, herald_v28_json(n.raw_payload) -> 'detail' ->> 'requester_id' AS requester
      FROM notification n WHERE n.source = 'support' AND n.raw_payload IS NOT NULL) earlier
JOIN customer USING (customer_id)
WHERE requester IS NOT NULL AND length(requester) <= 200
GROUP BY requester HAVING count(DISTINCT customer_id) = 1;

INSERT INTO customer_link (system, external_id, customer_id, origin)
SELECT 'crm', account, min(customer_id), 'seeded: every earlier event of this CRM account resolved to this customer'
FROM (SELECT n.customer_id, herald_v28_json(herald_v28_json(n.raw_payload) ->> 'payload') -> 'account' ->> 'crmId' AS account
      FROM notification n WHERE n.source = 'crm' AND n.raw_payload IS NOT NULL) earlier
JOIN customer USING (customer_id)
WHERE account IS NOT NULL AND length(account) <= 200
GROUP BY account HAVING count(DISTINCT customer_id) = 1;

DROP FUNCTION herald_v28_json(TEXT);

-- Customer view (point 5): a customer's notifications newest first, paged; search by phone.
CREATE INDEX notification_customer_newest ON notification (customer_id, received_at DESC, id DESC);
CREATE INDEX customer_phone_lookup ON customer (phone);

-- The failures view's branch for high-priority notifications skipped on every customer channel reads SKIPPED
-- deliveries newest first and stops at its limit (console/FailureSearch).
CREATE INDEX delivery_skipped ON delivery (updated_at DESC, id DESC) WHERE state = 'SKIPPED';
