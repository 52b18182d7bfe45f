package io.herald.logging;

import java.util.function.UnaryOperator;
import java.util.Locale;

/**
 * Line breaks inside a logged value, written as visible escapes. Herald logs values that events and providers carry (a
 * quarantine reason quoting a field, a provider's answer); a line break in one of them would end the log line there and
 * let the rest pass for a line of Herald's own (log forging, CWE-117): "amount_due is the text '1\n2026-12-06T05:00:00Z INFO
 * … Delivered'". Only the values are changed: a message Herald or a library writes over several lines on purpose (Spring
 * Boot's "APPLICATION FAILED TO START") and stack traces keep their lines.
 */
final class LogLineBreaks {

    private LogLineBreaks() {
    }

    /** The value with CR as \r, LF as \n and the other line terminators (VT, FF, NEL, U+2028, U+2029) as \\uXXXX. */
    static String escaped(String value) {
        if (value == null || value.chars().noneMatch(LogLineBreaks::breaksLine)) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length() + 8);
        value.chars().forEach(c -> {
            if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (breaksLine(c)) {
                out.append(String.format(Locale.ROOT, "\\u%04x", c));
            } else {
                out.append((char) c);
            }
        });
        return out.toString();
    }

    /**
     * Each logged value in one line: a value that would break the line becomes its masked text, escaped; any other stays as
     * it is (masked with the whole message). Masked before it is escaped: "\n07700900123" no longer reads as a phone number.
     */
    static Object[] escaped(Object[] arguments, UnaryOperator<String> masked) {
        if (arguments == null) {
            return null;
        }
        Object[] out = arguments.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] != null && !(out[i] instanceof Object[])) {
                String text = String.valueOf(out[i]);
                if (text.chars().anyMatch(LogLineBreaks::breaksLine)) {
                    out[i] = escaped(masked.apply(text));
                }
            }
        }
        return out;
    }

    private static boolean breaksLine(int c) {
        return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x85 || c == 0x2028 || c == 0x2029;
    }
}
