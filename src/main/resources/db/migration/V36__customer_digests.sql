-- Customer digests (issue 14 point 6): the events of a type with a digest window in config/catalog.yaml (digest:
-- {window: PT2M, key: ticketId}) for one customer and one key (a ticket) become one message, sent when the window
-- closes. The first event opens a digest: its own deliveries wait SCHEDULED until the window ends (scheduled_send,
-- io.herald.schedule.ScheduledSends, match key digest:<type>:<customer>:<key>); each later event within the window joins
-- it (its deliveries end DIGESTED, "sent in the digest of notification N"). When the window ends the opening
-- notification fires and its message lists every member, oldest first (io.herald.digest.DigestMessages).
-- One owner of both tables: io.herald.digest.CustomerDigests.
CREATE TABLE customer_digest (
  id           BIGSERIAL     PRIMARY KEY,
  type         VARCHAR(80)   NOT NULL,
  customer_id  VARCHAR(64)   NOT NULL,
  digest_key   VARCHAR(300)  NOT NULL,               -- the value of the catalog's digest key (e.g. the ticket id)
  opened_by    BIGINT        NOT NULL UNIQUE REFERENCES notification (id) ON DELETE CASCADE,   -- it carries the message
  closes_at    TIMESTAMPTZ   NOT NULL,               -- opened + window: when the message goes out
  open         BOOLEAN       NOT NULL DEFAULT true,  -- false once an event found it closed (window over, fired, cancelled)
  created_at   TIMESTAMPTZ   NOT NULL DEFAULT now()
);
-- The constraint that makes two events dispatched at once on two instances open ONE digest: at most one open digest
-- per type, customer and key; the instance that loses the insert joins the winner's digest.
CREATE UNIQUE INDEX customer_digest_one_open ON customer_digest (type, customer_id, digest_key) WHERE open;

-- Each event of a digest, the opening one included; an event is in one digest at most (a redelivered event or a batch
-- dispatched twice adds nothing).
CREATE TABLE customer_digest_member (
  notification_id  BIGINT       PRIMARY KEY REFERENCES notification (id) ON DELETE CASCADE,
  digest_id        BIGINT       NOT NULL REFERENCES customer_digest (id) ON DELETE CASCADE,
  joined_at        TIMESTAMPTZ  NOT NULL
);
CREATE INDEX customer_digest_member_digest ON customer_digest_member (digest_id);
