package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The real-shaped sample payloads (copied from shared/samples into src/test/resources/samples). */
public final class Samples {

    private Samples() {
    }

    public static String text(String path) {
        try (InputStream in = Samples.class.getResourceAsStream("/samples/" + path)) {
            if (in == null) {
                throw new IllegalArgumentException("no sample " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The payment-failed sample about another invoice (and event id), so each test's event is new. */
    public static String paymentFailed(String unique) {
        return text("billing/invoice.payment_failed.json")
                .replace("in_1QxR1zLkdIwHu7ixQ9w8E7r6", "in_test" + unique)
                .replace("evt_1QxR2mLkdIwHu7ixA1b2C3d4", "evt_test" + unique);
    }

    /** The notification key Herald gives {@link #paymentFailed(String)}'s event (attempt 2 of invoice in_test&lt;unique&gt;). */
    public static String paymentFailedKey(String unique) {
        return "billing:invoice.payment_failed:in_test" + unique + ":attempt-2";
    }

    /** A support sample about another ticket, so each test's events are distinct notifications. */
    public static String supportEvent(String file, String ticketId) {
        return text("support/" + file).replace("35436", ticketId);
    }
}
