package io.herald.dispatch;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.springframework.web.util.HtmlUtils;

/**
 * The HTML part of an email whose message locale has no email.html template: that locale's text, escaped, in
 * paragraphs, marked with its language (never another locale's HTML template: TemplateRenderer.localeFor). An https://
 * address in the text is a link the customer can click (their invoice, the ticket), as a mail client shows it in the
 * text part; the punctuation that ends a sentence after it is not part of it. One with a user part before its host stays text.
 */
final class HtmlFromText {

    /** Up to a space, a bracket or a quotation mark of any language („…“, «…», ’): a quoted address stops at its quote. */
    private static final Pattern WEB_ADDRESS = Pattern.compile("https://[^\\s<>\"'`\u201C\u201D\u201E\u2018\u2019\u201A\u00AB\u00BB\u2039\u203A]+");

    private HtmlFromText() {
    }

    static String of(String text, String locale) {
        String paragraphs = Arrays.stream(text.split("\\R\\s*\\R"))
                .map(p -> "<p>" + linked(p.strip()).replaceAll("\\R", "<br>") + "</p>")
                .collect(Collectors.joining("\n"));
        return "<!DOCTYPE html>\n<html lang=\"" + HtmlUtils.htmlEscape(locale) + "\"><body style=\"font-family: sans-serif\">\n"
                + paragraphs + "\n</body></html>";
    }

    /**
     * Whether the address has a user part before its host ("https://acme.com@evil.example/reset" goes to evil.example while it
     * reads as acme's): such an address stays text, as herald.webLinkOrNull never makes it a button.
     */
    private static boolean userPart(String url) {
        String rest = url.substring("https://".length());
        int hostEnds = rest.length();
        for (char end : new char[] {'/', '?', '#'}) {
            int at = rest.indexOf(end);
            if (at >= 0 && at < hostEnds) {
                hostEnds = at;
            }
        }
        return rest.substring(0, hostEnds).indexOf('@') >= 0;
    }

    /** The text escaped, its web addresses made links. */
    private static String linked(String text) {
        StringBuilder html = new StringBuilder();
        Matcher address = WEB_ADDRESS.matcher(text);
        int from = 0;
        while (address.find()) {
            String url = address.group();
            // Punctuation that ends the sentence is not the address's; a closing bracket only while it has no opening one in it.
            while (!url.isEmpty() && ".,;:!?]".indexOf(url.charAt(url.length() - 1)) >= 0
                    || url.endsWith(")") && url.chars().filter(c -> c == ')').count() > url.chars().filter(c -> c == '(').count()) {
                url = url.substring(0, url.length() - 1);
            }
            if (url.length() <= "https://".length() || userPart(url)) {
                continue;
            }
            String escaped = HtmlUtils.htmlEscape(url);
            html.append(HtmlUtils.htmlEscape(text.substring(from, address.start())))
                    .append("<a href=\"").append(escaped).append("\">").append(escaped).append("</a>");
            from = address.start() + url.length();
        }
        return html.append(HtmlUtils.htmlEscape(text.substring(from))).toString();
    }
}
