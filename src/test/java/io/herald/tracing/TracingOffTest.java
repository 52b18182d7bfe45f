package io.herald.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.herald.testsupport.HeraldIntegrationTest;
import org.apache.camel.CamelContext;
import org.apache.camel.telemetry.Tracer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * With no OTLP endpoint and no exporter (the shared test context, like a Herald without
 * herald.tracing.otlp-endpoint), Camel's tracer is not installed at all: it would match every exchange
 * event of every route against its exclude patterns for spans nobody records (a fifth of the senders' CPU
 * in the throughput benchmark). TracingTest covers tracing on.
 */
class TracingOffTest extends HeraldIntegrationTest {

    @Autowired
    CamelContext camel;

    @Test
    void camelsTracerIsNotInstalledWhileTracingIsOff() {
        assertThat(camel.hasService(Tracer.class)).as("Camel's tracing service").isNull();
        assertThat(camel.getRoutePolicyFactories()).as("route policies that would start spans")
                .noneMatch(factory -> factory instanceof Tracer);
    }
}
