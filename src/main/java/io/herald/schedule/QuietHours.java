package io.herald.schedule;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

import io.herald.config.SchedulingSettings;
import io.herald.identity.Customer;
import io.herald.ledger.DeliveryLedger;
import io.herald.notification.CanonicalNotification;
import io.herald.notification.Category;
import io.herald.notification.NotificationCatalog;
import org.springframework.stereotype.Component;

/**
 * Quiet hours (issue 14 point 4): whether a notification dispatched now reaches its customer inside its category's quiet
 * hours (config/catalog.yaml, categories.&lt;category&gt;.quiet-hours), judged in the customer's time zone (unknown or
 * invalid: herald.scheduling.default-time-zone), and if so until when it waits. A high-priority notification goes at once
 * unless its category says {@code high-priority: hold}. The customer channels wait SCHEDULED (ScheduledSends) until the
 * quiet hours end, which is that local time on the day they end, whatever the clocks did overnight; the ops webhook (the
 * internal team) is not held. Herald chose the delay, so the type's send window counts from the end of the wait.
 *
 * <p>Judged twice: at dispatch ({@link #waitFor}: DispatchPlanner holds the notification SCHEDULED) and again right before
 * a delivery that waited goes to its provider, a parked retry or a fired scheduled send ({@link #waitBeforeSend}:
 * io.herald.dispatch.QuietHoursBeforeSend schedules it for their end), in the customer's zone as the directory has it then.
 * This class only judges (it writes nothing), so the channels' senders can ask it.
 */
@Component
public class QuietHours {

    static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /**
     * Why and until when a notification waits: the end of the quiet hours (and in words: "08:00 local time on 2026-12-03 in
     * Europe/Berlin (2026-12-03 07:00 UTC)"), the reason in words, what a cancelling event names, its send window's new end.
     */
    public record Wait(Instant until, String ends, String reason, String matchKey, Instant deadline) {

        /** The wait of one notification's customer deliveries. */
        public Held of(long notificationId, List<DeliveryLedger.Queued> deliveries) {
            return new Held(new ScheduledSends.Schedule(notificationId, until, reason, matchKey, deliveries), deadline);
        }
    }

    /** A notification held for its quiet hours, and its send-window deadline counted from the end of the wait. */
    public record Held(ScheduledSends.Schedule send, Instant deadline) {
    }

    private final NotificationCatalog catalog;
    private final SchedulingSettings settings;
    private final Clock clock;

    public QuietHours(NotificationCatalog catalog, SchedulingSettings settings, Clock clock) {
        this.catalog = catalog;
        this.settings = settings;
        this.clock = clock;
    }

    /** The quiet hours a notification is in now for its customer: which, in which zone, and their end there. */
    private record Inside(String hours, ZoneId zone, String zoneProblem, String category, boolean high, LocalTime until,
                          ZonedDateTime now, ZonedDateTime end) {

        /** "quiet hours 21:00-08:00 in Europe/Berlin for billing notifications, high priority included (high-priority: hold)" */
        String which() {
            return "quiet hours " + hours + " in " + zone.getId() + (zoneProblem == null ? "" : " (" + zoneProblem + ")")
                    + " for " + category + " notifications" + (high ? ", high priority included (high-priority: hold)" : "");
        }

        /** "08:00 local time on 2026-12-03 (2026-12-03 07:00 UTC)" */
        String endsAt() {
            return until + " local time on " + end.toLocalDate() + " (" + UTC_TIME.format(end.toInstant()) + ")";
        }
    }

    /** When this notification, dispatched now, falls in its category's quiet hours for this customer (null: not in the directory). */
    public Optional<Wait> waitFor(NotificationCatalog.Entry entry, CanonicalNotification notification, Customer customer) {
        return inside(entry, notification, customer).map(in -> wait(entry, notification, in, in.which() + ": held until " + in.endsAt()));
    }

