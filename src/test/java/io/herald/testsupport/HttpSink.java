package io.herald.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A light HTTP provider stand-in (the JDK's own server, not WireMock) for benchmarks and load tests:
 * it answers every request on any path like an SMS, push or webhook provider that accepted the
 * message, after a configurable latency, and records when each request arrived.
 *
 * <ul>
 *   <li><b>Answers</b>: {@link Mode#OK} 200 with a JSON body carrying the id fields the channels read
 *   ({@code sid} for SMS, {@code name} for push, {@code id}); {@link Mode#UNAVAILABLE} 503;
 *   {@link Mode#HANG} no answer at all until the client gives up (the exchange is closed when the
 *   mode changes, or when the sink closes). The mode and latency apply per path prefix (one sink
 *   serves several channels), see {@link #mode(String, Mode)}.</li>
 *   <li><b>Latency without threads</b>: a request is read, recorded and handed to a timer that
 *   answers it after the latency, so 1,000 requests waiting 150 ms hold no thread; the sink is never
 *   the bottleneck of what it measures.</li>
 *   <li><b>What it records</b> per request: arrival time, path, the {@code Idempotency-Key} header (how
 *   Herald names the notification and channel), the status it answered, the body. From these:
 *   {@link #maxInAnyWindow} (the most requests in any window, e.g. 1 s, for rate-limit checks across
 *   instances) and {@link #peakInFlight} (the most requests open at once).</li>
 * </ul>
 *
 * Threads are named {@code http-sink-*}, so CPU accounting can set them apart from the system under test.
 */
public final class HttpSink implements AutoCloseable {

    /** How the sink answers. */
    public enum Mode { OK, UNAVAILABLE, HANG }

    /** One request as it arrived (path with its query, if any), and what the sink answers it (200, 503, or -1: hung, never answered). */
    public record Request(long receivedAtMillis, String method, String path, String idempotencyKey, String body, int status) {
    }

    private static final AtomicInteger SINKS = new AtomicInteger();

    private final HttpServer server;
    private final ExecutorService workers;
    private final ScheduledExecutorService timer;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final Map<String, Mode> modes = new ConcurrentHashMap<>();
    private final Map<String, Duration> latencies = new ConcurrentHashMap<>();
    private final Set<HttpExchange> hanging = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private volatile Mode defaultMode = Mode.OK;
    private volatile Duration defaultLatency = Duration.ZERO;

    private HttpSink(int threads) {
        try {
            int sink = SINKS.incrementAndGet();
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
            workers = Executors.newFixedThreadPool(threads, named("http-sink-" + sink + "-worker-"));
            timer = Executors.newScheduledThreadPool(1, named("http-sink-" + sink + "-timer-"));
            server.setExecutor(workers);
            server.createContext("/", this::handle);
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException("the HTTP sink could not listen on a local port", e);
        }
    }

    /** A sink on a free local port with 512 worker threads (far more than it needs: answers wait on a timer, not a thread). */
    public static HttpSink start() {
        return new HttpSink(512);
    }

    /** The sink's address with this path, e.g. {@code url("/2010-04-01/Accounts/AC1/Messages.json")}. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Every path answers this way, unless a prefix has its own mode. */
    public HttpSink mode(Mode mode) {
        defaultMode = mode;
        releaseHanging();
        return this;
    }

    /** Paths starting with this prefix answer this way (e.g. only the SMS API answers 503). */
    public HttpSink mode(String pathPrefix, Mode mode) {
        modes.put(pathPrefix, mode);
        releaseHanging();
        return this;
    }

    /** Every answer waits this long after the request arrived, unless a prefix has its own latency. */
    public HttpSink latency(Duration latency) {
        defaultLatency = latency;
        return this;
    }

    public HttpSink latency(String pathPrefix, Duration latency) {
        latencies.put(pathPrefix, latency);
        return this;
    }

    /** Every request so far, in arrival order (arrival times are milliseconds since the epoch). */
    public List<Request> requests() {
        List<Request> all = new ArrayList<>(requests);
        all.sort((a, b) -> Long.compare(a.receivedAtMillis(), b.receivedAtMillis()));
        return all;
    }

    /** The requests whose path starts with this prefix, in arrival order. */
    public List<Request> requests(String pathPrefix) {
        return requests().stream().filter(r -> r.path().startsWith(pathPrefix)).toList();
    }

    /** Forgets the requests recorded so far and the in-flight peak (modes and latencies stay). */
    public void clear() {
        requests.clear();
        peakInFlight.set(inFlight.get());
    }

    /** The most requests matching the filter whose arrival falls in any one window of this length (e.g. 1 s: the peak rate). */
    public int maxInAnyWindow(Duration window, Predicate<Request> which) {
        List<Long> times = requests().stream().filter(which).map(Request::receivedAtMillis).toList();
        int max = 0;
        int from = 0;
        for (int to = 0; to < times.size(); to++) {
            while (times.get(to) - times.get(from) >= window.toMillis()) {
                from++;
            }
            max = Math.max(max, to - from + 1);
        }
        return max;
    }

    /** The most requests the sink held open at once (arrived, not yet answered) since start or {@link #clear()}. */
    public int peakInFlight() {
        return peakInFlight.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        long arrived = System.currentTimeMillis();
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String path = exchange.getRequestURI().getPath();
        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        Mode mode = forPath(path, modes, defaultMode);
        String query = exchange.getRequestURI().getRawQuery();
        Request request = new Request(arrived, exchange.getRequestMethod(), query == null ? path : path + "?" + query,
                exchange.getRequestHeaders().getFirst("Idempotency-Key"), body, mode == Mode.HANG ? -1 : mode == Mode.OK ? 200 : 503);
        requests.add(request);
        if (mode == Mode.HANG) {
            hanging.add(exchange);
            return;
        }
        long delay = forPath(path, latencies, defaultLatency).toMillis();
        if (delay <= 0) {
            answer(exchange, mode);
        } else {
            timer.schedule(() -> workers.execute(() -> answer(exchange, mode)), delay, TimeUnit.MILLISECONDS);
        }
    }

    private void answer(HttpExchange exchange, Mode mode) {
        try {
            byte[] answer = (mode == Mode.OK
                    ? "{\"sid\":\"SM%1$d\",\"name\":\"projects/sink/messages/%1$d\",\"id\":\"%1$d\",\"status\":\"queued\"}".formatted(ids.incrementAndGet())
                    : "{\"error\":{\"status\":\"UNAVAILABLE\",\"message\":\"the sink is set to answer 503\"}}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(mode == Mode.OK ? 200 : 503, answer.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        } catch (IOException clientGone) {
            // The client gave up (its timeout) before the answer: nothing to tell it.
        } finally {
            exchange.close();
            inFlight.decrementAndGet();
        }
    }

    /** Hung exchanges are closed without an answer when the mode changes: the client sees the connection drop, if it still waits. */
    private void releaseHanging() {
        for (HttpExchange exchange : List.copyOf(hanging)) {
            if (hanging.remove(exchange)) {
                inFlight.decrementAndGet();
                exchange.close();
            }
        }
    }

    private static <T> T forPath(String path, Map<String, T> byPrefix, T otherwise) {
        return byPrefix.entrySet().stream().filter(e -> path.startsWith(e.getKey())).map(Map.Entry::getValue).findFirst().orElse(otherwise);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void close() {
        modes.clear();
        releaseHanging();
        server.stop(0);
        timer.shutdownNow();
        workers.shutdownNow();
    }

    /** How many requests matched, by the status answered; for a printout. */
    public static Map<Integer, Long> byStatus(List<Request> requests) {
        return Collections.unmodifiableMap(requests.stream().collect(java.util.stream.Collectors.groupingBy(Request::status,
                java.util.TreeMap::new, java.util.stream.Collectors.counting())));
    }
}
