package io.herald.console;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

/** The weekly review as CSV for a spreadsheet: section, key, count; then one line per open item. */
@Component
public class WeeklyReportCsv {

    /** The CSV as a download named for its week (herald-exceptions-2026-W47.csv). */
    public ResponseEntity<String> download(WeeklyReport.Report report) {
        return ResponseEntity.ok().contentType(new MediaType("text", "csv", StandardCharsets.UTF_8))
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"herald-exceptions-" + report.week() + ".csv\"")
                .body(write(report));
    }

    public String write(WeeklyReport.Report report) {
        StringBuilder csv = new StringBuilder("section,key,count\n");
        line(csv, "week", report.week() + " (" + report.from() + " to " + report.to() + ")", "");
        line(csv, "failures", "total", String.valueOf(report.failures()));
        counts(csv, "failures by reason", report.byReason());
        counts(csv, "failures by source", report.bySource());
        counts(csv, "failures by channel", report.byChannel());
        counts(csv, "failures by type", report.byType());
        line(csv, "time to resolution", "resolved", String.valueOf(report.resolved()));
        line(csv, "resolved", "delivered after all (retried or resent)", String.valueOf(report.resolvedByDelivery()));
        line(csv, "resolved", "re-driven (quarantined event)", String.valueOf(report.resolvedByRedrive()));
        line(csv, "resolved", "dismissed (closed; nothing delivered)", String.valueOf(report.dismissed()));
        line(csv, "time to resolution", "median", report.medianTimeToResolution());
        line(csv, "time to resolution", "p90", report.p90TimeToResolution());
        line(csv, "time to resolution", "max", report.maxTimeToResolution());
        line(csv, "window misses", "total", String.valueOf(report.windowMisses()));
        counts(csv, "window misses by type / channel", report.windowMissesByType());
        line(csv, "late messages not sent (late: drop)", "total", String.valueOf(report.lateDropped()));
        counts(csv, "late messages not sent by type / channel", report.lateDroppedByType());
        line(csv, "late messages held for an operator (late: hold)", "total", String.valueOf(report.lateHeld()));
        counts(csv, "late messages held by type / channel", report.lateHeldByType());
        line(csv, "duplicates suppressed", "total", String.valueOf(report.duplicatesSuppressed()));
        for (WeeklyReport.ReceiptCounts receipts : report.receipts()) {
            line(csv, "receipts " + receipts.channel(), "delivered", String.valueOf(receipts.delivered()));
            line(csv, "receipts " + receipts.channel(), "bounced", String.valueOf(receipts.bounced()));
            line(csv, "receipts " + receipts.channel(), "undelivered", String.valueOf(receipts.undelivered()));
            line(csv, "receipts " + receipts.channel(), "complained", String.valueOf(receipts.complained()));
        }
        line(csv, "open items", "total", String.valueOf(report.openItems()));
        csv.append("\nopen item,id,notification,state,since,reason\n");
        for (WeeklyReport.OpenItem item : report.open()) {
            csv.append(String.join(",", cell(item.kind()), String.valueOf(item.id()),
                    item.notificationId() == null ? "" : String.valueOf(item.notificationId()), cell(item.state()),
                    item.since().toString(), cell(item.reason()))).append('\n');
        }
        return csv.toString();
    }

    private static void counts(StringBuilder csv, String section, List<WeeklyReport.Count> counts) {
        counts.forEach(count -> line(csv, section, count.key(), String.valueOf(count.count())));
    }

    private static void line(StringBuilder csv, String section, String key, String count) {
        csv.append(cell(section)).append(',').append(cell(key)).append(',').append(cell(count)).append('\n');
    }

    /**
     * RFC 4180 quoting, and no leading =, +, -, @, tab or carriage return that a spreadsheet would run as a formula (reasons
     * quote what events carried): such a cell starts with an apostrophe, which spreadsheets show as text.
     */
    static String cell(String value) {
        if (value == null) {
            return "";
        }
        String safe = !value.isEmpty() && "=+-@\t\r".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
        boolean quote = safe.chars().anyMatch(c -> c == '"' || c == ',' || c == '\n' || c == '\r');
        return quote ? "\"" + safe.replace("\"", "\"\"") + "\"" : safe;
    }
}
