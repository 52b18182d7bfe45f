package io.herald.schedule;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.notification.CanonicalNotification;

/**
 * Which of two events of an appointment came last at the source when they occurred at the same instant. A CRM writes the
 * rows of one transaction (a cancellation and the booking made again, say) with one created_at; its outbox id, which only
 * grows, then says which came first (the source event id {@code crm-outbox-<id>}). Events of other sources have no such
 * order (0): at the same instant they count as simultaneous, as before. Compared in SQL as a pair with the time:
 * {@code (n.occurred_at, <of("n")>) > (?, ?)}.
 */
final class SourceOrder {

    private static final Pattern CRM_ROW = Pattern.compile("crm-outbox-([0-9]{1,18})");

    private SourceOrder() {
    }

    /** SQL: the place of notification {@code alias}'s event among those of the same instant. */
    static String of(String alias) {
        return "(CASE WHEN " + alias + ".source_event_id ~ '^crm-outbox-[0-9]{1,18}$' THEN CAST(substr(" + alias
                + ".source_event_id, 12) AS bigint) ELSE 0 END)";
    }

    /** The same for an event Herald holds as a canonical notification. */
    static long of(CanonicalNotification event) {
        return ofEvent(event.sourceEventId());
    }

    /** The same for a source event id. */
    static long ofEvent(String sourceEventId) {
        Matcher row = sourceEventId == null ? null : CRM_ROW.matcher(sourceEventId);
        return row != null && row.matches() ? Long.parseLong(row.group(1)) : 0;
    }
}
