package io.herald.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

import io.herald.console.ActionRefused;
import io.herald.console.FailureSearch;
import io.herald.console.ViewerMasking;
import org.springframework.stereotype.Component;

/**
 * What the console and the API show and do with waiting notifications (issue 14 point 7): the list of scheduled and
 * held ones, filtered, with reasons masked for viewers, and an operator's cancel, dismiss or send-now with a comment
 * (ScheduledSends decides and audits). One place for both, so the page and the API say the same things.
 */
@Component
public class WaitingNotifications {

    /** The most a list shows; the filters narrow it. */
    public static final int PAGE_SIZE = 200;

    /** What an operator's action did, in words for the flash message and the API answer. */
    public record Decision(long notificationId, String state, String decidedBy, String comment, List<String> channels, String message) {
    }

    /** The list's filters, each may be empty: type, customer id, fire time from (inclusive) and to (exclusive). */
    public record Filter(String type, String customer, Instant from, Instant to) {
        public Filter {
            type = blankToNull(type);
            customer = blankToNull(customer);
            FailureSearch.searchable(from, "from");
            FailureSearch.searchable(to, "to");
            // As on the failures list: a reversed range is said to be one, not answered with an empty list.
            if (from != null && to != null && from.isAfter(to)) {
                throw new ActionRefused.InvalidInput("from is later than to: no waiting notification can match;"
                        + " swap them (to is the last day, or the time before which one fires)");
            }
        }
    }

    private final ScheduledSends scheduled;
    private final ViewerMasking masking;

    public WaitingNotifications(ScheduledSends scheduled, ViewerMasking masking) {
        this.scheduled = scheduled;
        this.masking = masking;
    }

    /** Scheduled and held notifications, soonest first (held ones, which have no time, first of all). */
    public List<ScheduledSends.Waiting> list(Filter filter, boolean masked) {
        List<ScheduledSends.Waiting> waiting = scheduled.waiting(filter.type(), filter.customer(), filter.from(), filter.to(), PAGE_SIZE);
        return masked ? waiting.stream().map(w -> new ScheduledSends.Waiting(w.notificationId(), w.type(), w.customerId(), w.state(),
                w.fireAt(), masking.text(w.reason()), w.matchKey(), w.createdAt(), w.channels())).toList() : waiting;
    }

    /** Cancels a scheduled one (CANCELLED) or dismisses a held one (DISMISSED): never sent. Refused without a comment. */
    public Decision cancel(long notificationId, String actor, String comment) {
        String said = required(comment, "a cancellation");
        String ending = scheduled.cancel(notificationId, actor, said);
        return new Decision(notificationId, ending, actor, said, List.of(),
                "notification " + notificationId + " " + ending.toLowerCase(Locale.ROOT) + ": not sent");
    }

    /** Sends a scheduled one before its time, or a held one: its deliveries are queued now. Refused without a comment. */
    public Decision sendNow(long notificationId, String actor, String comment) {
        String said = required(comment, "sending it now");
        List<String> channels = scheduled.sendNow(notificationId, actor, said);
        return new Decision(notificationId, "SENT_NOW", actor, said, channels, "notification " + notificationId + " sent now: "
                + channels.size() + " deliver" + (channels.size() == 1 ? "y" : "ies") + " queued" + (channels.isEmpty() ? "" : " (" + String.join(", ", channels) + ")"));
    }

    /** No comment: refused before anything is decided (the API answers 400). */
    public static final class NoComment extends ActionRefused.InvalidInput {
        NoComment(String what) {
            super("say why: " + what + " needs a comment for the record");
        }
    }

    private static String required(String comment, String what) {
        if (comment == null || comment.isBlank()) {
            throw new NoComment(what);
        }
        return comment.strip();
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text.strip();
    }
}
