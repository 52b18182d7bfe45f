package io.herald.schedule;

import java.time.Instant;

/**
 * A timer fired for a scheduled send that was moved to a later time while its timer was already running (so the timer
 * could not be moved, and a new one cannot be set while it runs): thrown by the firing, handed back by the route
 * fire-scheduled-send as its answer, and thrown again to db-scheduler, whose failure handler (SchedulerSetup) sets the
 * same timer again for the new time. Without it the send stayed SCHEDULED with no
 * timer, and was never sent.
 */
public class FireLater extends RuntimeException {

    private final transient Instant at;

    public FireLater(long notificationId, Instant at) {
        super("scheduled send " + notificationId + " was moved to " + at + " while its timer fired: it fires then", null, false, false);
        this.at = at;
    }

    /** The new time, when {@code failure} (or a cause of it) is a FireLater; null otherwise. */
    public static Instant in(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof FireLater later) {
                return later.at;
            }
        }
        return null;
    }
}
