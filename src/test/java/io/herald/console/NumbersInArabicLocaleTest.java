package io.herald.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.IsoFields;

import io.herald.testsupport.HostileLocale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Numbers Herald writes for machines and operators are ASCII digits with a decimal point whatever the JVM's locale. With
 * LANG=ar_EG.UTF-8 the weekly report's current week was "٢٠٢٦-W٤٩" (Arabic-Indic digits), which the report then refused as
 * not a week ("week must be written like 2026-W47"), so the console's weekly report without a week failed; a duration
 * read "٢٫٥ h" (and "2,5 h" in German).
 */
class NumbersInArabicLocaleTest {

    @RegisterExtension
    static final HostileLocale ARABIC = new HostileLocale("ar-EG", "Pacific/Chatham");

    @Test
    void theCurrentWeekAndDurationsAreWrittenInAsciiDigits() {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        assertThat(WeeklyReport.weekOf(""))
                .matches("\\d{4}-W\\d{2}")
                .isEqualTo(today.get(IsoFields.WEEK_BASED_YEAR) + "-W" + (today.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR) < 10 ? "0" : "")
                        + today.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
        assertThat(WeeklyReport.human(Duration.ofMinutes(150))).isEqualTo("2.5 h");
    }
}
