package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;

import org.junit.jupiter.api.Test;

/** Retry-After as providers send it (RFC 9110): seconds, or an HTTP date, which used to be ignored. */
class RetryAfterTest {

    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    @Test
    void secondsAndHttpDatesAreTheWaitTheyAskFor() {
        assertThat(RetryAfter.millis("120", NOW)).isEqualTo(120_000L);
        assertThat(RetryAfter.millis(" 0 ", NOW)).isZero();
        assertThat(RetryAfter.millis("Sat, 05 Dec 2026 12:01:30 GMT", NOW)).isEqualTo(90_000L);
        assertThat(RetryAfter.millis("Sat, 5 Dec 2026 11:59:00 GMT", NOW)).as("a date already past: no wait").isZero();
    }

    /**
     * A Retry-After no provider means (a proxy's misconfiguration, a year in seconds, a date decades ahead) holds the delivery
     * PARKED no longer than a day; one too large for Java's long arithmetic (it came back negative: retried at once) likewise.
     */
    @Test
    void aWaitOfMoreThanADayIsReadAsADay() {
        assertThat(RetryAfter.millis("31536000", NOW)).isEqualTo(86_400_000L);
        assertThat(RetryAfter.millis("Mon, 01 Jan 2120 00:00:00 GMT", NOW)).isEqualTo(86_400_000L);
        assertThat(RetryAfter.millis("9223372036854775807", NOW)).isEqualTo(86_400_000L);
        assertThat(RetryAfter.millis("86400", NOW)).isEqualTo(86_400_000L);
    }

    @Test
    void anythingElseIsNoAnswer() {
        assertThat(RetryAfter.millis("soon", NOW)).isNull();
        assertThat(RetryAfter.millis("", NOW)).isNull();
        assertThat(RetryAfter.millis(null, NOW)).isNull();
        assertThat(RetryAfter.millis("-5", NOW)).isZero();
    }
}
