package io.herald.dispatch;

import java.util.Arrays;
import java.util.stream.Collectors;

import org.springframework.web.util.HtmlUtils;

/** The HTML part of an email whose type has no email.html template: the text, escaped, in paragraphs. */
final class HtmlFromText {

    private HtmlFromText() {
    }

    static String of(String text) {
        String paragraphs = Arrays.stream(text.split("\\R\\s*\\R"))
                .map(p -> "<p>" + HtmlUtils.htmlEscape(p.strip()).replaceAll("\\R", "<br>") + "</p>")
                .collect(Collectors.joining("\n"));
        return "<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n" + paragraphs + "\n</body></html>";
    }
}
