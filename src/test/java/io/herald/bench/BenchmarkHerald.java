package io.herald.bench;

import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.herald.HeraldApplication;
import io.herald.local.EmbeddedInfrastructure;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.HttpSink;
import io.herald.testsupport.Samples;
import io.herald.testsupport.Signatures;
import io.herald.testsupport.SmtpSink;
import org.awaitility.core.ConditionTimeoutException;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * What every benchmark scenario shares: Herald booted on the embedded PostgreSQL and Kafka (local
 * profile), its providers replaced by light sinks that record when each request arrived (SMS, push and
 * ops webhook on one {@link HttpSink}, email on an {@link SmtpSink}), a webhook load generator, and
 * the measures (CPU by stage, PostgreSQL transactions, peak heap, latency percentiles).
 *
 * <p>Herald is driven only from outside: events go in through its signed webhooks, as Zendesk and
 * Stripe send them; what comes out is read at the sinks and in the ledger tables (notification,
 * delivery). Nothing here depends on how the engine is built inside, so the same benchmark measures
 * today's engine and a rewritten one.
 *
 * <p>Each scenario is its own class and runs in its own JVM (the pom's benchmark profile forks one per
 * class), so its settings, JIT warm-up and heap are its own.
 */
@SpringBootTest(classes = HeraldApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("local")
abstract class BenchmarkHerald {

    static {
        System.setProperty("herald-test.pg-statements", "true");   // PostgreSQL counts statements for statementsPerNotification
    }

    protected static final EmbeddedInfrastructure infra = EmbeddedInfrastructure.start();
    protected static final HttpSink providers = HttpSink.start();
    protected static final SmtpSink mail = SmtpSink.start();

    static final String SMS_PATH = "/2010-04-01/Accounts/ACbench/Messages.json";
    static final String PUSH_PATH = "/v1/projects/herald-bench/messages:send";
    static final String OPS_PATH = "/services/T0BENCH/B0BENCH/bench-ops";
    static final List<String> CHANNELS = List.of("email", "sms", "push");

    @LocalServerPort
    protected int port;
    @Autowired
    protected JdbcTemplate jdbc;
    @Autowired
    protected Environment settings;

    private final AtomicInteger runs = new AtomicInteger();

    /** The load client's threads live as long as the JVM, so their CPU is counted as the client's, not as "ended threads". */
    private static final AtomicInteger CLIENT_THREADS = new AtomicInteger();
    private static final ExecutorService CLIENT_EXECUTOR = Executors.newFixedThreadPool(4, r -> {
        Thread thread = new Thread(r, "bench-driver-" + CLIENT_THREADS.incrementAndGet());
        thread.setDaemon(true);
        return thread;
    });
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(CLIENT_EXECUTOR)
            .connectTimeout(Duration.ofSeconds(10)).build();
    /** Posts in flight at once. */
    private static final int POSTS_IN_FLIGHT = 32;
    /**
     * The threads that post, each one request at a time with the blocking send. Not sendAsync: its completion is handed
     * to the common pool's default executor, which on a 2-core machine (common pool parallelism 1) starts a new thread
     * per response: 4,500 threads in a profiled run, whose CPU ended with them and was charged to Herald.
     */
    private static final ExecutorService POSTERS = Executors.newFixedThreadPool(POSTS_IN_FLIGHT, r -> {
        Thread thread = new Thread(r, "bench-driver-post-" + CLIENT_THREADS.incrementAndGet());
        thread.setDaemon(true);
        return thread;
    });

    @DynamicPropertySource
    static void embeddedStackAndSinks(DynamicPropertyRegistry registry) {
        Set<String> replaced = Set.of("herald.mail.host", "herald.mail.port", "herald.kafka.brokers");
        infra.heraldSettings().forEach((key, value) -> {
            if (!replaced.contains(key)) {
                registry.add(key, () -> value);
            }
        });
        registry.add("herald.kafka.brokers", BenchmarkHerald::kafkaBrokers);
        registry.add("herald.mail.host", () -> "127.0.0.1");
        registry.add("herald.mail.port", mail::port);
        registry.add("herald.sms.url", () -> providers.url(SMS_PATH));
        registry.add("herald.push.url", () -> providers.url(PUSH_PATH));
        registry.add("herald.ops-webhook.url", () -> providers.url(OPS_PATH));
        // Ticket notes (issue 13, on in the local profile for support.agent_replied) are not part of what the scenarios measure:
        // off, so the figures stay comparable with earlier runs.
        registry.add("herald.helpdesk.enabled", () -> "false");
        // Nobody edits routes during a benchmark: no file watcher.
        registry.add("camel.main.routes-reload-enabled", () -> "false");
    }

    /**
     * The broker Herald uses: a broker in a process of its own (StandaloneKafka), as production runs it, its CPU counted apart
     * from the JVM's; or with {@code -Dbenchmark.kafka=embedded} the embedded one in this JVM, as the figures before session
     * 54 were measured: that broker, written in Scala, shares the JVM's compiled code and type profiles of the Scala library
     * with DataSonnet's interpreter, and made Herald's own CPU 3-27% dearer.
     */
    static boolean brokerInItsOwnProcess() {
        return !"embedded".equals(System.getProperty("benchmark.kafka"));
    }

    static String kafkaBrokers() {
        if (!brokerInItsOwnProcess()) {
            return infra.kafkaBrokers();
        }
        synchronized (BenchmarkHerald.class) {
            if (ownBroker == null) {
                try {
                    ownBroker = io.herald.testsupport.StandaloneKafka.start();
                } catch (Exception e) {
                    throw new IllegalStateException("could not start the broker process", e);
                }
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        ownBroker.close();
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }));
            }
            return ownBroker.brokers();
        }
    }

    private static io.herald.testsupport.StandaloneKafka ownBroker;

    static int intSetting(String name, int otherwise) {
        return Integer.getInteger(name, otherwise);
    }

    static Duration durationSetting(String name, String otherwise) {
        return Duration.parse(System.getProperty(name, otherwise));
    }

    /**
     * The monthly partitions of the tables partitioned by month (payloads, rendered content, attempts, receipts, refused
     * requests; notifications and deliveries too where a build partitions them) back {@code months} months, as production
     * has them after a year (empty here): a statement that does not name its months pays for every partition.
     */
    protected void createLedgerMonths(int months) {
        for (String table : List.of("notification_payload", "delivery_content", "delivery_attempt", "delivery_receipt", "inbound_rejection")) {
            jdbc.queryForObject("SELECT herald_month_partitions(?, CAST(now() - make_interval(months => ?) AS DATE), 3)",
                    Integer.class, table, months);
        }
        // The archive of settled notifications (V76), a month per partition, as a year of production leaves it: every new
        // notification's key is looked up in each month (herald_archived_duplicate). -Dbenchmark.archive-rows a month (20000).
        int rows = Integer.getInteger("benchmark.archive-rows", 20_000);
        if (jdbc.queryForObject("SELECT to_regproc('herald_archive_month') IS NULL", Boolean.class) || rows <= 0) {
            return;
        }
        for (int back = months; back >= 2; back--) {
            int month = jdbc.queryForObject("SELECT CAST(to_char(now() AT TIME ZONE 'UTC' - make_interval(months => ?), 'YYYYMM') AS INT)",
                    Integer.class, back);
            if (jdbc.queryForObject("SELECT herald_archive_month(?)", Integer.class, month) == 0) {
                continue;   // there from an earlier run
            }
            jdbc.update("""
                    INSERT INTO notification_all (idempotency_key, source, source_event_id, type, customer_id, state, canonical,
                                                  occurred_at, received_at, updated_at, archived_month)
                    SELECT 'bench-archived:' || ? || ':' || g, 'support', 'zd_' || ? || '_' || g, 'support.agent_replied',
                           'cus_bench' || (g % 1000), 'ROUTED', '{"data": {}}', at, at, at, ?
                    FROM (SELECT g, to_timestamp(CAST(? AS TEXT), 'YYYYMM') + make_interval(secs => g * 2419200.0 / ?) AS at
                          FROM generate_series(1, ?) g) s""", month, month, month, month, rows, rows);
            jdbc.update("""
                    INSERT INTO delivery_all (notification_id, channel, state, recipient_masked, provider_message_id, attempts,
                                              created_at, updated_at, sent_at, customer_id, archived_month)
                    SELECT id, 'email', 'SENT', 'b***@example.net', 'msg-' || id, 1, received_at, received_at, received_at,
                           customer_id, archived_month FROM notification_all WHERE archived_month = ?""", month);
        }
        jdbc.execute("ANALYZE notification_all");
        jdbc.execute("ANALYZE delivery_all");
    }

    /** Customers with an email address, a phone number and a push token, as the directory knows them. */
    protected void seedCustomers(int count) {
        List<Object[]> rows = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            rows.add(new Object[] {customer(c), "bench" + c + "@example.net", "+44770" + String.format("%07d", c), "[\"fcm:tok-bench-" + c + "\"]"});
        }
        jdbc.batchUpdate("INSERT INTO customer (customer_id, display_name, email, phone, push_tokens) VALUES (?, 'Bench Customer', ?, ?, ?::jsonb)"
                + " ON CONFLICT DO NOTHING", rows);
    }

    static String customer(int c) {
        return "cus_bench" + c;
    }

    /** A run's tag: its events' tickets (or invoices) start with it, so a run's rows are found by prefix. */
    protected String nextRunTag() {
        return String.valueOf(900 + runs.incrementAndGet());
    }

    /** One event to post: the notification key Herald will give it, the webhook path, body and signature headers. */
    record Post(String key, String path, byte[] body, Map<String, String> headers) {
    }

    /** An agent's public reply on a ticket (Zendesk-style, signed), for the customer {@code i % customers}. */
    Post agentReply(String tag, int i, int customers) {
        String ticket = tag + String.format("%07d", i);
        int c = i % customers;
        String body = Samples.supportEvent("ticket.comment_added.json", ticket)
                .replace("cus_RkT4aB7cD9eF1g", customer(c))
                .replace("9000000123456", String.valueOf(9_100_000_000L + c))
                .replaceFirst("\"time\": \"[^\"]+\"", "\"time\": \"" + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\"");
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String timestamp = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        return new Post("support:agent_replied:" + ticket + ":41000000000555", "/webhooks/support", bytes,
                Map.of("X-Zendesk-Webhook-Signature-Timestamp", timestamp,
                        "X-Zendesk-Webhook-Signature", Signatures.zendesk(HeraldIntegrationTest.SUPPORT_SECRET, timestamp, bytes)));
    }

    /**
     * A Stripe-style invoice.payment_failed (signed), stamped now (created now, next attempt in three days: the shipped
     * catalog drops a late one), for the customer {@code i % customers}.
     */
    Post paymentFailed(String tag, int i, int customers) {
        String unique = tag + String.format("%07d", i);
        String body = Samples.paymentFailedNow(unique).replace("cus_RkT4aB7cD9eF1g", customer(i % customers));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return new Post(Samples.paymentFailedKey(unique), "/webhooks/billing", bytes,
                Map.of("Stripe-Signature", Signatures.stripe(Instant.now().getEpochSecond(), bytes, HeraldIntegrationTest.BILLING_SECRET)));
    }

    /**
     * Posts {@code count} events to Herald's webhook, {@code perSecond} a second (0: as fast as they are
     * accepted, 32 in flight), and returns when each was accepted (202), by notification key. A refused
     * post (503 while Herald's Kafka is slow) is posted again, as Stripe and Zendesk do.
     */
    Map<String, Long> post(int count, double perSecond, IntFunction<Post> event) {
        Map<String, Long> accepted = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Integer> refused = new ConcurrentLinkedQueue<>();
        Semaphore inFlight = new Semaphore(POSTS_IN_FLIGHT);
        long start = System.nanoTime();
        int retries = 0;
        try {
            for (int i = 0; i < count; i++) {
                if (perSecond > 0) {
                    long due = start + (long) (i * 1e9 / perSecond);
                    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                        LockSupport.parkNanos(wait);   // pacing the load, not waiting for a result
                    }
                }
                inFlight.acquireUninterruptibly();
                int index = i;
                Post post = event.apply(i);
                POSTERS.execute(() -> {
                    try {
                        if (CLIENT.send(request(post), HttpResponse.BodyHandlers.discarding()).statusCode() == 202) {
                            accepted.put(post.key(), System.currentTimeMillis());
                        } else {
                            refused.add(index);
                        }
                    } catch (java.io.IOException | InterruptedException | RuntimeException e) {
                        refused.add(index);   // posted again below, one at a time
                    } finally {
                        inFlight.release();
                    }
                });
            }
            inFlight.acquireUninterruptibly(POSTS_IN_FLIGHT);
            inFlight.release(POSTS_IN_FLIGHT);
            for (Integer index = refused.poll(); index != null; index = refused.poll()) {
                Post post = event.apply(index);
                retries++;
                HttpResponse<Void> response = CLIENT.send(request(post), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 202) {
                    accepted.put(post.key(), System.currentTimeMillis());
                } else if (retries < count + 100) {
                    refused.add(index);
                } else {
                    throw new IllegalStateException("Herald's webhook kept refusing events: last answer HTTP " + response.statusCode());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("posting to Herald's webhook failed: " + e.getMessage(), e);
        }
        if (retries > 0) {
            System.out.printf("  (%d posts answered other than 202 were posted again)%n", retries);
        }
        return accepted;
    }

    private HttpRequest request(Post post) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + post.path()))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(post.body()));
        post.headers().forEach(request::header);
        return request.build();
    }

    /** How many of the run's deliveries (notification key starting with {@code keyPrefix}) the ledger has SENT. */
    long sent(String keyPrefix, String channel) {
        ownTransactions.incrementAndGet();
        return jdbc.queryForObject("""
                SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id
                WHERE n.idempotency_key LIKE ? AND d.state = 'SENT' AND (? = '' OR d.channel = ?)""", Long.class,
                keyPrefix + "%", channel, channel);
    }

    /** How many of the run's deliveries on the channel the ledger has in the state. */
    long inState(String keyPrefix, String channel, String state) {
        ownTransactions.incrementAndGet();
        return jdbc.queryForObject("SELECT count(*) FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key LIKE ? AND d.channel = ? AND d.state = ?", Long.class, keyPrefix + "%", channel, state);
    }

    /** Waits until the ledger has {@code expected} of the run's deliveries SENT; false if not within {@code atMost}. */
    boolean awaitSent(String keyPrefix, String channel, long expected, Duration atMost) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> sent(keyPrefix, channel) >= expected);
            return true;
        } catch (ConditionTimeoutException notYet) {
            return false;
        }
    }

    /**
     * When each notification's first request reached the provider, per channel, for the keys given
     * (email: the SMTP sink, by its X-Herald-Idempotency-Key header; HTTP channels: by Idempotency-Key).
     * Only requests the provider accepted count for HTTP channels (not 503s nor hung calls).
     */
    Map<String, Map<String, Long>> firstRequests(Collection<String> keys) {
        Set<String> wanted = Set.copyOf(keys);
        Map<String, Map<String, Long>> byChannel = new HashMap<>();
        CHANNELS.forEach(channel -> byChannel.put(channel, new HashMap<>()));
        byChannel.put("ops_webhook", new HashMap<>());
        for (SmtpSink.Message message : mail.messages()) {
            record(byChannel, wanted, message.idempotencyKey(), message.receivedAtMillis());
        }
        for (HttpSink.Request request : providers.requests()) {
            if (request.status() == 200) {
                record(byChannel, wanted, request.idempotencyKey(), request.receivedAtMillis());
            }
        }
        return byChannel;
    }

    private static void record(Map<String, Map<String, Long>> byChannel, Set<String> wanted, String providerKey, long at) {
        if (providerKey == null) {
            return;
        }
        int colon = providerKey.lastIndexOf(':');
        String key = providerKey.substring(0, colon);
        Map<String, Long> channel = byChannel.get(providerKey.substring(colon + 1));
        if (channel == null && key.lastIndexOf(':') > 0) {
            // Push is sent to each device with the device after the channel (<key>:push:<device>, PushRequest): until
            // 2026-12-07 the benchmark read the device as the channel and counted no push request at all.
            colon = key.lastIndexOf(':');
            channel = byChannel.get(key.substring(colon + 1));
            key = key.substring(0, colon);
        }
        if (channel != null && wanted.contains(key)) {
            channel.merge(key, at, Math::min);
        }
    }

    /** Latency from accepted to the provider's request, for the keys that have both, sorted. */
    static List<Long> latencies(Map<String, Long> accepted, Map<String, Long> requested) {
        List<Long> latencies = new ArrayList<>();
        accepted.forEach((key, at) -> {
            Long reached = requested.get(key);
            if (reached != null) {
                latencies.add(reached - at);
            }
        });
        Collections.sort(latencies);
        return latencies;
    }

    static long percentile(List<Long> sorted, double p) {
        return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * p)));
    }

    /** Starts counting statements afresh (pg_stat_statements). */
    void resetStatements() {
        ownTransactions.addAndGet(2);
        jdbc.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        jdbc.queryForList("SELECT pg_stat_statements_reset()");
    }

    /**
     * The statements PostgreSQL spent most time executing since {@link #resetStatements}: per notification, the calls and the
     * execution time (µs, pg_stat_statements' total_exec_time), and the statement's start.
     */
    List<String> statementsPerNotification(long notifications, int top) {
        return jdbc.query("SELECT s.calls, s.total_exec_time, s.mean_exec_time, s.max_exec_time, regexp_replace(s.query, '\\s+', ' ', 'g') AS query"
                        + " FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
                        + " ORDER BY s.total_exec_time DESC LIMIT ?",
                (row, n) -> String.format("%7.2f %7.0f µs (a call: mean %6.1f ms, max %6.1f ms)  %s", row.getLong("calls") / (double) notifications,
                        row.getDouble("total_exec_time") * 1000 / notifications, row.getDouble("mean_exec_time"), row.getDouble("max_exec_time"),
                        row.getString("query").length() > 110 ? row.getString("query").substring(0, 110) + "..." : row.getString("query")),
                top);
    }

    /**
     * Transactions committed or rolled back in Herald's database so far (pg_stat_database), less those of the
     * benchmark's own queries (its count of sent deliveries every 0.5 s, this one): what Herald and its background polls ran.
     */
    long databaseTransactions() {
        long own = ownTransactions.incrementAndGet();
        return jdbc.queryForObject("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", Long.class) - own;
    }

    /**
     * The delivery table's row versions and vacuums (pg_stat_user_tables): the senders' claim walks its partial indexes,
     * whose entries of rows that left the queue stay until a vacuum removes them.
     */
    String deliveryTable() {
        ownTransactions.incrementAndGet();
        return jdbc.queryForObject("""
                SELECT n_live_tup || ' live, ' || n_dead_tup || ' dead row versions; vacuumed ' || autovacuum_count || ' times, analyzed '
                       || autoanalyze_count || ' times by autovacuum so far'
                FROM pg_stat_user_tables WHERE relname = 'delivery'""", String.class);
    }

    /** The benchmark's own autocommitted queries on Herald's database, left out of {@link #databaseTransactions}. */
    private final java.util.concurrent.atomic.AtomicLong ownTransactions = new java.util.concurrent.atomic.AtomicLong();

    int databasePort() {
        Matcher port = Pattern.compile("localhost:(\\d+)/").matcher(infra.heraldSettings().get("herald.db.url"));
        return port.find() ? Integer.parseInt(port.group(1)) : -1;
    }

    static void resetPeakHeap() {
        System.gc();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /** The sum of the heap pools' peaks since {@link #resetPeakHeap()}, in MiB (the whole JVM: Herald, broker, sinks). */
    static long peakHeapMiB() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum() / (1024 * 1024);
    }

    /** The machine as the figures saw it: cores, and the 1-minute load average (other work on it competes with Herald). */
    static String machine() {
        return String.format("%d cores, 1-min load average %.1f", Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    static String setting(Environment settings, String key) {
        return settings.getProperty(key, "(unset)");
    }
}
