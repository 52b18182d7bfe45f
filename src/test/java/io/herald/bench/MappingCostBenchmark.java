package io.herald.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.datasonnet.document.MediaTypes;
import com.sun.management.ThreadMXBean;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.language.datasonnet.DatasonnetExpression;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import io.herald.ingest.MappingLibraries;

/**
 * What one event's DataSonnet mapping costs once the JIT has compiled it (not a test: {@code mvn -Pbenchmark test
 * -Dbenchmark.scenarios=MappingCostBenchmark}). The mapping is most of intake's CPU in ThroughputBenchmark's profile; this
 * isolates it, so an integration engineer can see what a change to a mapping or to datasonnet/herald.libsonnet costs.
 * Each shipped source mapping maps every sample of its source as Herald's source routes do (camel-datasonnet, the file
 * read once), {@code 3 × -Dbenchmark.events} times for warm-up and as many measured, on one thread; prints the CPU and
 * the bytes allocated per event.
 */
class MappingCostBenchmark {

    /** Each shipped mapping and the folder of its source's samples (src/test/resources/samples). */
    private static final Map<String, String> SAMPLES_OF = Map.of(
            "support-ticket.ds", "support", "billing-stripe.ds", "billing", "crm-outbox.ds", "crm");

    @Test
    void mappingCostPerEvent() throws Exception {
        int events = Integer.getInteger("benchmark.events", 3000) * 3;
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.start();
            MappingLibraries.addTo(camel, Path.of("datasonnet"));
            for (Map.Entry<String, String> mapping : SAMPLES_OF.entrySet()) {
                DatasonnetExpression expression = (DatasonnetExpression) camel.resolveLanguage("datasonnet")
                        .createExpression("resource:file:datasonnet/" + mapping.getKey());
                expression.setBodyMediaType(MediaTypes.APPLICATION_JSON);
                expression.setOutputMediaType(MediaTypes.APPLICATION_JSON);
                expression.setResultType(String.class);
                expression.init(camel);
                List<Path> samples;
                try (Stream<Path> files = Files.list(Path.of("src/test/resources/samples", mapping.getValue()))) {
                    samples = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
                }
                for (Path sample : samples) {
                    String input = "crm".equals(mapping.getValue()) ? outboxRow(sample) : Files.readString(sample);
                    String output = null;
                    for (int round = 0; round < 2; round++) {   // round 0 warms up, round 1 is measured
                        long cpu = threads.getCurrentThreadCpuTime();
                        long bytes = threads.getThreadAllocatedBytes(thread);
                        for (int i = 0; i < events; i++) {
                            Exchange exchange = new DefaultExchange(camel);
                            exchange.getMessage().setBody(input);
                            output = expression.evaluate(exchange, String.class);
                        }
                        if (round == 1) {
                            System.out.printf("mapping %-18s %-45s %5.0f µs CPU, %6.0f KiB allocated per event%n", mapping.getKey(),
                                    sample.getFileName(), (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / events,
                                    (threads.getThreadAllocatedBytes(thread) - bytes) / 1024.0 / events);
                        }
                    }
                    assertThat(output).as("%s mapped by %s", sample, mapping.getKey()).contains("ourceEventId");
                }
            }
        }
    }

    /** A CRM sample (an outbox row's payload, named after its event type) as the CRM route hands it to crm-outbox.ds. */
    private static String outboxRow(Path sample) throws java.io.IOException {
        String eventType = sample.getFileName().toString().replaceFirst("\\.json$", "");
        return "{\"outboxId\": 17, \"eventType\": \"" + eventType + "\", \"payload\": " + Files.readString(sample)
                + ", \"createdAt\": \"2026-11-21T09:00:00Z\"}";
    }
}
