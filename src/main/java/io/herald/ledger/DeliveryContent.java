package io.herald.ledger;

/**
 * Where a delivery's rendered subject and body are kept (V38: delivery_content, partitioned by month of the notification's
 * received_at, so herald.retention.payloads drops them a month at a time): the SQL that writes them, for the statements that
 * create or claim a delivery to write its content in the same statement (no extra transaction on the sending path).
 */
final class DeliveryContent {

    /** Followed by a SELECT of (delivery id, notification's received_at, subject, rendered body), then {@link #REPLACE}. */
    static final String INSERT = "INSERT INTO delivery_content (delivery_id, received_at, subject, rendered_body)\n";

    /** A delivery claimed again (a retry) keeps what its latest attempt sent. */
    static final String REPLACE = "ON CONFLICT (delivery_id, received_at) DO UPDATE SET subject = EXCLUDED.subject,"
            + " rendered_body = EXCLUDED.rendered_body";

    private DeliveryContent() {
    }
}
