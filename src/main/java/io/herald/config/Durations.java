package io.herald.config;

/**
 * The least a duration setting may be, in words for the startup failure: Spring reads a bare number as milliseconds, so
 * "24" for a period meant in hours is refused naming the key instead of expiring everything at once.
 */
public final class Durations {

    private static final String HOW = " (a bare number is read as milliseconds: write an ISO-8601 duration such as PT30S, PT15M, PT24H or P30D)";
    public static final String AT_LEAST_A_TENTH_OF_A_SECOND = "must be at least PT0.1S" + HOW;
    public static final String AT_LEAST_A_SECOND = "must be at least PT1S" + HOW;
    public static final String AT_LEAST_TEN_SECONDS = "must be at least PT10S" + HOW;
    public static final String AT_LEAST_A_MINUTE = "must be at least PT1M" + HOW;
    public static final String AT_LEAST_A_DAY = "must be at least P1D" + HOW;

    private Durations() {
    }
}
