package io.herald.ingest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.datasonnet.MapperBuilder;
import org.apache.camel.CamelContext;
import org.apache.camel.language.datasonnet.CML;
import org.apache.camel.language.datasonnet.DatasonnetLanguage;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import io.herald.config.HeraldSettings;

/**
 * The DataSonnet libraries the mappings import ({@code import 'herald.libsonnet'}), read from herald.mappings-dir beside
 * the mappings: camel-datasonnet only looks for them on the classpath, so an edited or mounted copy (the image's
 * /app/datasonnet) would not be the one that runs. Read when Camel starts; an import no file in the folder answers stops
 * startup naming the mapping and the import (else every event of that source would be quarantined at its first use).
 */
@Component
public class MappingLibraries implements CamelContextConfiguration {

    private static final Logger log = LoggerFactory.getLogger(MappingLibraries.class);
    private static final Pattern IMPORT = Pattern.compile("\\bimport(?:str)?\\s+['\"]([^'\"]+)['\"]");

    private final Path folder;

    public MappingLibraries(HeraldSettings settings) {
        this.folder = Path.of(settings.mappingsDir());
    }

    @Override
    public void beforeApplicationStart(CamelContext camel) {
        Map<String, String> libraries = addTo(camel, folder);
        log.info("DataSonnet libraries read from {}: {}", folder.toAbsolutePath().normalize(), libraries.keySet());
    }

    @Override
    public void afterApplicationStart(CamelContext camel) {
        // Nothing: the libraries are in place before the first mapping runs.
    }

    /** Makes the folder's *.libsonnet files the ones the folder's mappings import (by file name); returns them. */
    public static Map<String, String> addTo(CamelContext camel, Path folder) {
        Map<String, String> libraries = read(folder);
        DatasonnetLanguage language = (DatasonnetLanguage) camel.resolveLanguage("datasonnet");
        language.getClasspathImports().putAll(libraries);
        return libraries;
    }

    static Map<String, String> read(Path folder) {
        Map<String, String> libraries = new TreeMap<>();
        List<String> missing = new ArrayList<>();
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> all = files.filter(Files::isRegularFile).sorted().toList();
            for (Path file : all) {
                if (file.getFileName().toString().endsWith(".libsonnet")) {
                    libraries.put(file.getFileName().toString(), text(file));
                }
            }
            for (Path file : all) {
                String name = file.getFileName().toString();
                if (name.endsWith(".ds") || name.endsWith(".libsonnet")) {
                    Matcher imports = IMPORT.matcher(text(file));
                    while (imports.find()) {
                        if (!libraries.containsKey(imports.group(1))) {
                            missing.add(file + " imports '" + imports.group(1) + "'");
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("herald.mappings-dir: the mappings folder " + folder.toAbsolutePath().normalize()
                    + " cannot be read (" + e.getClass().getSimpleName() + ")", e);
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("herald.mappings-dir: " + String.join("; ", missing) + ", which is not a file in "
                    + folder.toAbsolutePath().normalize() + ". Put the library beside the mappings (Herald ships"
                    + " datasonnet/herald.libsonnet) or correct the import.");
        }
        compiles(folder, libraries);
        return libraries;
    }

    /**
     * A mapping's or library's text; one not saved as UTF-8 (Windows-1252, Latin-1) or starting with a byte order mark, which
     * DataSonnet cannot read, stops startup naming the file and what to do (they read "the mappings folder cannot be read
     * (MalformedInputException)" and 'Expected fail at line 1 column 2').
     */
    private static String text(Path file) throws IOException {
        return text(file, STARTUP);
    }

    /** What to do once a mapping is corrected, said at the end of a startup refusal. */
    static final String STARTUP = "then start Herald again";

    /** The same, {@code then} saying what to do once the file is corrected (start Herald again, or reload the routes). */
    static String text(Path file, String then) throws IOException {
        String text;
        try {
            text = io.herald.config.Utf8Text.read(file);
        } catch (io.herald.config.Utf8Text.NotUtf8 e) {
            throw new IllegalStateException("herald.mappings-dir: " + file + " " + e.getMessage()
                    + ": save the file as UTF-8, " + then, e);
        }
        if (text.startsWith("\uFEFF")) {
            throw new IllegalStateException("herald.mappings-dir: " + file + " starts with a byte order mark (an invisible character"
                    + " some Windows editors write first), which DataSonnet cannot read: save the file as UTF-8 without a byte"
                    + " order mark, " + then);
        }
        return text;
    }

    /**
     * The engine's message without the mapping's source text it may carry after it (at most 300 characters), its positions in
     * words: 'Expected "}":63:16, found ",\n    prio"' reads 'Expected "}" at line 62 column 16, found ", prio"'.
     */
    static String firstLine(String message) {
        String line = message == null ? "" : message.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst().orElse("");
        // The parser's "line:column" counts one line more than the file has before it (DataSonnet adds one to the mapping).
        line = PARSER_POSITION.matcher(line).replaceAll(m -> " at line " + (Integer.parseInt(m.group(1)) - 1) + " column " + m.group(2)
                + ", found").replaceAll("\\\\[nrt]\\s*", " ");
        return line.length() > 300 ? line.substring(0, 300) + "…" : line;
    }

    /** The line:column the parser writes after what it expected: 'Expected "}":63:16, found ...'. */
    private static final Pattern PARSER_POSITION = Pattern.compile(":(\\d+):(\\d+), found");

    /**
     * Each mapping compiles as the routes compile it (input body, the folder's libraries, Camel's cml library): a syntax error
     * stops startup naming the file and the line, instead of the engine's message alone, which names neither.
     */
    private static void compiles(Path folder, Map<String, String> libraries) {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".ds")).sorted().toList()) {
                compiles(file, text(file), libraries, STARTUP);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("herald.mappings-dir: the mappings folder " + folder.toAbsolutePath().normalize()
                    + " cannot be read (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    /** One mapping's text compiles as the routes compile it, or the refusal names the file and the line, then {@code then}. */
    static void compiles(Path file, String text, Map<String, String> libraries, String then) {
        try {
            new MapperBuilder(text).withInputNames("body").withImports(libraries).withLibrary(CML.getInstance()).build();
        } catch (RuntimeException e) {
            throw new IllegalStateException("herald.mappings-dir: " + file + " is not a mapping DataSonnet can compile: "
                    + firstLine(e.getMessage()) + ". Correct the file at that line (a line after a library's name"
                    + " is in that library, e.g. herald.libsonnet), " + then, e);
        }
    }
}
