package io.herald.logging;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Masks personal contact data (emails, phone numbers) in anything written to logs or shown masked. */
public final class Masking {

    /**
     * What a local part is written with: letters and digits of any script (jöhn@…), dots, dashes and the marks people
     * use in names and mailboxes (mary.o'connor@…, first/last@…, jenny+tag@…). Not = ? { } | ` " or ':', so
     * "email=jenny@…" or "mailto:jenny@…" keeps its label readable.
     */
    private static final String LOCAL = "[\\p{L}\\p{M}\\p{N}._%+'/!#$*~^-]";
    // Starts only where a local part can start (not inside a run of its characters), so a long run of
    // letters without an @ is scanned once, not once per position (which was quadratic). The domain may be
    // internationalised (bücher.de, or its xn-- form). The @ may be URL-encoded (%40, a provider echoing a form body).
    private static final Pattern EMAIL = Pattern.compile(
            "(?<!" + LOCAL + ")(" + LOCAL + ")" + LOCAL + "*(?:@|%40)([\\p{L}\\p{M}\\p{N}.-]+\\.(?:[\\p{L}\\p{M}]{2,}|xn--[A-Za-z0-9-]+))");
    /**
     * A number as a phone number is written: after +, %2B (a URL-encoded +, as in form bodies) or nothing, digit groups
     * with at most one space, dash or dot between them, a group perhaps in parentheses: +44 7700 900123, 0044 7700 900123,
     * 07700 900123, (555) 555-0100, +44 (0)20 7946 0958, 447700900123. A + may follow anything (a JSON-escaped \n+44…);
     * a bare number must not continue a word or an id (evt_1QxR…, a UUID's last group, kafka-1224…) nor be labelled an
     * id (Kafka's "(id: 2147483647 rack: null)", "sessionId=987655611"). At most 16 groups (a phone number has at most
     * 15 digits): Java's regex engine recurses once per repetition, so a long list of numbers overflowed the stack.
     * Whether it is a phone number is {@link #isPhone}'s decision.
     */
    private static final Pattern NUMBER = Pattern.compile(
            "(?:\\+|%2[Bb]|(?<![\\w+])(?<!\\w[-.])(?<!(?i:id)[:=] ?))"
                    + "(?:\\(\\d+\\)|\\d+)(?:[ .-](?:\\(\\d+\\)|\\d+)|(?<=\\))\\d+|\\(\\d+\\)){0,15}(?!\\w)");
    private static final Pattern DATE = Pattern.compile("\\d{4}([-.])\\d{2}\\1\\d{2}|\\d{2}([-.])\\d{2}\\2\\d{4}");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    /**
     * What labels a number as an id (a Zendesk user 9000000123456, ticket 21823417), read in the text right before it: a
     * key ending in id, JSON (escaped too) or not ("requester_id": 9000000123456, "requesterId" : "9000000123456", user_id=…), or the
     * words user, ticket, requester, assignee, submitter, organization or request, perhaps followed by "id" or "#".
     */
    private static final Pattern ID_LABEL = Pattern.compile(
            "(?:(?:_id|Id|ID|\\bid)s?\\\\?\"?\\s*[:=]\\s*\\\\?\"?"
                    + "|(?i:\\b(?:user|ticket|requester|assignee|submitter|organization|request|id)(?:\\s+id)?)\\s*#?\\s*)$");
    private static final int LABEL_WINDOW = 40;
    /** A one-digit group before a dot: SMTP's enhanced status codes (550 5.1.1), version numbers (1.2.3); never a phone number. */
    private static final Pattern DOTTED_DIGIT = Pattern.compile("(?<!\\d)\\d\\.\\d");
    /**
     * An amount as some locales write it, in groups of three with dots or spaces ("250.000.000,00 IDR", "₫ 250.000.000" for an
     * en-DE or en-NL reader), read by what is right next to it: a currency sign or ISO code before or after it, or its decimal
     * comma (two or three digits and no further group, so a comma-separated list of phone numbers is not one:
     * 612 345 678,612 345 679).
     */
    private static final Pattern CURRENCY_BEFORE = Pattern.compile("(?:\\p{Sc}|\\b[A-Z]{3})[ \u00a0\u202f]?$");
    private static final Pattern CURRENCY_AFTER = Pattern.compile(",\\d{2,3}(?!\\d|[ .]\\d)|[ \u00a0\u202f]?(?:\\p{Sc}|[A-Z]{3}\\b)");
    /**
     * How such an amount is written: no leading 0 (a national phone number's prefix) and groups of three after the first, all
     * with the same dot or space (250.000.000). A phone number is not written so (020 7946 0958, 0049 30 1234567, 07700 900123),
     * so a comma after it (a dial string's pause before an extension, the next number of a list) or a word in capitals that
     * happens to be a currency code (ALL, TOP) does not make it an amount.
     */
    private static final Pattern AMOUNT_FORM = Pattern.compile("[1-9]\\d{0,2}([. ])\\d{3}(?:\\1\\d{3})*");

    /**
     * What {@link #mask} and {@link #phone} write for an address: an email's first character, *** and its domain
     * (j***@example.org); a phone number's first digits, … and its last four (+447…0123), or … and its last two (…23).
     */
    private static final Pattern MASKED = Pattern.compile(LOCAL + "\\*\\*\\*@[\\p{L}\\p{M}\\p{N}.-]+\\.(?:[\\p{L}\\p{M}]{2,}|xn--[A-Za-z0-9-]+)"
            + "|(?<![\\w+])\\+?\\d{1,3}…\\d{4}(?!\\d)|(?<![\\w…])…\\d{2}(?!\\d)");

