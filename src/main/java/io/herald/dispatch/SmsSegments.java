package io.herald.dispatch;

/**
 * How many segments a provider splits an SMS into, which is what the SMS costs: GSM-7 text takes 160 characters in one
 * segment and 153 a segment when split (the extension characters {@code ^ { } \ [ ~ ] | €} count twice); any other
 * character makes the whole message UCS-2, 70 UTF-16 units in one segment and 67 a segment when split.
 */
final class SmsSegments {

    private static final String BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001BÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
            + "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    private static final String EXTENSION = "\f^{}\\[~]|€";

    private SmsSegments() {
    }

    /** Whether every character is in the GSM-7 alphabet (basic or extension table). */
    static boolean gsm7(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (BASIC.indexOf(c) < 0 && EXTENSION.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The segments the text is sent as (at least 1). A split message never cuts a character of two units (a GSM-7 extension
     * character, a UCS-2 surrogate pair such as an emoji): one that would straddle two segments starts the next.
     */
    static int count(String text) {
        boolean gsm = gsm7(text);
        if (units(text, gsm) <= (gsm ? 160 : 70)) {
            return 1;
        }
        int split = gsm ? 153 : 67;
        int segments = 1;
        int used = 0;
        for (int i = 0; i < text.length(); ) {
            int width = width(text, i, gsm);
            if (used + width > split) {
                segments++;
                used = 0;
            }
            used += width;
            i += gsm ? 1 : width;
        }
        return segments;
    }

    /**
     * The most characters of this text's kind that fit in {@code segments} segments (its extension characters counted twice),
     * less one for each place between segments where a character of two units may not be cut.
     */
    static int characters(String text, int segments) {
        boolean gsm = gsm7(text);
        int room = segments == 1 ? (gsm ? 160 : 70) : segments * (gsm ? 153 : 67);
        int units = units(text, gsm);
        boolean doubles = gsm ? units > text.length() : text.codePoints().anyMatch(Character::isSupplementaryCodePoint);
        return room - (units - text.length()) - (segments > 1 && doubles ? segments - 1 : 0);
    }

    /** The units of the character at {@code i}: 2 for an extension character (GSM-7) or a surrogate pair (UCS-2), else 1. */
    private static int width(String text, int i, boolean gsm) {
        char c = text.charAt(i);
        if (gsm) {
            return EXTENSION.indexOf(c) >= 0 ? 2 : 1;
        }
        return Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1)) ? 2 : 1;
    }

    private static int units(String text, boolean gsm) {
        if (!gsm) {
            return text.length();   // UTF-16 units, as UCS-2 (UTF-16) sends them
        }
        int units = 0;
        for (int i = 0; i < text.length(); i++) {
            units += EXTENSION.indexOf(text.charAt(i)) >= 0 ? 2 : 1;
        }
        return units;
    }
}
