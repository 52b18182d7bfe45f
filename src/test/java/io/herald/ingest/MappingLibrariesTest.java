package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.datasonnet.document.MediaTypes;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.language.datasonnet.DatasonnetExpression;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
            DatasonnetExpression expression = (DatasonnetExpression) camel.resolveLanguage("datasonnet")
                    .createExpression("resource:file:" + folder.resolve(mapping));
            expression.setBodyMediaType(MediaTypes.APPLICATION_JSON);
            expression.setOutputMediaType(MediaTypes.APPLICATION_JSON);
            expression.setResultType(String.class);
            expression.init(camel);
            Exchange exchange = new DefaultExchange(camel);
            exchange.getMessage().setBody(input);
            return new ObjectMapper().readTree(expression.evaluate(exchange, String.class)).path("amount").asText();
        }
    }
}
