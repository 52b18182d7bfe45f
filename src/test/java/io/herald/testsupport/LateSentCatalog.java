package io.herald.testsupport;

import java.util.regex.Pattern;

/**
 * A catalog's text with every late policy turned back to send (late: send, no valid-until), for test Heralds whose tests
 * post the real-shaped samples as they are: they are dated 2025 (billing/invoice.payment_failed.json occurred 2025-11-21,
 * next attempt 2025-11-24), so under the shipped policy (billing.payment_failed late: drop) every one of them would be
 * dropped as too late, and those tests are about something else. The shipped policy is tested by LateMessagesTest, and by
 * the tests running the shipped catalog with events stamped now ({@link Samples#paymentFailedNow(String)}).
 */
public final class LateSentCatalog {

    private static final Pattern LATE = Pattern.compile("(?m)^(\\s+)late: (drop|hold)\\b.*$");
    private static final Pattern VALID_UNTIL = Pattern.compile("(?m)^\\s+valid-until:.*\\R");

    private LateSentCatalog() {
    }

    public static String of(String catalog) {
        if (!LATE.matcher(catalog).find()) {
            throw new IllegalStateException("the catalog has no 'late: drop' or 'late: hold' entry to turn into 'late: send'");
        }
        return LATE.matcher(VALID_UNTIL.matcher(catalog).replaceAll("")).replaceAll("$1late: send");
    }
}
