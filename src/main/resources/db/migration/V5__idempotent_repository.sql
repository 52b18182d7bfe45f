-- camel-sql's JDBC idempotent repository (JdbcMessageIdRepository): one row per notification key
-- the dispatch route has completed. Columns as camel-sql expects them; the key is as long as ours.
CREATE TABLE camel_messageprocessed (
  processorName  VARCHAR(255)  NOT NULL,
  messageId      VARCHAR(400)  NOT NULL,
  createdAt      TIMESTAMP     NOT NULL,
  PRIMARY KEY (processorName, messageId)
);