    /**
     * When a delivery about to go to its provider now, after it waited (a parked retry, a fired scheduled send: {@code
     * why}, e.g. "its retry came due"), falls in its category's quiet hours for this customer as the directory has them
     * now: the reason says which, in words, and until when it waits.
     */
    public Optional<Wait> waitBeforeSend(NotificationCatalog.Entry entry, CanonicalNotification notification, Customer customer,
                                         String channel, String why) {
        return inside(entry, notification, customer).map(in -> wait(entry, notification, in, channel + " waits for " + in.which()
                + ": " + why + " at " + in.now().toLocalTime().truncatedTo(ChronoUnit.MINUTES) + " local time, inside them; not sent until "
                + in.endsAt()));
    }

    private Optional<Inside> inside(NotificationCatalog.Entry entry, CanonicalNotification notification, Customer customer) {
        Optional<Category> category = catalog.category(entry.category()).filter(Category::hasQuietHours);
        if (category.isEmpty()) {
            return Optional.empty();
        }
        Category quiet = category.get();
        String priority = notification.priority() == null ? entry.priority() : notification.priority();
        boolean high = "high".equals(priority);
        if (high && !quiet.holdsHighPriority()) {
            return Optional.empty();
        }
        String zoneProblem = zoneProblem(customer);
        ZoneId zone = zoneProblem == null ? ZoneId.of(customer.timeZone().strip()) : settings.defaultZone();
        ZonedDateTime now = clock.instant().atZone(zone);
        return end(quiet.quietFrom(), quiet.quietUntil(), now)
                .map(end -> new Inside(quiet.quietHours(), zone, zoneProblem, entry.category(), high, quiet.quietUntil(), now, end));
    }

    private Wait wait(NotificationCatalog.Entry entry, CanonicalNotification notification, Inside in, String reason) {
        Instant until = in.end().toInstant();
        String matchKey = catalog.cancelledBy(notification.type()).map(rule -> rule.matchKey(notification)).orElse(null);
        return new Wait(until, in.until() + " local time on " + in.end().toLocalDate() + " in " + in.zone().getId() + " ("
                + UTC_TIME.format(until) + ")", reason, matchKey, until.plus(entry.window()));
    }

    /**
     * The end of the quiet hours [from, until) that {@code now} is in, in now's zone; empty when it is not in them. A range
     * with from after until crosses midnight (21:00-08:00). The end is until's local time on its day: on a day the clocks
     * change it is still 08:00 on the wall (a time the change skips moves forward by the gap, as the clocks do; a time the
     * wall clock shows twice is its first pass, or its second when now is already past the first).
     */
    static Optional<ZonedDateTime> end(LocalTime from, LocalTime until, ZonedDateTime now) {
        LocalTime time = now.toLocalTime();
        LocalDate day = now.toLocalDate();
        boolean crossesMidnight = from.isAfter(until);
        LocalDate endDay;
        if (!crossesMidnight) {
            if (time.isBefore(from) || !time.isBefore(until)) {
                return Optional.empty();
            }
            endDay = day;
        } else if (!time.isBefore(from)) {
            endDay = day.plusDays(1);   // evening: they end tomorrow morning
        } else if (time.isBefore(until)) {
            endDay = day;               // small hours: they end this morning
        } else {
            return Optional.empty();
        }
        ZonedDateTime end = ZonedDateTime.of(endDay, until, now.getZone());
        // On the night the clocks go back, the wall clock shows an hour (Lord Howe: half an hour) twice, and until may be in it:
        // once now is in the second pass, the first one is behind it, and the quiet hours end at the second one.
        return Optional.of(end.isAfter(now) ? end : end.withLaterOffsetAtOverlap());
    }

    /** Why the customer's own time zone cannot be used, in words; null when it can. */
    private static String zoneProblem(Customer customer) {
        String fallback = "herald.scheduling.default-time-zone";
        if (customer == null) {
            return "the customer is not in the directory: " + fallback;
        }
        if (customer.timeZone() == null || customer.timeZone().isBlank()) {
            return "the customer has no time zone: " + fallback;
        }
        try {
            ZoneId.of(customer.timeZone().strip());
            return null;
        } catch (DateTimeException e) {
            return "the customer's time zone '" + customer.timeZone() + "' is not a time zone: " + fallback;
        }
    }
}
