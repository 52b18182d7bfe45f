package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.herald.testsupport.DataSonnetRun;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

/** What the log keeps of a mapping's unexpected failure: the engine's error and where, not the whole mapping again. */
class QuarantineLogTest {

    private static final String MAPPING = """
            /** DataSonnet
            version=2.0
            output application/json
            input body application/json
            */
            local unusedHelper = 'a line the log must not repeat for every event';
            { comment: std.asciiUpper(body.comment) }
            """;

    @Test
    void anEngineFailureIsLoggedWithItsLineNotTheWholeMapping() throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            camel.start();
            Throwable failure = catchThrowable(() -> DataSonnetRun.evaluate(camel, MAPPING, "{\"comment\": null}"));
            assertThat(failure).isNotNull();
            StringBuilder chain = new StringBuilder();
            for (Throwable t = failure; t != null; t = t.getCause()) {
                chain.append(t.getMessage()).append('\n');
            }
            assertThat(chain).as("what the whole chain carried").contains("a line the log must not repeat");

            Throwable logged = Quarantine.detailOf(failure);
            assertThat(logged.getMessage()).doesNotContain("a line the log must not repeat").contains("line 7");
        }
    }
}
