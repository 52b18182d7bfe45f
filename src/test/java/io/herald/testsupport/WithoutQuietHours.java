package io.herald.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A catalog without its top-level {@code categories:} section (quiet hours). For test Heralds whose subject is not the
 * time of day: with config/catalog.yaml's billing quiet hours (21:00-08:00 in the customer's zone, UTC for the test
 * customers) their billing notifications would wait until morning when the suite runs at night. QuietHoursTest tests
 * the quiet hours with a clock of its own.
 */
public final class WithoutQuietHours {

    /** From "categories:" at the start of a line to the next top-level key (or the end). */
    private static final Pattern CATEGORIES = Pattern.compile("(?m)^categories:\\s*\\n(?:(?:[ \\t]+.*|[ \\t]*)\\n)*");

    private WithoutQuietHours() {
    }

    /** The catalog's text without the categories section. */
    public static String of(String catalog) {
        return CATEGORIES.matcher(catalog).replaceAll("");
    }

    /** config/catalog.yaml without quiet hours, written to target/. */
    public static Path shipped() {
        try {
            Path copy = TestFiles.file("test-catalog-without-quiet-hours.yaml");
            Files.createDirectories(copy.getParent());
            Files.writeString(copy, of(Files.readString(Path.of("config", "catalog.yaml"))));
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
