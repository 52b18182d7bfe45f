package io.herald.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * Throughput benchmark, not a test ({@code mvn -Pbenchmark test -Dbenchmark.scenarios=ThroughputBenchmark}):
 * bursts of agent replies (support.agent_replied on email, SMS and push: three deliveries per
 * notification, see {@link BenchmarkCatalog}) posted to Herald's signed support webhook for 1,000
 * customers, with every provider's rate limit raised to 5,000/s, once with providers that answer at
 * once and once with providers (the SMTP server too) that answer after 150 ms. For each it prints
 * sustained notifications and deliveries per second, p50/p99 from the webhook's 202 to the provider's
 * request, Herald's CPU per notification by stage, PostgreSQL transactions per notification and peak heap.
 *
 * <p>Sizes: {@code -Dbenchmark.events=3000} per scenario after {@code -Dbenchmark.warmup=1500} (at once,
 * not measured: the JIT is still compiling for a while after start), {@code -Dbenchmark.customers=1000},
 * {@code -Dbenchmark.latencies=PT0S,PT0.15S}, {@code -Dbenchmark.ledger-months=15} (the ledger's monthly partitions
 * created before the run, back this many months, as a year of production leaves them, the archive's months holding
 * {@code -Dbenchmark.archive-rows=20000} settled notifications each); a scenario that has not drained after
 * {@code -Dbenchmark.max-drain=PT4M} reports what it delivered until then (marked "did not drain").
 */
@TestPropertySource(properties = {
        "herald.mail.rate-per-second=5000", "herald.sms.rate-per-second=5000", "herald.push.rate-per-second=5000",
        "herald.ops-webhook.rate-per-second=5000",
        // The rewritten engine's bound on provider calls in flight per channel (ignored by an engine without it):
        // with 150 ms answers, 64 in flight allow ~400 calls/s per channel.
        "herald.mail.max-in-flight=64", "herald.sms.max-in-flight=64", "herald.push.max-in-flight=64",
        // Kept SMTP connections through the run, as a relay allows
        "herald.mail.messages-per-connection=1000000",
        // The year of monthly partitions created before the run stays through it (retention would drop its old months
        // meanwhile: partition DDL under the burst, not what a burst meets in production)
        "herald.retention.enabled=false"})
class ThroughputBenchmark extends BenchmarkHerald {

    @DynamicPropertySource
    static void threeChannelsPerNotification(DynamicPropertyRegistry registry) {
        registry.add("herald.catalog", BenchmarkCatalog::agentRepliedOnAllThreeChannels);
    }

    /** One scenario's figures, for the summary. */
    record Result(String name, int events, boolean drained, double seconds, double notificationsPerSecond, double deliveriesPerSecond,
                  double acceptedPerSecond, long p50, long p99, CpuByStage.Report cpu, double transactions, long heapMiB, int peakInFlight) {
    }

    @Test
    void providersAnsweringAtOnceAndAfter150Milliseconds() throws Exception {
        int customers = intSetting("benchmark.customers", 1000);
        int events = intSetting("benchmark.events", 3000);
        int warmup = intSetting("benchmark.warmup", 1500);
        Duration maxDrain = durationSetting("benchmark.max-drain", "PT4M");
        List<Duration> latencies = Arrays.stream(System.getProperty("benchmark.latencies", "PT0S,PT0.15S").split(","))
                .map(String::trim).map(Duration::parse).toList();
        seedCustomers(customers);
        createLedgerMonths(intSetting("benchmark.ledger-months", 15));

        System.out.printf("%n===== Herald throughput benchmark: support.agent_replied to email + SMS + push (3 deliveries each) =====%n"
                        + "events posted to the signed support webhook (32 in flight), %d customers; rate limits mail/sms/push %s/%s/%s per s;"
                        + " max-in-flight sms %s (used by engines that have it); %d cores%n",
                customers, setting(settings, "herald.mail.rate-per-second"), setting(settings, "herald.sms.rate-per-second"),
                setting(settings, "herald.push.rate-per-second"), setting(settings, "herald.sms.max-in-flight"),
                Runtime.getRuntime().availableProcessors());
        System.out.printf("warm-up: %d events, providers answering at once (not measured)%n", warmup);
        burst("warm-up", warmup, customers, Duration.ZERO, maxDrain.multipliedBy(2), true);

        // Each latency's burst is measured -Dbenchmark.repeat times (1), the latencies taking turns, so a change can be judged
        // against the spread of one build's runs (about ±10% in rate and CPU on this shared 2-core machine) rather than one run.
        int repeat = Math.max(1, intSetting("benchmark.repeat", 1));
        List<Result> results = new java.util.ArrayList<>();
        for (int run = 1; run <= repeat; run++) {
            for (int i = 0; i < latencies.size(); i++) {
                results.add(burst("providers answer after " + latencies.get(i).toMillis() + " ms" + (repeat > 1 ? ", " + run + "/" + repeat : ""),
                        events, customers, latencies.get(i), maxDrain, run < repeat || i < latencies.size() - 1));
            }
        }
        printSummary(results);
        quietMapping();
    }

