package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * SMS deliveries parked by an outage, written straight into a Herald's ledger: their notification as dispatch stored
 * it, the SMS row PARKED with its reason. For tests of what happens to a parked backlog, on the shared test Herald or
 * on one of a test's own.
 */
public final class ParkedSms {

    private ParkedSms() {
    }

    /** Inserts {@code count} of them for {@code customer}; returns their idempotency keys. */
    public static List<String> insert(JdbcTemplate jdbc, String run, String customer, int count, int parkedCount, String nextAttempt) {
        String canonical;
        try {
            canonical = Files.readString(Path.of("src/test/resources/golden/billing/invoice.payment_failed.canonical.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = "billing:invoice.payment_failed:in_" + run + "_" + i + ":attempt-1";
            long notification = jdbc.queryForObject("""
                    INSERT INTO notification (idempotency_key, source, source_event_id, type, customer_id, state, canonical)
                    VALUES (?, 'billing', ?, 'billing.payment_failed', ?, 'ROUTED', ?::jsonb) RETURNING id""", Long.class,
                    key, "evt_" + run + "_" + i, customer, canonical.replace("billing:invoice.payment_failed:in_1QxR1zLkdIwHu7ixQ9w8E7r6:attempt-2", key)
                            .replace("cus_RkT4aB7cD9eF1g", customer));
            jdbc.update("INSERT INTO delivery (notification_id, channel, state, reason, parked_count, next_attempt_at, attempts)"
                    + " VALUES (?, 'sms', 'PARKED', 'sms provider unavailable: provider answered HTTP 503; parked', ?, " + nextAttempt + ", ?)",
                    notification, parkedCount, parkedCount + 1);
            keys.add(key);
        }
        return keys;
    }
}
