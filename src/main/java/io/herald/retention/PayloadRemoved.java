package io.herald.retention;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * What people read where a payload was removed: "payload removed by retention on 2026-12-02" or "payload removed by
 * erasure of the customer on 2026-12-02". Stored in place of a raw payload, and said by the console, the proof of
 * delivery, re-drives, retries and resends instead of failing.
 */
public final class PayloadRemoved {

    public static final String RETENTION = "retention";
    public static final String ERASURE = "erasure";

    private PayloadRemoved() {
    }

    public static String sentence(String by, Instant at) {
        return "payload removed by " + (ERASURE.equals(by) ? "erasure of the customer" : "retention") + " on "
                + at.atZone(ZoneOffset.UTC).toLocalDate();
    }

    /** The sentence for a row's payload_removed_at and payload_removed_by columns; null when the payload is still there. */
    public static String of(String by, Timestamp at) {
        return at == null ? null : sentence(by, at.toInstant());
    }
}
