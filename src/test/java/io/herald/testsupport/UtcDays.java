package io.herald.testsupport;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Herald writes the UTC date of an action into texts ("erased on 2026-12-06"). A test that takes the date when it starts
 * and checks a while later may cross midnight UTC: the action's date is then the start's or a later one. These give the
 * texts for each UTC date from the start to now (one date, or two when midnight passed), so such a check accepts exactly
 * the dates the action can have happened on.
 */
public final class UtcDays {

    private UtcDays() {
    }

    /** Today in UTC: take it before the action whose date the texts will name. */
    public static LocalDate today() {
        return LocalDate.now(ZoneOffset.UTC);
    }

    /** Each UTC date from {@code start} to today, as ISO text (2026-12-06), oldest first. */
    public static List<String> since(LocalDate start) {
        List<String> days = new ArrayList<>();
        for (LocalDate day = start; !day.isAfter(today()); day = day.plusDays(1)) {
            days.add(day.toString());
        }
        return days;
    }

    /** {@code before + day + after} for each UTC date from {@code start} to today. */
    public static List<String> texts(LocalDate start, String before, String after) {
        return since(start).stream().map(day -> before + day + after).toList();
    }

    /** The same texts as an array, for AssertJ's containsAnyOf and endsWith-like checks. */
    public static String[] textArray(LocalDate start, String before, String after) {
        return texts(start, before, after).toArray(String[]::new);
    }

    /**
     * The date {@code text} names between {@code before} and {@code after}, failing unless the text is exactly that with a
     * UTC date from {@code start} to today: read the action's date from what Herald wrote, then expect it everywhere else.
     */
    public static String dayNamedIn(String text, String before, String after, LocalDate start) {
        for (String day : since(start)) {
            if ((before + day + after).equals(text)) {
                return day;
            }
        }
        throw new AssertionError("expected <" + before + "{a UTC date from " + start + " to today}" + after + "> but was <" + text + ">");
    }

    /** A regular expression matching any UTC date from {@code start} to today. */
    public static String pattern(LocalDate start) {
        return since(start).stream().map(Pattern::quote).collect(Collectors.joining("|", "(?:", ")"));
    }
}
