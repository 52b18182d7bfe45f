package io.herald.ingest;

import java.time.Duration;

/**
 * One event's DataSonnet mapping ran longer than herald.ingest.mapping-time-limit and was stopped waiting for: the event is
 * quarantined at step mapping ({@link MappingErrors} says so in words) and its source's next events go on.
 */
public class MappingTimedOut extends RuntimeException {

    private final String mapping;
    private final Duration limit;

    public MappingTimedOut(String mapping, Duration limit) {
        super("the mapping " + mapping + " took longer than " + inWords(limit) + " for this event");
        this.mapping = mapping;
        this.limit = limit;
    }

    /** The mapping file, as the route names it (herald.mappings-dir/…). */
    public String mapping() {
        return mapping;
    }

    public Duration limit() {
        return limit;
    }

    /** "5 s", "1.5 s": the limit as a person reads it. */
    static String inWords(Duration limit) {
        long millis = limit.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
