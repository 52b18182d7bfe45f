package io.herald.dispatch;

import java.util.Arrays;
import java.util.stream.Collectors;

import org.springframework.web.util.HtmlUtils;

/**
 * The HTML part of an email whose message locale has no email.html template: that locale's text, escaped, in
 * paragraphs, marked with its language (never another locale's HTML template: TemplateRenderer.localeFor).
 */
final class HtmlFromText {

    private HtmlFromText() {
    }

    static String of(String text, String locale) {
        String paragraphs = Arrays.stream(text.split("\\R\\s*\\R"))
                .map(p -> "<p>" + HtmlUtils.htmlEscape(p.strip()).replaceAll("\\R", "<br>") + "</p>")
                .collect(Collectors.joining("\n"));
        return "<!DOCTYPE html>\n<html lang=\"" + HtmlUtils.htmlEscape(locale) + "\"><body style=\"font-family: sans-serif\">\n"
                + paragraphs + "\n</body></html>";
    }
}
