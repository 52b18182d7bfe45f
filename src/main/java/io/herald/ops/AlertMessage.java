package io.herald.ops;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * The text of one alert: new kinds of failure first (count, what it means, when, one example, a
 * console link), then reminders for kinds still failing since their last announcement. Plain
 * sentences for whoever is on call; Slack shows the links as links.
 */
final class AlertMessage {

    /** A kind of failure still happening after it was announced: how many more since when. */
    record Reminder(String summary, String unit, int count, Instant since, String link) {
    }

    static final int MAX_GROUPS = 10;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);

    private AlertMessage() {
    }

    static String text(List<FailureGroup> announced, List<Reminder> reminders, Duration repeatAfter, Instant now, String overview) {
        StringBuilder text = new StringBuilder();
        int failures = announced.stream().mapToInt(FailureGroup::count).sum();
        if (!announced.isEmpty()) {
            text.append("Herald: ").append(failures).append(failures == 1 ? " new failure needs" : " new failures need")
                    .append(" attention (").append(DAY_TIME.format(now)).append(" UTC)\n");
            announced.stream().limit(MAX_GROUPS).forEach(group -> text.append("\n• ").append(group.summary()).append(": ")
                    .append(counted(group.count(), group.unit())).append(" (")
                    .append(group.first().equals(group.last()) ? "at " + TIME.format(group.first())
                            : TIME.format(group.first()) + " to " + TIME.format(group.last()))
                    .append(" UTC)\n   Example: ").append(group.example())
                    .append("\n   Console: ").append(group.link()).append('\n'));
            more(text, announced.size(), overview);
        }
        if (!reminders.isEmpty()) {
            text.append(announced.isEmpty() ? "Herald: failures announced earlier are still happening (" + DAY_TIME.format(now) + " UTC)\n" : "\n")
                    .append("Still failing (each kind is repeated at most every ").append(FailureGroups.human(repeatAfter)).append("):\n");
            reminders.stream().limit(MAX_GROUPS).forEach(reminder -> text.append("\n• ").append(reminder.summary()).append(": ")
                    .append(counted(reminder.count(), reminder.unit()).replaceFirst(" ", " more "))
                    .append(reminder.since() == null ? "" : " since " + DAY_TIME.format(reminder.since()) + " UTC")
                    .append("\n   Console: ").append(reminder.link()).append('\n'));
            more(text, reminders.size(), overview);
        }
        return text.toString().strip();
    }

    private static void more(StringBuilder text, int groups, String overview) {
        if (groups > MAX_GROUPS) {
            text.append("\n…and ").append(groups - MAX_GROUPS).append(" more kinds of failure: ").append(overview).append('\n');
        }
    }

    private static String counted(int count, String unit) {
        return count + " " + (count == 1 ? unit : unit.endsWith("y") ? unit.substring(0, unit.length() - 1) + "ies" : unit + "s");
    }
}
