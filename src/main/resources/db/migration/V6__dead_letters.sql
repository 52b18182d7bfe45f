-- Whatever cannot be processed at all (not a quarantinable source event, not a delivery with a
-- state of its own): kept whole with the stage and the reason, and also sent to a Kafka topic.
CREATE TABLE dead_letter (
  id          BIGSERIAL    PRIMARY KEY,
  stage       VARCHAR(40)  NOT NULL,
  reason      TEXT         NOT NULL,
  payload     TEXT         NOT NULL,
  created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);
CREATE INDEX dead_letter_created ON dead_letter (created_at DESC);
