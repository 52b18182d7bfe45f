package io.herald.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * A provider's Retry-After header (RFC 9110 section 10.2.3) as the wait it asks for: a number of seconds ("120"), or an
 * HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT": the wait until then, none if it has passed). Anything else is no answer
 * (null), and the caller's own delay applies. A wait longer than a day is read as a day: no provider's rate limit asks that
 * long, and a year's (a proxy's misconfiguration) would hold the delivery PARKED for a year instead of failing it.
 */
public final class RetryAfter {

    /** The longest wait a Retry-After is honoured for. */
    static final long MAX_MILLIS = java.time.Duration.ofDays(1).toMillis();

    private RetryAfter() {
    }

    /** The wait in milliseconds, at least 0; null when the value is neither form. */
    public static Long millis(String value, Instant now) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String text = value.strip();
        try {
            return Math.max(0, Math.min(Long.parseLong(text), MAX_MILLIS / 1000)) * 1000;
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                return Math.max(0, Math.min(Duration.between(now, at).toMillis(), MAX_MILLIS));
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }
}
