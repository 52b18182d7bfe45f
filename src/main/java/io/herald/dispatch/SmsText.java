package io.herald.dispatch;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * An SMS written with the plain characters of the GSM-7 alphabet where a template, a formatter or the data used typographic
 * ones: a no-break space (Java's German currency format writes "49,00&nbsp;$"), curly or low quotation marks („…“, ‘…’), dashes
 * and the ellipsis. A single character outside GSM-7 makes the provider send the whole message as UCS-2, 70 characters a
 * segment instead of 160 (67 instead of 153 when split), so each of these doubled what a German SMS cost. Letters outside
 * GSM-7 (Cyrillic, Greek beyond its capitals, emoji) are the customer's words and stay as they are. A currency sign outside
 * GSM-7 (₩, ₹, ₪, ...) is written as its ISO code ("KRW 55,000"): an amount is not worth tripling an SMS's cost (GSM-7 has
 * $, £, ¥ and €).
 * Characters nobody sees are left out where they alone would make the SMS UCS-2: a soft hyphen or an invisible operator
 * (copied with a subject from a web page or a word processor) always (a tab is a space), and the direction marks and
 * joiners (U+200C–U+200F) where the rest of the text is GSM-7; right-to-left text and emoji sequences keep theirs.
 */
final class SmsText {

    private static final Map<Character, String> PLAIN = Map.ofEntries(
            Map.entry('\u00A0', " "), Map.entry('\u202F', " "), Map.entry('\u2007', " "), Map.entry('\u2009', " "),
            Map.entry('\u200A', " "), Map.entry('\t', " "), Map.entry('\u200B', ""),
            Map.entry('\u00AD', ""), Map.entry('\u180E', ""), Map.entry('\u2061', ""), Map.entry('\u2062', ""),
            Map.entry('\u2063', ""), Map.entry('\u2064', ""), Map.entry('\u2060', ""), Map.entry('\uFEFF', ""),
            Map.entry('\u2018', "'"), Map.entry('\u2019', "'"), Map.entry('\u201A', "'"), Map.entry('\u201B', "'"), Map.entry('\u2032', "'"),
            Map.entry('\u201C', "\""), Map.entry('\u201D', "\""), Map.entry('\u201E', "\""), Map.entry('\u201F', "\""),
            Map.entry('\u2033', "\""), Map.entry('\u00AB', "\""), Map.entry('\u00BB', "\""),
            Map.entry('\u2010', "-"), Map.entry('\u2011', "-"), Map.entry('\u2012', "-"), Map.entry('\u2013', "-"),
            Map.entry('\u2014', "-"), Map.entry('\u2212', "-"), Map.entry('\u2026', "..."));

    private static final Map<Character, String> CURRENCY_CODE = Map.ofEntries(
            Map.entry('\u20A9', "KRW"), Map.entry('\u20B9', "INR"), Map.entry('\u20AA', "ILS"), Map.entry('\u20B1', "PHP"),
            Map.entry('\u20AB', "VND"), Map.entry('\u0E3F', "THB"), Map.entry('\u20A6', "NGN"), Map.entry('\u20B4', "UAH"),
            Map.entry('\u20B8', "KZT"), Map.entry('\u20BA', "TRY"), Map.entry('\u20BC', "AZN"), Map.entry('\u20BE', "GEL"),
            Map.entry('\u20BD', "RUB"), Map.entry('\u20A1', "CRC"), Map.entry('\u20B2', "PYG"), Map.entry('\u20B5', "GHS"),
            Map.entry('\u20AD', "LAK"), Map.entry('\u20AE', "MNT"), Map.entry('\u17DB', "KHR"),
            Map.entry('\u20BF', "BTC"));

    /** Zero-width non-joiner and joiner, left-to-right and right-to-left marks: they mean something only outside GSM-7's letters. */
    private static final Pattern MARKS = Pattern.compile("[\u200C-\u200F]");

    private SmsText() {
    }

    static String plain(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder plain = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String code = CURRENCY_CODE.get(c);
            if (code != null) {   // "₩55,000" -> "KRW 55,000", "55.000₩" -> "55.000 KRW"
                boolean afterDigit = plain.length() > 0 && Character.isDigit(plain.charAt(plain.length() - 1));
                boolean beforeDigit = i + 1 < text.length() && Character.isDigit(text.charAt(i + 1));
                plain.append(afterDigit ? " " : "").append(code).append(beforeDigit ? " " : "");
                continue;
            }
            String replacement = PLAIN.get(c);
            plain.append(replacement == null ? String.valueOf(c) : replacement);
        }
        String written = plain.toString();
        String unmarked = MARKS.matcher(written).replaceAll("");
        return unmarked.length() < written.length() && SmsSegments.gsm7(unmarked) ? unmarked : written;
    }
}
