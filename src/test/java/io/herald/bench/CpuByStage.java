package io.herald.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * CPU used between two snapshots, by stage, from thread names (ThreadMXBean) and the process's total:
 * a per-notification cost that holds up on a shared, noisy machine where wall-clock rates do not.
 *
 * <p>The stages are matched by name only, so they work for any engine: Herald's webhook (Tomcat's
 * {@code http-nio-*}), the consumers of the source topics (intake) and of the notifications topic
 * (dispatch), channel sender threads if the engine has its own (names with deliver, sender, sms, push,
 * mail, seda, …; today the dispatch consumer sends itself, so this is near zero), Kafka client I/O,
 * and the rest of Herald's threads (the five busiest named). The stand-ins for the outside world
 * that share this JVM (Kafka broker, HTTP and SMTP sinks, the benchmark's own webhook client,
 * GreenMail and WireMock idling) are counted apart and not charged to Herald; GC, JIT and threads that
 * ended meanwhile are charged to Herald, so its figure is not flattered. The JVM's own threads (the JIT's
 * compiler threads, the garbage collector's, the VM thread), which ThreadMXBean does not list, are read from
 * Linux's per-thread accounts ({@code /proc/self/task/<tid>/stat}), so the line for them says how much of
 * it was compiling (a cost that fades as a long-running Herald warms up) and how much collecting. PostgreSQL
 * runs as its own processes, found by its port.
 */