    private Masking() {
    }

    /** jenny.rosen@example.org -> j***@example.org; the whole text masked if it is not an address alone. */
    public static String email(String email) {
        return email == null ? null : mask(email);
    }

    /** +447700900123 -> +447…0123: enough to recognise, not enough to use (at least four digits are always hidden). */
    public static String phone(String phone) {
        if (phone == null) {
            return null;
        }
        String written = phone.strip().replaceFirst("^%2[Bb]", "+");
        String plus = written.startsWith("+") ? "+" : "";
        String digits = written.replaceAll("\\D", "");
        if (digits.length() <= 8) {
            return "…" + digits.substring(Math.max(0, digits.length() - 2));
        }
        return plus + digits.substring(0, Math.min(3, digits.length() - 8)) + "…" + digits.substring(digits.length() - 4);
    }

    /**
     * The text with every email address and phone number in it, written out or masked, replaced by {@code replacement}:
     * an erased customer's address quoted in a reason ("550 5.1.1 j***@example.org: no such user").
     */
    public static String withoutAddresses(String text, String replacement) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        return MASKED.matcher(mask(text)).replaceAll(Matcher.quoteReplacement(replacement));
    }

    public static String mask(String text) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        // The patterns only match around an @ (or %40) and around a digit: a text without them is scanned once, cheaply
        // (every message a sender records goes through here, and every log line).
        String masked = text.indexOf('@') < 0 && !text.contains("%40") ? text : EMAIL.matcher(text).replaceAll("$1***@$2");
        if (!hasDigit(masked)) {
            return masked;
        }
        Matcher numbers = NUMBER.matcher(masked);
        StringBuilder out = new StringBuilder();
        while (numbers.find()) {
            String number = numbers.group();
            boolean phone = isPhone(number) && !labelledId(masked, numbers.start(), number) && !amount(masked, numbers.start(), numbers.end(), number);
            numbers.appendReplacement(out, Matcher.quoteReplacement(phone ? phone(number) : number));
        }
        numbers.appendTail(out);
        return out.toString();
    }

    /**
     * A number written as an amount (AMOUNT_FORM: without +, no leading 0, in groups of three) right next to a real currency
     * (a sign such as € or ₫, or an ISO 4217 code such as IDR: not "SMS" or "TEL"), or followed by a decimal comma: an amount,
     * not a phone number.
     */
    static boolean amount(String text, int start, int end, String number) {
        if (!AMOUNT_FORM.matcher(number).matches()) {
            return false;   // a + or %2B, a leading 0 or other groups: written as a phone number is
        }
        Matcher before = CURRENCY_BEFORE.matcher(text).region(Math.max(0, start - 5), start).useTransparentBounds(true);
        if (before.find() && currency(before.group())) {
            return true;
        }
        Matcher after = CURRENCY_AFTER.matcher(text).region(end, Math.min(text.length(), end + 5)).useTransparentBounds(true);
        return after.lookingAt() && (after.group().startsWith(",") || currency(after.group()));
    }

    /** Whether the sign or code (with the space beside it) names a currency: a currency sign, or an ISO 4217 code. */
    private static boolean currency(String signOrCode) {
        String code = signOrCode.strip().replace("\u00a0", "").replace("\u202f", "");
        if (code.codePoints().allMatch(c -> Character.getType(c) == Character.CURRENCY_SYMBOL)) {
            return true;
        }
        try {
            java.util.Currency.getInstance(code);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * A bare run of digits (no +, no spaces, dashes or dots in it) labelled as an id by what comes right before it: a
     * Zendesk user or ticket id is kept readable so operators can find it. A number written with + is always a phone number.
     */
    static boolean labelledId(String text, int start, String number) {
        if (!number.chars().allMatch(Character::isDigit)) {
            return false;
        }
        // Transparent bounds: a word cut by the window's start ("paid" as "id") is still seen whole.
        return ID_LABEL.matcher(text).region(Math.max(0, start - LABEL_WINDOW), start).useTransparentBounds(true).find();
    }

    /**
     * 9 to 15 digits (E.164's longest), written as above, and not a date, a time's date part, an IPv4 address or a
     * dotted code (SMTP's 550 5.1.1).
     * A bare number starting with 1 counts only with 11 digits (North America's 1 and ten digits, 15555550100):
     * Unix seconds (1764000000, ten digits until 2033) and epoch milliseconds (1764000000000) stay readable.
     * One starting with 0 (07700900123, 0201234567, 0044…) or written with + is a phone number.
     */
    static boolean isPhone(String number) {
        boolean international = number.startsWith("+") || number.startsWith("%");
        int from = number.startsWith("%") ? 3 : 0;
        int digits = 0;
        char first = 0;
        for (int i = from; i < number.length(); i++) {
            char c = number.charAt(i);
            if (c >= '0' && c <= '9') {
                first = digits++ == 0 ? c : first;
            }
        }
        if (digits < 9 || digits > 15 || DATE.matcher(number).find() || IPV4.matcher(number).matches()
                || DOTTED_DIGIT.matcher(number).find()) {
            return false;
        }
        return international || first != '1' || digits == 11;
    }

    private static boolean hasDigit(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                return true;
            }
        }
        return false;
    }
}
