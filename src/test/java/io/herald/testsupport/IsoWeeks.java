package io.herald.testsupport;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;
import java.util.List;

/**
 * The weekly review counts what happened in one ISO week (UTC, Monday 00:00 to Monday 00:00). A test that reads it before
 * and after its actions may cross midnight from Sunday to Monday in between: what it did is then counted, in part or whole,
 * in the next week. These give the weeks such a test reads and adds up: the week it starts in and the next one (a test runs
 * for far less than a week), so its counts cover exactly the weeks its actions can have happened in.
 */
public final class IsoWeeks {

    private IsoWeeks() {
    }

    /** The ISO week of that UTC date, as the weekly review names it (2026-W49). */
    public static String of(LocalDate day) {
        return String.format("%d-W%02d", day.get(IsoFields.WEEK_BASED_YEAR), day.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
    }

    /** The ISO week of that instant (UTC). */
    public static String of(Instant at) {
        return of(LocalDate.ofInstant(at, ZoneOffset.UTC));
    }

    /** This week and the next one (UTC): take them before the actions whose counts the test reads. */
    public static List<String> thisAndNext() {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        return List.of(of(today), of(today.plusWeeks(1)));
    }
}
