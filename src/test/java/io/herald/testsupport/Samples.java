package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The real-shaped sample payloads (copied from shared/samples into src/test/resources/samples). */
public final class Samples {

    /** What Herald adds to the reason of Twilio's refusal 21211 (TwilioErrorCodes): what the operator does about it. */
    public static final String TWILIO_21211_ADVICE = " (Twilio 21211: the customer's phone number in the directory is not a valid phone number, so every SMS to it is refused; correct the customer's phone number in the CRM, then retry the delivery)";

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

    /**
     * {@link #paymentFailed(String)} as Stripe would send it now: created now, next payment attempt three days ahead. The
     * sample itself is from 2025, so under the shipped catalog (billing.payment_failed late: drop, valid-until
     * nextPaymentAttempt) it is too late to be sent; a test about something else that runs the shipped catalog posts this.
     */
    public static String paymentFailedNow(String unique) {
        long now = java.time.Instant.now().getEpochSecond();
        return paymentFailed(unique).replace("\"created\": 1763719200", "\"created\": " + now)
                .replace("\"next_payment_attempt\": 1763978400", "\"next_payment_attempt\": " + (now + 3 * 24 * 3600));
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
