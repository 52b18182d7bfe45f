package io.herald.ingest;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A producer limit that leaves no room for a body at the documented limit is a startup error naming the file and key. */
class WebhookBodyLimitTest {

    @Test
    void aProducerLimitEqualToTheBodyLimitFailsAtStartup() {
        assertThatThrownBy(() -> new WebhookBodyLimit(1_048_576, 1_048_576, null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("herald.ingest.kafka-max-request-size (config/application.yaml) is 1048576 bytes; it must be at least"
                        + " herald.ingest.max-body-bytes (1048576) + 65536 bytes, or a webhook body near the limit could never be queued");
    }
}
