package io.herald;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Herald behaves the same whatever the JVM's default locale and time zone (a container's LANG/LC_ALL and TZ): no call in
 * src/main/java takes either from the JVM. Turkish upper-cases "admin" to "ADMİN"; Arabic writes 1 as "١"; a day or month
 * is UTC or the customer's zone, never the server's. Each rule names a call that is wrong in every use, so a hit is a bug:
 * write Locale.ROOT (or the customer's locale) or an explicit zone.
 */
class LocaleNeutralSourceTest {

    private static final List<Rule> RULES = List.of(
            new Rule(Pattern.compile("\\.to(Lower|Upper)Case\\(\\)|String::to(Lower|Upper)Case"),
                    "case conversion in the JVM's locale: write toLowerCase(Locale.ROOT) / toUpperCase(Locale.ROOT)"),
            new Rule(Pattern.compile("String\\.format\\(\""), "String.format in the JVM's locale: write String.format(Locale.ROOT, ...)"),
            new Rule(Pattern.compile("ZoneId\\.systemDefault\\(\\)|TimeZone\\.getDefault\\(\\)|Clock\\.systemDefaultZone\\(\\)"
                    + "|Local(Date|DateTime|Time)\\.now\\(\\)|ZonedDateTime\\.now\\(\\)|OffsetDateTime\\.now\\(\\)|new SimpleDateFormat\\("),
                    "the JVM's time zone: name the zone (ZoneOffset.UTC, or the customer's)"));

    /** A number conversion (%d, %,d, %.1f, %02d...) in a statement with no Locale.ROOT: "...".formatted(n) has no locale. */
    private static final Pattern NUMBER = Pattern.compile("%[-#+ 0,(]*\\d*(?:\\.\\d+)?[dfeEgG](?![A-Za-z])");

    private record Rule(Pattern call, String why) {
    }

    @Test
    void noCallTakesTheJvmsLocaleOrTimeZone() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String text = Files.readString(file);
                String[] lines = text.split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    for (Rule rule : RULES) {
                        if (rule.call().matcher(lines[i]).find()) {
                            found.add(file + ":" + (i + 1) + ": " + rule.why() + ": " + lines[i].strip());
                        }
                    }
                }
                found.addAll(numbersInTheJvmsLocale(file.toString(), text));
            }
        }
        assertThat(found).as("calls that depend on the JVM's default locale or time zone").isEmpty();
    }

    /**
     * A conversion with a one-digit width ("%5d", "%2d", "%3f") is a number written in the JVM's locale too: it looks like a
     * URL's percent-escape, and was skipped as one. URL escapes are written in upper case (%7E, %2E, %3D); a lower-case d, e or
     * f after one digit is taken for the conversion it is.
     */
    @Test
    void aNumberWithAOneDigitWidthIsFoundAndAUrlEscapeIsNot() {
        assertThat(numbersInTheJvmsLocale("A.java", "String s = \"%5d ms\".formatted(millis);")).hasSize(1);
        assertThat(numbersInTheJvmsLocale("A.java", "String s = String.format(\"%2d%%\", percent);")).hasSize(1);
        assertThat(numbersInTheJvmsLocale("A.java", "String s = String.format(Locale.ROOT, \"%5d ms\", millis);")).isEmpty();
        assertThat(numbersInTheJvmsLocale("A.java", "String path = \"/a%7Eb/%2E%2E/x%3D\";")).isEmpty();
    }

    /** The number conversions (%d, %,d, %.1f, %02d...) in the text that are in a statement with no Locale.ROOT. */
    private static List<String> numbersInTheJvmsLocale(String file, String text) {
        List<String> found = new ArrayList<>();
        Matcher number = NUMBER.matcher(text);
        while (number.find()) {
            if (number.group().matches("%[0-9A-Fa-f][0-9A-F]")) {
                continue;   // a URL's percent-escape (%7E, %2E), not a conversion: those are written in upper case
            }
            int from = text.lastIndexOf(';', number.start()) + 1;
            int to = text.indexOf(';', number.end());
            if (!text.substring(from, to < 0 ? text.length() : to).contains("Locale.ROOT")) {
                int line = (int) text.substring(0, number.start()).chars().filter(c -> c == '\n').count() + 1;
                found.add(file + ":" + line + ": " + number.group() + " formatted in the JVM's locale: use String.format(Locale.ROOT, ...)"
                        + " or pass the number as text");
            }
        }
        return found;
    }
}
