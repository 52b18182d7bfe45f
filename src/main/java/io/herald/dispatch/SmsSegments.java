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

    /** The segments the text is sent as (at least 1). */
    static int count(String text) {
        boolean gsm = gsm7(text);
        int units = units(text, gsm);
        int single = gsm ? 160 : 70;
        int split = gsm ? 153 : 67;
        return units <= single ? 1 : (units + split - 1) / split;
    }

    /** The most characters of this text's kind that fit in {@code segments} segments (its extension characters counted twice). */
    static int characters(String text, int segments) {
        boolean gsm = gsm7(text);
        int room = segments == 1 ? (gsm ? 160 : 70) : segments * (gsm ? 153 : 67);
        return room - (units(text, gsm) - text.length());
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
