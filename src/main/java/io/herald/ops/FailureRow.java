package io.herald.ops;

import java.time.Duration;
import java.time.Instant;

/**
 * One not-yet-alerted failure from the ledger. kind: FAILED or UNCERTAIN (a delivery), WINDOW (a
 * delivery that missed its send window), EXPIRED (not approved in time), LATE_DROPPED or LATE_HELD (stopped by its type's
 * late policy: not sent, or held for an operator), QUARANTINED (a source event) or DEAD_LETTER.
 * where is the channel, source or stage; detail the notification type or quarantine step;
 * window and sentLate only for WINDOW rows.
 */
record FailureRow(String table, long id, String kind, String where, String detail, Long notificationId,
                  String reason, Instant at, Duration window, boolean sentLate) {
}
