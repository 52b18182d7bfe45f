package io.herald.ledger;

import java.util.Locale;

/**
 * Makes text taken from an event storable in PostgreSQL, whatever the event contained. PostgreSQL
 * refuses NUL in text and jsonb, the driver cannot encode a lone UTF-16 surrogate, and a value longer
 * than its column fails the whole insert; each would turn "record why this event was refused" into a
 * second failure. Every writer of event-derived text goes through here.
 *
 * <ul>
 *   <li>{@link #kept}: a payload kept as received, for people and re-drives: NUL becomes the visible
 *       escape {@code \u0000}, a lone surrogate becomes U+FFFD; nothing else changes, nothing is cut.</li>
 *   <li>{@link #label}: a short value shown in a column (an id, a reason): control characters become
 *       visible escapes, lone surrogates U+FFFD, and the result is cut to the column with an ellipsis.</li>
 *   <li>{@link #content}: text a customer may read (a canonical notification's data): control characters
 *       other than line breaks and tabs are dropped, lone surrogates become U+FFFD.</li>
 * </ul>
 */
public final class StoredText {

    private static final char REPLACEMENT = '\uFFFD';
    private static final String ELLIPSIS = "…";

    private StoredText() {
    }

    /** A payload as received, storable: NUL as a visible escape, lone surrogates replaced. Null stays null. */
    public static String kept(String text) {
        if (text == null || clean(text, false)) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                out.append("\\u0000");
            } else if (Character.isSurrogate(c)) {
                i = surrogate(text, i, out);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * A value for a column of {@code max} characters: control characters escaped, lone surrogates replaced, cut to fit. Bidi
     * controls are escaped too: a reason quoting a field that carries U+202E would show the rest of its line reversed wherever
     * operators read it (the console, the CSV, the alert in the ops channel).
     */
    public static String label(String text, int max) {
        if (text == null) {
            return null;
        }
        String safe = text;
        if (!clean(text, true) || text.chars().anyMatch(StoredText::bidiControl)) {
            StringBuilder out = new StringBuilder(text.length() + 16);
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isISOControl(c) || bidiControl(c)) {
                    out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                } else if (Character.isSurrogate(c)) {
                    i = surrogate(text, i, out);
                } else {
                    out.append(c);
                }
            }
            safe = out.toString();
        }
        return truncate(safe, max);
    }

    /** Text a customer may read: control characters other than line breaks and tabs dropped, lone surrogates replaced. */
    public static String content(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean control = Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t';
            boolean lone = Character.isSurrogate(c) && !pairAt(text, i);
            if (out == null && (control || lone)) {
                out = new StringBuilder(text.length()).append(text, 0, i);
            }
            if (out == null) {
                if (Character.isHighSurrogate(c) && pairAt(text, i)) {
                    i++;
                }
                continue;
            }
            if (control) {
                continue;
            }
            if (Character.isSurrogate(c)) {
                i = surrogate(text, i, out);
            } else {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    /** True when the text has a character PostgreSQL or its driver refuses (NUL, a lone surrogate) or, for ids, any control character. */
    public static boolean unsafe(String text) {
        return text != null && !clean(text, true);
    }

    /** Cut to {@code max} characters (ending in an ellipsis), never inside a surrogate pair. */
    public static String truncate(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = max - ELLIPSIS.length();
        if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, Math.max(end, 0)) + ELLIPSIS;
    }

    private static boolean clean(String text, boolean noControls) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0 || (noControls && Character.isISOControl(c))) {
                return false;
            }
            if (Character.isSurrogate(c)) {
                if (!pairAt(text, i)) {
                    return false;
                }
                i++;
            }
        }
        return true;
    }

    /** Unicode's bidi embeddings, overrides, isolates and marks (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069). */
    private static boolean bidiControl(int c) {
        return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
    }

    /** A high surrogate at i followed by a low one. */
    private static boolean pairAt(String text, int i) {
        return Character.isHighSurrogate(text.charAt(i)) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
    }

    /** Appends the pair starting at i, or U+FFFD for a lone surrogate; returns the last index consumed. */
    private static int surrogate(String text, int i, StringBuilder out) {
        if (pairAt(text, i)) {
            out.append(text, i, i + 2);
            return i + 1;
        }
        out.append(REPLACEMENT);
        return i;
    }
}