record CpuByStage(Map<Long, String> threadNames, Map<Long, Long> threadNanos, Map<Long, Long> threadUserNanos, long jvmNanos,
                  long postgresNanos, long brokerProcessNanos, long gcNanos, long jitNanos, long vmNanos) {

    static final String WEBHOOK = "webhook (HTTP threads, its routes)";
    static final String INTAKE = "intake (source topic consumers, mappings)";
    static final String DISPATCH = "dispatch (notifications consumers)";
    static final String SENDERS = "senders (channel threads)";
    static final String KAFKA_IO = "Kafka client I/O";
    static final String OTHER = "other Herald threads";
    static final String GC_JIT = "GC, JIT, ended threads";
    static final String JIT = "  JIT: compiler threads' CPU";
    static final String GC = "  GC: collector threads' CPU";
    static final String VM = "  VM thread, other JVM threads";
    static final String ENDED = "  threads that ended";

    /** Linux reports per-thread CPU in clock ticks of 1/100 s (USER_HZ, 100 on every Linux a JVM runs on). */
    private static final long NANOS_PER_TICK = 10_000_000;

    private static final Map<String, Pattern> HERALD = new LinkedHashMap<>();
    private static final Map<String, Pattern> SERVICES = new LinkedHashMap<>();

    static {
        // Services first: their names would otherwise match Herald's broader patterns. The benchmark's own thread (main:
        // it signs and posts the events) and the JDK HTTP server's dispatcher (the sink's) are not Herald's either.
        SERVICES.put("benchmark client (webhook load)", Pattern.compile("^(bench-driver|HttpClient-|main$)"));
        SERVICES.put("provider sinks (HTTP, SMTP)", Pattern.compile("^(http-sink|smtp-sink|HTTP-Dispatcher)"));
        SERVICES.put("idle GreenMail/WireMock", Pattern.compile("^(smtp:|imap:|pop3:|qtp)"));
        // The webhook routes run on Spring's task executor (task-#): platform-http hands each request to it and the HTTP
        // thread writes the answer in a second, asynchronous pass. Both are the webhook's.
        HERALD.put(WEBHOOK, Pattern.compile("^(http-nio-|task-)"));
        HERALD.put(INTAKE, Pattern.compile("KafkaConsumer\\[herald\\.(support|billing|crm)|crm-outbox|^herald-mapping-"));   // the mappings run on their own threads (MappingTimeLimit)
        HERALD.put(DISPATCH, Pattern.compile("KafkaConsumer\\[herald\\.notifications"));
        HERALD.put(SENDERS, Pattern.compile("(?i)(deliver|sender|seda|sms|push|mail|email|ops-|digest|parked|throttl|split|bulkhead)"));
        HERALD.put(KAFKA_IO, Pattern.compile("^kafka-producer-network-thread|^kafka-coordinator-heartbeat"));
        SERVICES.put("Kafka broker (embedded)", Pattern.compile(
                "^(data-plane|kafka-|quorum|broker|controller|ExpirationReaper|raft|group-coordinator|executor-|LogDirFailureHandler|ReplicaFetcher|metrics-meter)"));
    }

    static CpuByStage now(int databasePort) {
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> nanos = new HashMap<>();
        Map<Long, Long> user = new HashMap<>();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null) {
                names.put(info.getThreadId(), info.getThreadName());
                nanos.put(info.getThreadId(), Math.max(0, threads.getThreadCpuTime(info.getThreadId())));
                user.put(info.getThreadId(), Math.max(0, threads.getThreadUserTime(info.getThreadId())));
            }
        }
        long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        long postgres = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("postgres") && c.contains("-p " + databasePort + " ")).orElse(false))
                .flatMap(p -> Stream.concat(Stream.of(p), p.descendants()))
                .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
        // The Kafka broker in a process of its own (StandaloneKafka runs kafka.Kafka; not with -Dbenchmark.kafka=embedded),
        // the one Java process this JVM starts
        long broker = ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .mapToLong(p -> p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
        long[] jvmThreads = jvmOwnThreads();
        return new CpuByStage(names, nanos, user, jvm, postgres, broker, jvmThreads[0], jvmThreads[1], jvmThreads[2]);
    }

    /**
     * CPU of the JVM's own threads, which are not Java threads: {GC, JIT, the rest (VM thread, periodic tasks, ...)}, in
     * nanoseconds, from /proc/self/task (zeros where there is no /proc). A Java thread's entry is told apart by its
     * name not being one of these.
     */
    private static long[] jvmOwnThreads() {
        long[] used = new long[3];
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return used;
        }
        for (java.io.File task : tasks) {
            String stat;
            try {
                stat = java.nio.file.Files.readString(task.toPath().resolve("stat"));
            } catch (java.io.IOException | RuntimeException gone) {
                continue;   // the thread ended meanwhile
            }
            int open = stat.indexOf('(');
            int close = stat.lastIndexOf(')');
            if (open < 0 || close < open) {
                continue;
            }
            String name = stat.substring(open + 1, close);
            String[] fields = stat.substring(close + 2).split(" ");   // fields 3.. of proc(5): state is fields[0]
            long nanos = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;   // utime, stime
            if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                used[1] += nanos;
            } else if (name.startsWith("GC Thread") || name.startsWith("G1 ")) {
                used[0] += nanos;
            } else if (name.equals("VM Thread") || name.equals("VM Periodic Tas") || name.startsWith("Service Thread")
                    || name.startsWith("Sweeper") || name.startsWith("Monitor Deflati")) {
                used[2] += nanos;
            }
        }
        return used;
    }

    /** CPU per notification, ms, by stage ("Herald", "JVM total", "PostgreSQL" and "Kafka broker process" are totals), and each stage's busiest threads. */
    record Report(Map<String, Double> perStage, Map<String, String> busiestThreads) {
        double get(String stage) {
            return perStage.getOrDefault(stage, 0.0);
        }
    }

    /** CPU per notification since {@code before}, in milliseconds, by stage. */
    Report perNotificationSince(CpuByStage before, double notifications) {
        Map<String, Long> used = new LinkedHashMap<>();
        HERALD.keySet().forEach(stage -> used.put(stage, 0L));
        used.put(OTHER, 0L);
        SERVICES.keySet().forEach(service -> used.put(service, 0L));
        Map<String, Map<String, Long>> byName = new HashMap<>();
        Map<String, Long> kernel = new HashMap<>();
        long counted = 0;
        for (Map.Entry<Long, Long> thread : threadNanos.entrySet()) {
            long ns = thread.getValue() - before.threadNanos.getOrDefault(thread.getKey(), 0L);
            String name = threadNames.get(thread.getKey());
            String stage = Stream.concat(SERVICES.entrySet().stream().filter(e -> !e.getKey().startsWith("Kafka broker")),
                            Stream.concat(HERALD.entrySet().stream(), SERVICES.entrySet().stream().filter(e -> e.getKey().startsWith("Kafka broker"))))
                    .filter(e -> e.getValue().matcher(name).find()).map(Map.Entry::getKey).findFirst().orElse(OTHER);
            used.merge(stage, ns, Long::sum);
            long userNs = threadUserNanos.getOrDefault(thread.getKey(), 0L) - before.threadUserNanos.getOrDefault(thread.getKey(), 0L);
            kernel.merge(stage, Math.max(0, ns - userNs), Long::sum);
            byName.computeIfAbsent(stage, s -> new HashMap<>()).merge(name.replaceAll("\\d+", "#"), ns, Long::sum);
            counted += ns;
        }
        long jvm = jvmNanos - before.jvmNanos;
        long uncounted = Math.max(0, jvm - counted);
        used.put(GC_JIT, uncounted);
        long jit = jitNanos - before.jitNanos;
        long gc = gcNanos - before.gcNanos;
        long vm = vmNanos - before.vmNanos;
        used.put(JIT, jit);
        used.put(GC, gc);
        used.put(VM, vm);
        used.put(ENDED, Math.max(0, uncounted - jit - gc - vm));   // what is left: threads that ended between the snapshots
        long services = SERVICES.keySet().stream().mapToLong(used::get).sum();
        Map<String, Double> perStage = new LinkedHashMap<>();
        used.forEach((stage, ns) -> perStage.put(stage, ns / 1e6 / notifications));
        perStage.put("Herald", (jvm - services) / 1e6 / notifications);
        perStage.put("JVM total", jvm / 1e6 / notifications);
        perStage.put("PostgreSQL", (postgresNanos - before.postgresNanos) / 1e6 / notifications);
        perStage.put("Kafka broker process", (brokerProcessNanos - before.brokerProcessNanos) / 1e6 / notifications);
        Map<String, String> busiest = new HashMap<>();
        // Each stage's time in the kernel (system calls: sockets, futexes; what a profiler of Java code does not see) comes first.
        byName.forEach((stage, names) -> busiest.put(stage, String.format("(in the kernel %.2f) ", kernel.getOrDefault(stage, 0L) / 1e6 / notifications)
                + names.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(3)
                .map(e -> String.format("%s %.2f", e.getKey(), e.getValue() / 1e6 / notifications)).reduce((x, y) -> x + "; " + y).orElse("")));
        return new Report(perStage, busiest);
    }

    /** Herald's stages, in print order. */
    static List<String> heraldStages() {
        return Stream.concat(HERALD.keySet().stream(), Stream.of(OTHER, GC_JIT, JIT, GC, VM, ENDED)).toList();
    }

    static List<String> serviceStages() {
        return List.copyOf(SERVICES.keySet());
    }
}
