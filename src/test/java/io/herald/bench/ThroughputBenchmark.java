package io.herald.bench;

import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

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
 * Throughput benchmark, not a test: {@code mvn -Pbenchmark test [-Dbenchmark.events=6000] [-Dbenchmark.warmup=3000]}.
 * Drives the whole embedded stack end to end (billing events on Kafka -> mapping -> ledger ->
 * dispatch -> email to GreenMail, SMS and ops webhook to the WireMock sandbox; ledger and dedup on
 * PostgreSQL) and prints sustained notifications per second, p50/p99 latency from publishing the
 * event to the SMS provider receiving its request, peak heap, and the CPU each part of the stack used
 * per notification (the figure to compare on a shared, noisy machine). Everything runs in this one JVM
 * (PostgreSQL as a child process), on this machine's cores, so the figures are for the whole stack.
 */
@TestPropertySource(properties = {
        "herald.mail.rate-per-second=100000", "herald.sms.rate-per-second=100000", "herald.ops-webhook.rate-per-second=100000",
        // Connections that live through the run, so GreenMail's per-connection threads are counted as the SMTP server's
        "herald.mail.messages-per-connection=1000000"})
class ThroughputBenchmark extends HeraldIntegrationTest {

    private static final int CUSTOMERS = 120;

    @Test
    void endToEnd() throws Exception {
        int events = Integer.getInteger("benchmark.events", 6000);
        for (int c = 0; c < CUSTOMERS; c++) {
            jdbc.update("INSERT INTO customer (customer_id, display_name, email, phone) VALUES (?, 'Bench', ?, ?) ON CONFLICT DO NOTHING",
                    "cus_bench" + c, "bench" + c + "@example.net", "+4477002" + String.format("%05d", c));
        }
        // Warm up first: the JIT compiler is still busy for a while after startup, and its CPU would
        // be counted against the measured events (after 1,000 warm-up events, 3,000 measured ones cost ~8 ms more each).
        run("warmup", Integer.getInteger("benchmark.warmup", 3000));
        System.gc();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);

