package io.herald.bench;

import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/**
 * Throughput benchmark, not a test: {@code mvn -Pbenchmark test [-Dbenchmark.events=3000]}.
 * Drives the whole embedded stack end to end (billing events on Kafka -> mapping -> ledger ->
 * dispatch -> email to GreenMail, SMS and ops webhook to the WireMock sandbox; ledger and dedup on
 * PostgreSQL) and prints sustained notifications per second, p50/p99 latency from publishing the
 * event to the SMS provider receiving its request, and peak heap. Everything runs in this one JVM
 * (PostgreSQL as a child process), on this machine's cores, so the figures are for the whole stack.
 */
@TestPropertySource(properties = {
        "herald.mail.rate-per-second=100000", "herald.sms.rate-per-second=100000", "herald.ops-webhook.rate-per-second=100000"})
class ThroughputBenchmark extends HeraldIntegrationTest {

    private static final int CUSTOMERS = 120;

    @Test
    void endToEnd() throws Exception {
        int events = Integer.getInteger("benchmark.events", 3000);
        for (int c = 0; c < CUSTOMERS; c++) {
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Bench', ?, ?) ON CONFLICT DO NOTHING",
                    "cus_bench" + c, "bench" + c + "@example.net", "+4477002" + String.format("%05d", c));
        }
        run("warmup", 300);
        System.gc();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);

        Map<String, Long> published = run("measure", events);
        long peakHeap = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum();

        Map<String, Long> received = new HashMap<>();
        for (ServeEvent event : infra.providers().getAllServeEvents()) {
            String key = event.getRequest().getHeader("Idempotency-Key");
            if (key != null && key.endsWith(":sms") && key.contains("in_testmeasure")) {
                received.merge(key.substring(0, key.length() - ":sms".length()), event.getRequest().getLoggedDate().getTime(), Math::min);
            }
        }
        List<Long> latencies = new ArrayList<>();
        published.forEach((key, at) -> latencies.add(received.get(key) - at));
        Collections.sort(latencies);
        long first = Collections.min(published.values());
        long last = Collections.max(received.values());
        double seconds = (last - first) / 1000.0;
        System.out.printf("%n===== Herald end-to-end benchmark =====%n"
                        + "events (notifications)     %d, each to email + SMS + ops webhook (%d deliveries)%n"
                        + "wall time                  %.1f s (first event published -> last SMS request received)%n"
                        + "sustained                  %.0f notifications/s, %.0f deliveries/s%n"
                        + "latency event -> SMS req   p50 %d ms, p99 %d ms, max %d ms%n"
                        + "peak heap (whole JVM)      %d MiB%n"
                        + "cores                      %d%n=======================================%n",
                events, events * 3, seconds, events / seconds, events * 3 / seconds,
                latencies.get(latencies.size() / 2), latencies.get((int) (latencies.size() * 0.99)), latencies.get(latencies.size() - 1),
                peakHeap / (1024 * 1024), Runtime.getRuntime().availableProcessors());
        printWhereTheTimeGoes();
    }

    /** The route steps with the most total processing time (Camel's processor MBeans, as Hawtio shows them). */
    private static void printWhereTheTimeGoes() throws Exception {
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        List<Object[]> steps = new ArrayList<>();
        for (ObjectName name : jmx.queryNames(new ObjectName("org.apache.camel:context=herald,type=processors,*"), null)) {
            steps.add(new Object[] {name.getKeyProperty("name"), jmx.getAttribute(name, "TotalProcessingTime"),
                    jmx.getAttribute(name, "MeanProcessingTime"), jmx.getAttribute(name, "ExchangesTotal")});
        }
        steps.sort((a, b) -> Long.compare((Long) b[1], (Long) a[1]));
        System.out.println("where the time goes (route step: total ms, mean ms, exchanges; nested steps include their children)");
        steps.stream().limit(15).forEach(s -> System.out.printf("  %-36s %9d %7d %8d%n", s));
    }

    /** Publishes the events as the billing system would and waits until every SMS and email is sent. */
    private Map<String, Long> run(String name, int events) throws Exception {
        Map<String, Long> published = new HashMap<>();
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBrokers());
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < events; i++) {
                String customer = "cus_bench" + (i % CUSTOMERS);
                String unique = name + i;
                published.put(Samples.paymentFailedKey(unique), System.currentTimeMillis());
                producer.send(new ProducerRecord<>("herald.billing.events", customer,
                        Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)));
            }
            producer.flush();
        }
        await().atMost(Duration.ofSeconds(120 + events)).pollInterval(Duration.ofSeconds(1)).until(() -> jdbc.queryForObject("""
                SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key LIKE ? AND d.state = 'SENT'""", Integer.class,
                "billing:invoice.payment_failed:in_test" + name + "%") == events * 3);
        return published;
    }
}
