package io.herald.dispatch;

import java.util.regex.Pattern;

/**
 * Whether a rendered email.html gives the reader anything to see: text outside the page's head, styles, scripts, comments and
 * elements hidden with display:none, or an image. A template whose page markup (html, body, a layout table) stands outside
 * sections that all stay out for a message wrote such a page: mail clients show the HTML part instead of the text, so the
 * customer saw a blank email.
 */
final class VisibleHtml {

    private static final Pattern NOT_SHOWN = Pattern.compile(
            "(?is)<!--.*?-->|<head\\b.*?</head\\s*>|<style\\b.*?</style\\s*>|<script\\b.*?</script\\s*>|<title\\b.*?</title\\s*>");
    /**
     * An element hidden with display:none, such as the preheader (the line an inbox lists beside the subject), up to the first
     * closing tag of its name: inside it when elements of that name nest, so what is left out is always hidden.
     */
    private static final Pattern HIDDEN = Pattern.compile(
            "(?is)<(\\w+)\\b[^>]*\\bstyle\\s*=\\s*(\"[^\"]*display\\s*:\\s*none[^\"]*\"|'[^']*display\\s*:\\s*none[^']*')[^>]*>.*?</\\1\\s*>");
    private static final Pattern IMAGE = Pattern.compile("(?i)<img\\b[^>]*\\bsrc\\s*=");
    private static final Pattern TAG = Pattern.compile("(?s)<[^>]*>");
    private static final Pattern BLANK_ENTITY = Pattern.compile("(?i)&(nbsp|#160|#xa0|zwnj|zwj|#8203|#x200b|shy|#173);");

    private VisibleHtml() {
    }

    /** True when the page shows nothing: no text and no image once what a mail client does not show is left out. */
    static boolean blank(String html) {
        String shown = HIDDEN.matcher(NOT_SHOWN.matcher(html).replaceAll(" ")).replaceAll(" ");
        if (IMAGE.matcher(shown).find()) {
            return false;
        }
        String text = BLANK_ENTITY.matcher(TAG.matcher(shown).replaceAll(" ")).replaceAll(" ");
        return text.chars().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u200B' || c == '\u200C'
                || c == '\u200D' || c == '\u00AD' || c == '\uFEFF');
    }
}