        CpuTime cpuBefore = CpuTime.now(databasePort());
        long transactionsBefore = databaseTransactions();
        Map<String, Long> published = run("measure", events);
        CpuTime cpuAfter = CpuTime.now(databasePort());
        long transactions = databaseTransactions() - transactionsBefore;
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
        // PostgreSQL is what several Herald instances share: its work per notification bounds them all together.
        System.out.printf("PostgreSQL transactions      %.1f per notification (each statement commits on its own; incl. background polls)%n",
                (double) transactions / events);
        cpuAfter.printSince(cpuBefore, events);
        printWhereTheTimeGoes();
    }

    private long databaseTransactions() {
        return jdbc.queryForObject("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", Long.class);
    }

    private static int databasePort() {
        Matcher port = Pattern.compile("localhost:(\\d+)/").matcher(infra.heraldSettings().get("herald.db.url"));
        return port.find() ? Integer.parseInt(port.group(1)) : -1;
    }

    /**
     * CPU used while the measured events ran, by part of the stack: a per-notification cost that holds
     * up on a machine shared with other work, where wall-clock rates do not. Threads are grouped by
     * name; threads that ended meanwhile, GC and JIT make up the rest of the JVM's total. PostgreSQL
     * runs as its own processes (found by its port).
     */
    record CpuTime(Map<Long, String> threadNames, Map<Long, Long> threadNanos, long jvmNanos, long postgresNanos) {

        private static final Map<String, Pattern> PARTS = new LinkedHashMap<>();
        /** The parts that stand in for the outside world and run in this JVM (PostgreSQL runs beside it). */
        private static final List<String> IN_JVM_SERVICES = List.of("Kafka broker (embedded)", "SMTP server (GreenMail)", "provider sandbox (WireMock)");

        static {
            PARTS.put("Herald ingest (Kafka consumers: mapping, intake)", Pattern.compile("KafkaConsumer\\[herald\\.(billing|support|crm)"));
            PARTS.put("Herald Kafka producer I/O", Pattern.compile("kafka-producer-network-thread|KafkaProducer"));
            PARTS.put("Herald dispatch (consumer, channels) + other Camel", Pattern.compile("KafkaConsumer\\[herald\\.notifications|- Split|Camel .*thread"));
            PARTS.put("Kafka broker (embedded)", Pattern.compile("^(data-plane|kafka|quorum|broker|controller|ExpirationReaper|raft|group-coordinator|executor-)"));
            PARTS.put("SMTP server (GreenMail)", Pattern.compile("^smtp:"));
            PARTS.put("provider sandbox (WireMock)", Pattern.compile("^qtp"));
        }

        static CpuTime now(int databasePort) {
            Map<Long, String> names = new HashMap<>();
            Map<Long, Long> nanos = new HashMap<>();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info != null) {
                    names.put(info.getThreadId(), info.getThreadName());
                    nanos.put(info.getThreadId(), Math.max(0, threads.getThreadCpuTime(info.getThreadId())));
                }
            }
            long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
            long postgres = ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().map(c -> c.contains("postgres") && c.contains("-p " + databasePort + " ")).orElse(false))
                    .flatMap(p -> Stream.concat(Stream.of(p), p.descendants()))
                    .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
            return new CpuTime(names, nanos, jvm, postgres);
        }

        void printSince(CpuTime before, int notifications) {
            Map<String, Long> parts = new LinkedHashMap<>();
            PARTS.keySet().forEach(part -> parts.put(part, 0L));
            long grouped = 0;
            for (Map.Entry<Long, Long> thread : threadNanos.entrySet()) {
                long used = thread.getValue() - before.threadNanos.getOrDefault(thread.getKey(), 0L);
                String name = threadNames.get(thread.getKey());
                String part = PARTS.entrySet().stream().filter(e -> e.getValue().matcher(name).find()).map(Map.Entry::getKey)
                        .findFirst().orElse(null);
                if (part != null) {
                    parts.merge(part, used, Long::sum);
                    grouped += used;
                }
            }
            long jvm = jvmNanos - before.jvmNanos;
            parts.put("rest of the JVM (other and ended threads, GC, JIT)", jvm - grouped);
            parts.put("JVM total", jvm);
            parts.put("PostgreSQL (its processes)", postgresNanos - before.postgresNanos);
            System.out.println("CPU per notification, ms (the whole stack shares the machine's cores)");
            parts.forEach((part, ns) -> System.out.printf("  %-54s %7.2f%n", part, ns / 1e6 / notifications));
            // What the stand-ins for the outside world cost on their own bounds the rate on this machine:
            // they share its cores with Herald here, and would not in production.
            long inThisJvm = IN_JVM_SERVICES.stream().mapToLong(parts::get).sum();
            double services = (inThisJvm + parts.get("PostgreSQL (its processes)")) / 1e6 / notifications;
            int cores = Runtime.getRuntime().availableProcessors();
            System.out.printf("the embedded services alone (broker, SMTP, sandbox, PostgreSQL) used %.2f ms per notification:%n"
                    + "on %d cores they cap this stack at %.0f notifications/s even if Herald itself used no CPU%n",
                    services, cores, cores * 1000 / services);
            // Herald's share, counting GC, JIT and every thread not attributed to a service as Herald's (so it is not flattered).
            double herald = (parts.get("JVM total") - inThisJvm) / 1e6 / notifications;
            System.out.printf("Herald itself used %.2f ms per notification: an instance of %d cores with the services elsewhere"
                    + " would do about %.0f notifications/s%n", herald, cores, cores * 1000 / herald);
        }
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
                // Stamped now, as a live billing stream is: the sample's own date is long past its send window,
                // which would flag (and alert) every delivery as late.
                String event = Samples.paymentFailed(unique).replace("cus_RkT4aB7cD9eF1g", customer)
                        .replaceFirst("\"created\": \\d+", "\"created\": " + System.currentTimeMillis() / 1000);
                producer.send(new ProducerRecord<>("herald.billing.events", customer, event));
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
