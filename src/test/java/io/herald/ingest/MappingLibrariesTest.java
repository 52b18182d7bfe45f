package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.herald.testsupport.DataSonnetRun;

/**
 * The mappings import the libraries beside them in herald.mappings-dir (the copy an engineer edits or mounts), through
 * camel-datasonnet as the routes run them; an import the folder cannot answer is named before anything runs.
 */
class MappingLibrariesTest {

    private static final String MAPPING = """
            /** DataSonnet
            version=2.0
            output application/json
            input body application/json
            */
            local herald = import 'herald.libsonnet';
            { amount: herald.money(body.amount, body.currency) }
            """;

    @Test
    void aMappingUsesTheLibraryInItsFolderNotAPackedCopy(@TempDir Path folder) throws Exception {
        Files.writeString(folder.resolve("billing.ds"), MAPPING);
        Files.copy(Path.of("datasonnet", "herald.libsonnet"), folder.resolve("herald.libsonnet"));
        assertThat(map(folder, "billing.ds", "{\"amount\": 12999, \"currency\": \"gbp\"}")).isEqualTo("129.99 GBP");

        // An engineer changes the shared helper; a Herald started on that folder maps with the change.
        Files.writeString(folder.resolve("herald.libsonnet"), "{ money(minor, currency):: 'edited ' + minor }");
        assertThat(map(folder, "billing.ds", "{\"amount\": 12999, \"currency\": \"gbp\"}")).isEqualTo("edited 12999");
    }

    @Test
    void anImportNoFileAnswersStopsStartupNamingTheMappingAndTheImport(@TempDir Path folder) throws IOException {
        Files.writeString(folder.resolve("billing.ds"), MAPPING.replace("herald.libsonnet", "helpers.libsonnet"));
        Files.copy(Path.of("datasonnet", "herald.libsonnet"), folder.resolve("herald.libsonnet"));
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("herald.mappings-dir: " + folder.resolve("billing.ds") + " imports 'helpers.libsonnet', which is not"
                        + " a file in " + folder.toAbsolutePath().normalize())
                .hasMessageContaining("Put the library beside the mappings");
    }

    /** A syntax error in a mapping, or in the library it imports, stops startup naming the mapping and where it is. */
    @Test
    void aMappingThatDoesNotCompileStopsStartupNamingTheFileAndTheLine(@TempDir Path folder) throws IOException {
        Files.copy(Path.of("datasonnet", "herald.libsonnet"), folder.resolve("herald.libsonnet"));
        Files.writeString(folder.resolve("billing.ds"), MAPPING.replace("body.currency) }", "body.currency +, }"));
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("herald.mappings-dir: " + folder.resolve("billing.ds") + " is not a mapping DataSonnet can compile: ")
                .hasMessageContaining("at line 7 column")
                .hasMessageEndingWith("then start Herald again");
        // The parser's own position ('Expected "}":8:8') counted one line too many and read as code; it is said in words.
        Files.writeString(folder.resolve("billing.ds"), MAPPING.replace("body.currency) }", "body.currency),, }"));
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not a mapping DataSonnet can compile: Problem parsing: Expected \"}\" at line 7 column ");

        Files.writeString(folder.resolve("billing.ds"), MAPPING);
        Files.writeString(folder.resolve("herald.libsonnet"), "{ money(minor, currency):: 'edited ' + , }");
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(folder.resolve("billing.ds") + " is not a mapping DataSonnet can compile: ")
                .hasMessageContaining("herald.libsonnet");
    }

    /**
     * A mapping saved in Windows-1252 or Latin-1 (a comment with "Grüße") stopped startup saying the mappings folder could not
     * be read (MalformedInputException), naming neither the file nor the line.
     */
    @Test
    void aMappingNotSavedAsUtf8StopsStartupNamingTheFileAndTheLine(@TempDir Path folder) throws IOException {
        Files.copy(Path.of("datasonnet", "herald.libsonnet"), folder.resolve("herald.libsonnet"));
        Files.write(folder.resolve("billing.ds"), MAPPING.replace("local herald", "// Grüße\nlocal herald")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.mappings-dir: " + folder.resolve("billing.ds") + " is not UTF-8 text (line 6 has a character saved"
                        + " in another encoding, such as Windows-1252 or Latin-1): save the file as UTF-8, then start Herald again");
    }

    /**
     * A mapping saved by a Windows editor with a byte order mark stopped startup with DataSonnet's 'Expected fail at line 1
     * column 2, found "/** DataSo"', which says nothing of the invisible mark; it is now named with what to do. CR LF line
     * ends alone map as written.
     */
    @Test
    void aMappingWithAByteOrderMarkIsNamedAtStartupAndOneWithCrLfLineEndsMapsAsWritten(@TempDir Path folder) throws Exception {
        Files.copy(Path.of("datasonnet", "herald.libsonnet"), folder.resolve("herald.libsonnet"));
        Files.writeString(folder.resolve("billing.ds"), "\uFEFF" + MAPPING.replace("\n", "\r\n"));
        assertThatThrownBy(() -> MappingLibraries.read(folder)).isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.mappings-dir: " + folder.resolve("billing.ds") + " starts with a byte order mark (an invisible"
                        + " character some Windows editors write first), which DataSonnet cannot read: save the file as UTF-8 without"
                        + " a byte order mark, then start Herald again");

        Files.writeString(folder.resolve("billing.ds"), MAPPING.replace("\n", "\r\n"));
        MappingLibraries.read(folder);
        assertThat(map(folder, "billing.ds", "{\"amount\": 12999, \"currency\": \"gbp\"}")).isEqualTo("129.99 GBP");
    }

    @Test
    void theShippedMappingsImportOnlyWhatTheirFolderHolds() {
        assertThat(MappingLibraries.read(Path.of("datasonnet"))).containsOnlyKeys("herald.libsonnet");
    }

    @Test
    void aFolderThatCannotBeReadIsNamed(@TempDir Path folder) {
        assertThatThrownBy(() -> MappingLibraries.read(folder.resolve("missing")))
                .hasMessageStartingWith("herald.mappings-dir: the mappings folder " + folder.resolve("missing") + " cannot be read");
    }

    private static String map(Path folder, String mapping, String input) throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            MappingLibraries.addTo(camel, folder);
            String output = DataSonnetRun.evaluate(camel, "resource:file:" + folder.resolve(mapping), input);
            return new ObjectMapper().readTree(output).path("amount").asText();
        }
    }
}
