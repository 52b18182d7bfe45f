package io.herald.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A cell of the weekly review's CSV is read by a spreadsheet as the text it is, whatever an event put in a reason. */
class WeeklyReportCsvTest {

    @Test
    void aCellThatASpreadsheetWouldRunAsAFormulaIsKeptAsTextAndSeparatorsAreQuoted() {
        assertThat(WeeklyReportCsv.cell("=HYPERLINK(\"https://evil.example\",\"open\")"))
                .isEqualTo("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"open\"\")\"");
        assertThat(WeeklyReportCsv.cell("+1-555")).isEqualTo("'+1-555");
        assertThat(WeeklyReportCsv.cell("-2+3")).isEqualTo("'-2+3");
        assertThat(WeeklyReportCsv.cell("@SUM(A1)")).isEqualTo("'@SUM(A1)");
        assertThat(WeeklyReportCsv.cell("\t=1+1")).isEqualTo("'\t=1+1");
        assertThat(WeeklyReportCsv.cell("\r=1+1")).isEqualTo("\"'\r=1+1\"");
        assertThat(WeeklyReportCsv.cell("sms not sent: provider answered 400, then 503")).isEqualTo("\"sms not sent: provider answered 400, then 503\"");
        assertThat(WeeklyReportCsv.cell("plain")).isEqualTo("plain");
        assertThat(WeeklyReportCsv.cell(null)).isEmpty();
    }
}
