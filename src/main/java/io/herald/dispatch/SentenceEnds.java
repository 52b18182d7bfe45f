package io.herald.dispatch;

import java.util.regex.Pattern;

import com.samskivert.mustache.Mustache;

/**
 * One full stop where a value that ends a sentence meets the template's own: an owner named "Sam Okafor Jr." in
 * "with {{ownerName}}." reads "with Sam Okafor Jr.", not "Jr..", and a subject "Printer broken." in
 * "about \"{{subject}}\"." reads "about \"Printer broken.\"", not "\"Printer broken.\".". Only the template's full stop
 * right after such a value (or after the quotation mark that closes it) goes; the value itself, a value ending with an
 * ellipsis ("the tray jams..."), and any ".." inside a value or a template are kept as written. The formatter marks where a value ending with a full stop ends, and
 * {@link #tidy} removes the marks.
 */
final class SentenceEnds {

    /** A private-use character: never meaningful in a message, so a value carrying one loses it. */
    private static final String MARK = "\uE000";
    /**
     * The template's "." ends a sentence: it is followed by a space, a line break, a tag, a closing bracket or quotation mark,
     * or the end ("{{n}}.com" reads "Jr..com", no sentence end).
     */
    private static final String SENTENCE_END = "(?=\\s|<|$|[)\"'\u201D\u2019\u00BB])";
    private static final Pattern DOUBLED = Pattern.compile("\\." + MARK + "\\." + SENTENCE_END);
    private static final Pattern QUOTED = Pattern.compile("\\." + MARK + "([\"'\u201C\u201D\u2019\u00BB\u203A])\\." + SENTENCE_END);

    /** Writes a value as jmustache does (String.valueOf), marked when it ends with a full stop. */
    static final Mustache.Formatter FORMATTER = value -> {
        String text = String.valueOf(value).replace(MARK, "");
        return text.endsWith(".") && !text.endsWith("..") ? text + MARK : text;   // an ellipsis ("...") is not a full stop
    };

    private SentenceEnds() {
    }

    /** The rendered text with the template's full stop after a value's own one removed, and no marks left. */
    static String tidy(String rendered) {
        if (!rendered.contains(MARK)) {
            return rendered;
        }
        String once = QUOTED.matcher(DOUBLED.matcher(rendered).replaceAll(".")).replaceAll(".$1");
        return once.replace(MARK, "");
    }
}