    @org.springframework.beans.factory.annotation.Autowired
    org.apache.camel.CamelContext camel;

    /**
     * The support mapping once more, in this JVM after the bursts, on this thread with nothing else running: what it costs here
     * without the load around it, beside what the intake's mapping threads cost in the bursts (MappingCostBenchmark measures
     * it in a JVM of its own).
     */
    private void quietMapping() throws Exception {
        org.apache.camel.language.datasonnet.DatasonnetExpression expression = (org.apache.camel.language.datasonnet.DatasonnetExpression)
                camel.resolveLanguage("datasonnet").createExpression("resource:file:" + settings.getProperty("herald.mappings-dir") + "/support-ticket.ds");
        expression.setBodyMediaType(com.datasonnet.document.MediaTypes.APPLICATION_JSON);
        expression.setOutputMediaType(com.datasonnet.document.MediaTypes.APPLICATION_JSON);
        expression.setResultType(String.class);
        expression.init(camel);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        int events = 3000;
        List<String> bodies = java.util.stream.IntStream.range(0, events)
                .mapToObj(i -> new String(agentReply("quiet", i, 1000).body(), java.nio.charset.StandardCharsets.UTF_8)).toList();
        for (int round = 0; round < 2; round++) {
            long cpu = threads.getCurrentThreadCpuTime();
            long bytes = threads.getThreadAllocatedBytes(thread);
            for (int i = 0; i < events; i++) {
                org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(camel);
                exchange.getMessage().setBody(bodies.get(i));
                expression.evaluate(exchange, String.class);
            }
            if (round == 1) {
                System.out.printf("support mapping, this JVM, quiet, one thread: %.0f µs CPU, %.0f KiB allocated per event%n",
                        (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / events, (threads.getThreadAllocatedBytes(thread) - bytes) / 1024.0 / events);
            }
        }
    }

    /** Posts a burst, waits until every delivery is SENT (or maxDrain passed), prints and returns its figures. */
    private Result burst(String name, int events, int customers, Duration latency, Duration maxDrain, boolean moreFollow) {
        providers.latency(latency);
        mail.latency(latency);
        providers.clear();
        mail.clear();
        String tag = nextRunTag();
        String keys = "support:agent_replied:" + tag;
        resetPeakHeap();
        CpuByStage cpuBefore = CpuByStage.now(databasePort());
        long transactionsBefore = databaseTransactions();
        int connectionsBefore = providers.connectionsAccepted();
        resetStatements();

        Map<String, Long> accepted = post(events, 0, i -> agentReply(tag, i, customers));
        boolean drained = awaitSent(keys, "", 3L * events, maxDrain);
        long end = System.currentTimeMillis();

        CpuByStage cpuAfter = CpuByStage.now(databasePort());
        long transactions = databaseTransactions() - transactionsBefore;
        long heap = peakHeapMiB();
        Map<String, Map<String, Long>> requested = firstRequests(accepted.keySet());
        long delivered = requested.values().stream().mapToLong(Map::size).sum();
        long firstAccepted = Collections.min(accepted.values());
        long lastAccepted = Collections.max(accepted.values());
        long lastRequest = requested.values().stream().flatMap(m -> m.values().stream()).mapToLong(Long::longValue).max().orElse(end);
        double seconds = ((drained ? lastRequest : end) - firstAccepted) / 1000.0;
        double notifications = delivered / 3.0;
        if (!drained && moreFollow) {
            // Let the backlog finish before the next scenario, unmeasured, so it does not load that one.
            awaitSent(keys, "", 3L * events, maxDrain.multipliedBy(3));
        }
        if (name.equals("warm-up")) {
            // What a burst right after a start costs, while the JIT still compiles: the measured bursts come after it.
            System.out.printf("warm-up burst (JIT still compiling): %.0f notifications/s, Herald CPU %.2f ms per notification%n",
                    notifications / seconds, cpuAfter.perNotificationSince(cpuBefore, notifications).perStage().get("Herald"));
            return null;
        }

        List<Long> all = new java.util.ArrayList<>();
        Map<String, List<Long>> perChannel = new LinkedHashMap<>();
        for (String channel : CHANNELS) {
            List<Long> channelLatencies = latencies(accepted, requested.get(channel));
            perChannel.put(channel, channelLatencies);
            all.addAll(channelLatencies);
        }
        Collections.sort(all);
        CpuByStage.Report cpu = cpuAfter.perNotificationSince(cpuBefore, notifications);
        Result result = new Result(name, events, drained, seconds, notifications / seconds, delivered / seconds,
                events / Math.max(0.001, (lastAccepted - firstAccepted) / 1000.0), percentile(all, 0.50), percentile(all, 0.99),
                cpu, transactions / notifications, heap, providers.peakInFlight());

        System.out.printf("%n--- %s: %d notifications ---%n", name, events);
        if (!drained) {
            System.out.printf("DID NOT DRAIN within %s: %d of %d deliveries made; the rates below are over those%n", maxDrain, delivered, 3L * events);
        }
        System.out.printf("machine at the end             %s%n", machine());
        System.out.printf("wall time                      %.1f s (first event accepted -> last provider request)%n", seconds);
        System.out.printf("sustained                      %.0f notifications/s, %.0f deliveries/s%n", result.notificationsPerSecond(), result.deliveriesPerSecond());
        System.out.printf("webhook accepted               %.0f events/s (the burst went in this fast)%n", result.acceptedPerSecond());
        System.out.printf("accepted -> provider request   all p50 %d ms, p99 %d ms, max %d ms (a burst: mostly queueing)%n",
                percentile(all, 0.5), percentile(all, 0.99), percentile(all, 1.0));
        perChannel.forEach((channel, l) -> System.out.printf("  %-6s                       p50 %d ms, p99 %d ms (%d requests)%n",
                channel, percentile(l, 0.5), percentile(l, 0.99), l.size()));
        System.out.printf("provider calls open at once    at most %d (HTTP sink; SMS + push)%n", result.peakInFlight());
        System.out.printf("HTTP connections opened        %d (to the HTTP sink, during the burst)%n", providers.connectionsAccepted() - connectionsBefore);
        System.out.printf("PostgreSQL transactions        %.1f per notification (pg_stat_database commits + rollbacks, incl. Herald's background polls, less the benchmark's own queries)%n",
                result.transactions());
        System.out.printf("delivery table at the end      %s%n", deliveryTable());
        System.out.println("PostgreSQL statements by execution time, calls and µs per notification (incl. the benchmark's own count every 0.5 s):");
        statementsPerNotification(events, 14).forEach(line -> System.out.println("  " + line));
        System.out.printf("peak heap                      %d MiB (whole JVM: Herald, Kafka broker, sinks)%n", heap);
        System.out.println("CPU per notification, ms:");
        System.out.printf("  %-40s %6.2f%n", "Herald (JVM less the services below)", cpu.get("Herald"));
        for (String stage : CpuByStage.heraldStages()) {
            System.out.printf("    %-38s %6.2f   %s%n", stage, cpu.get(stage), cpu.busiestThreads().getOrDefault(stage, ""));
        }
        for (String service : CpuByStage.serviceStages()) {
            System.out.printf("  %-40s %6.2f (not Herald)%n", service, cpu.get(service));
        }
        System.out.printf("  %-40s %6.2f (not Herald)%n", "PostgreSQL (its processes)", cpu.get("PostgreSQL"));
        if (cpu.get("Kafka broker process") > 0) {
            System.out.printf("  %-40s %6.2f (not Herald)%n", "Kafka broker (its process)", cpu.get("Kafka broker process"));
        }
        return result;
    }

    private static void printSummary(List<Result> results) {
        System.out.printf("%n===== summary (%d cores, %s) =====%n", Runtime.getRuntime().availableProcessors(),
                brokerInItsOwnProcess() ? "the Kafka broker in a process of its own, the rest embedded" : "everything embedded");
        StringBuilder header = new StringBuilder(String.format("%-38s", ""));
        results.forEach(r -> header.append(String.format("| %-32s", r.name())));
        System.out.println(header);
        row(results, "notifications/s (deliveries/s)", r -> String.format("%.0f (%.0f)%s", r.notificationsPerSecond(), r.deliveriesPerSecond(),
                r.drained() ? "" : " not drained"));
        row(results, "accepted -> provider p50 / p99", r -> String.format("%d / %d ms", r.p50(), r.p99()));
        row(results, "Herald CPU per notification", r -> String.format("%.2f ms", r.cpu().get("Herald")));
        // The JIT still compiles through a measured burst after the warm-up; a Herald running for hours has long stopped.
        row(results, "  less the JIT's compiling", r -> String.format("%.2f ms", r.cpu().get("Herald") - r.cpu().get(CpuByStage.JIT)));
        for (String stage : CpuByStage.heraldStages()) {
            row(results, "  " + stage, r -> String.format("%.2f ms", r.cpu().get(stage)));
        }
        row(results, "PostgreSQL CPU per notification", r -> String.format("%.2f ms", r.cpu().get("PostgreSQL")));
        row(results, "PostgreSQL transactions/notification", r -> String.format("%.1f", r.transactions()));
        row(results, "peak heap (whole JVM)", r -> r.heapMiB() + " MiB");
        row(results, "provider calls open at once (max)", r -> String.valueOf(r.peakInFlight()));
        System.out.println("==========================================================================");
    }

    private static void row(List<Result> results, String label, java.util.function.Function<Result, String> value) {
        StringBuilder line = new StringBuilder(String.format("%-38s", label));
        results.forEach(r -> line.append(String.format("| %-32s", value.apply(r))));
        System.out.println(line);
    }
}
