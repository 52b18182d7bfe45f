package io.herald.ops;

import java.time.Instant;

/**
 * New failures of one kind, as an alert shows them: a key (kind, channel or source, reason class),
 * a phrase a non-engineer can read, what one failure is counted as, one example reason (masked),
 * a console link, how many and when.
 */
record FailureGroup(String key, String summary, String unit, String example, String link, String overviewLink,
                    int count, Instant first, Instant last) {

    /** The same group with one more row. A single failure links to itself; several to the filtered list. */
    FailureGroup plus(FailureRow row) {
        return new FailureGroup(key, summary, unit, example, overviewLink, overviewLink, count + 1,
                row.at().isBefore(first) ? row.at() : first, row.at().isAfter(last) ? row.at() : last);
    }
}
