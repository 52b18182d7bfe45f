package io.herald.logging;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Masks personal contact data (emails, phone numbers) in anything written to logs or shown masked. */
public final class Masking {

    // Starts only where a local part can start (not inside a run of its characters), so a long run of
    // letters without an @ is scanned once, not once per position (which was quadratic).
    private static final Pattern EMAIL = Pattern.compile(
            "(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\\.[A-Za-z]{2,})");
    // Numbers written as phone numbers: international (+44 7700 900123, +15555550100) or grouped
    // national ((555) 555-0100, 555-555-0100). Bare digit runs (ids, offsets, temp file names) are left alone.
    private static final Pattern PHONE = Pattern.compile(
            "(?<![\\w+])(\\+\\d[\\d ().-]{7,}\\d|\\(\\d{3}\\) ?\\d{3}[ -]\\d{4}|\\d{3}[ -]\\d{3}[ -]\\d{4})(?![\\w])");

    private Masking() {
    }

    public static String email(String email) {
        return email == null ? null : mask(email);
    }

    /** +447700900123 -> +447…0123: enough to recognise, not enough to use. */
    public static String phone(String phone) {
        if (phone == null) {
            return null;
        }
        String digits = phone.replaceAll("[^+\\d]", "");
        return digits.length() <= 8 ? "…" + digits.substring(Math.max(0, digits.length() - 2))
                : digits.substring(0, 4) + "…" + digits.substring(digits.length() - 4);
    }

    public static String mask(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        String masked = EMAIL.matcher(text).replaceAll("$1***@$2");
        Matcher phones = PHONE.matcher(masked);
        StringBuilder out = new StringBuilder();
        while (phones.find()) {
            String candidate = phones.group(1);
            long digits = candidate.chars().filter(Character::isDigit).count();
            // ISO dates and times also match the shape; a phone number has 9+ digits and no colon or T.
            boolean looksLikePhone = digits >= 9 && !candidate.matches(".*\\d{4}-\\d{2}-\\d{2}.*");
            phones.appendReplacement(out, Matcher.quoteReplacement(looksLikePhone ? phone(candidate) : candidate));
        }
        phones.appendTail(out);
        return out.toString();
    }
}
