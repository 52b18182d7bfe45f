package io.herald.testsupport;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A light HTTP provider stand-in (plain sockets, not WireMock) for benchmarks and load tests:
 * it answers every request on any path like an SMS, push or webhook provider that accepted the
 * message, after a configurable latency, and records when each request arrived.
 *
 * <ul>
 *   <li><b>Answers</b>: {@link Mode#OK} 200 with a JSON body carrying the id fields the channels read
 *   ({@code sid} for SMS, {@code name} for push, {@code id}); {@link Mode#UNAVAILABLE} 503;
 *   {@link Mode#HANG} no answer at all until the client gives up (the connection is closed when the
 *   mode changes, or when the sink closes). The mode and latency apply per path prefix (one sink
 *   serves several channels), see {@link #mode(String, Mode)}.</li>
 *   <li><b>Arrival is the first byte</b>: each connection has its own thread blocked in a read, so a
 *   request's arrival time is taken the moment its first byte is read, before anything else is done
 *   with it. (The JDK's HttpServer, used before, handed requests to its handler up to 100 ms late and
 *   in bunches: at a client that sent 10 per second it counted 12 to 15 in one second.) HTTP/1.1 sends
 *   one request at a time per connection, so the thread then waits out the latency and answers; the
 *   sink has as many threads as the client opens connections, and is never the bottleneck of what it
 *   measures.</li>
 *   <li><b>What it records</b> per request: arrival time, path, the {@code Idempotency-Key} header (how
 *   Herald names the notification and channel), the status it answered, the body. From these:
 *   {@link #maxInAnyWindow} (the most requests in any window, e.g. 1 s, for rate-limit checks across
 *   instances) and {@link #peakInFlight} (the most requests open at once).</li>
 * </ul>
 *
 * Threads are named {@code http-sink-*}, so CPU accounting can set them apart from the system under test. A connection's
 * thread is taken from a pool and goes back to it when the connection closes (kept ten minutes idle): a thread that
 * ended would take the CPU it used out of the per-thread accounts, and the benchmark would charge it to Herald.
 */
public final class HttpSink implements AutoCloseable {

    /** How the sink answers. */
    public enum Mode { OK, UNAVAILABLE, HANG }

    /** One request as it arrived (path with its query, if any), and what the sink answers it (200, 503, or -1: hung, never answered). */
    public record Request(long receivedAtMillis, String method, String path, String idempotencyKey, String body, int status) {
    }

    private static final AtomicInteger SINKS = new AtomicInteger();

    private final ServerSocket server;
    private final String threadPrefix;
    private final AtomicInteger connections = new AtomicInteger();
    private final ExecutorService connectionThreads;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final Map<String, Mode> modes = new ConcurrentHashMap<>();
    private final Map<String, Duration> latencies = new ConcurrentHashMap<>();
    private final Set<Socket> hanging = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private volatile Mode defaultMode = Mode.OK;
    private volatile Duration defaultLatency = Duration.ZERO;

    private HttpSink() {
        try {
            threadPrefix = "http-sink-" + SINKS.incrementAndGet() + "-";
            AtomicInteger threads = new AtomicInteger();
            connectionThreads = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.MINUTES, new SynchronousQueue<>(), r -> {
                Thread thread = new Thread(r, threadPrefix + "connection-" + threads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
            server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("the HTTP sink could not listen on a local port", e);
        }
        Thread acceptor = new Thread(this::accept, threadPrefix + "acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A sink on a free local port. */
    public static HttpSink start() {
        return new HttpSink();
    }

    /** The sink's address with this path, e.g. {@code url("/2010-04-01/Accounts/AC1/Messages.json")}. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getLocalPort() + path;
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

    /** How many connections the sink has accepted since it started. */
    public int connectionsAccepted() {
        return connections.get();
    }

    /** The most requests the sink held open at once (arrived, not yet answered) since start or {@link #clear()}. */
    public int peakInFlight() {
        return peakInFlight.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                socket.setTcpNoDelay(true);
                open.add(socket);
                connections.incrementAndGet();
                connectionThreads.execute(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** One connection: request after request until the client closes it (or the sink does). */
    private void serve(Socket socket) {
        try (socket) {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                int first = in.read();
                long arrived = System.currentTimeMillis();
                if (first < 0) {
                    return;
                }
                String head = (char) first + readHead(in);
                String[] lines = head.split("\r\n");
                String[] requestLine = lines[0].split(" ");
                Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon > 0) {
                        headers.put(lines[i].substring(0, colon).strip(), lines[i].substring(colon + 1).strip());
                    }
                }
                if ("100-continue".equalsIgnoreCase(headers.get("Expect"))) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                String body = new String(readBody(in, headers), StandardCharsets.UTF_8);
                String target = requestLine.length > 1 ? requestLine[1] : "/";
                String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
                peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                Mode mode = forPath(path, modes, defaultMode);
                requests.add(new Request(arrived, requestLine[0], target, headers.get("Idempotency-Key"), body,
                        mode == Mode.HANG ? -1 : mode == Mode.OK ? 200 : 503));
                if (mode == Mode.HANG) {
                    hanging.add(socket);
                    while (in.read() >= 0) {
                        // nothing more comes on a hung request's connection; the sink closes it when the mode changes
                    }
                    return;
                }
                long wait = arrived + forPath(path, latencies, defaultLatency).toMillis() - System.currentTimeMillis();
                if (wait > 0) {
                    TimeUnit.MILLISECONDS.sleep(wait);   // the provider's simulated answer latency
                }
                try {
                    answer(out, mode);
                } finally {
                    inFlight.decrementAndGet();
                }
                if ("close".equalsIgnoreCase(headers.get("Connection"))) {
                    return;
                }
            }
        } catch (IOException | InterruptedException gone) {
            // The client gave up (its timeout) or the sink is closing: nothing to tell anyone.
        } finally {
            open.remove(socket);
        }
    }

    /** The rest of a request's head (request line and headers), up to and including the blank line that ends it. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last = 0;   // the last four bytes read
        while (last != 0x0d0a0d0a) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed in the middle of a request head");
            }
            head.write(c);
            last = (last << 8) | c;
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readBody(InputStream in, Map<String, String> headers) throws IOException {
        if ("chunked".equalsIgnoreCase(headers.get("Transfer-Encoding"))) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            while (true) {
                String size = readLine(in);
                int length = Integer.parseInt(size.split(";")[0].strip(), 16);
                if (length == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers, if any
                    }
                    return body.toByteArray();
                }
                body.write(in.readNBytes(length));
                readLine(in);
            }
        }
        String length = headers.get("Content-Length");
        return length == null ? new byte[0] : in.readNBytes(Integer.parseInt(length));
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    private void answer(OutputStream out, Mode mode) throws IOException {
        byte[] answer = (mode == Mode.OK
                ? "{\"sid\":\"SM%1$d\",\"name\":\"projects/sink/messages/%1$d\",\"id\":\"%1$d\",\"status\":\"queued\"}".formatted(ids.incrementAndGet())
                : "{\"error\":{\"status\":\"UNAVAILABLE\",\"message\":\"the sink is set to answer 503\"}}").getBytes(StandardCharsets.UTF_8);
        String head = (mode == Mode.OK ? "HTTP/1.1 200 OK" : "HTTP/1.1 503 Service Unavailable")
                + "\r\nContent-Type: application/json\r\nContent-Length: " + answer.length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(answer);
        out.flush();
    }

    /** Hung requests' connections are closed without an answer when the mode changes: the client sees the connection drop, if it still waits. */
    private void releaseHanging() {
        for (Socket socket : List.copyOf(hanging)) {
            if (hanging.remove(socket)) {
                inFlight.decrementAndGet();
                try {
                    socket.close();
                } catch (IOException alreadyGone) {
                    // closed either way
                }
            }
        }
    }

    private static <T> T forPath(String path, Map<String, T> byPrefix, T otherwise) {
        return byPrefix.entrySet().stream().filter(e -> path.startsWith(e.getKey())).map(Map.Entry::getValue).findFirst().orElse(otherwise);
    }

    @Override
    public void close() {
        modes.clear();
        releaseHanging();
        try {
            server.close();
        } catch (IOException alreadyClosed) {
            // closed either way
        }
        for (Socket socket : List.copyOf(open)) {
            try {
                socket.close();
            } catch (IOException alreadyGone) {
                // closed either way
            }
        }
        connectionThreads.shutdown();
    }

    /** How many requests matched, by the status answered; for a printout. */
    public static Map<Integer, Long> byStatus(List<Request> requests) {
        return Collections.unmodifiableMap(requests.stream().collect(java.util.stream.Collectors.groupingBy(Request::status,
                java.util.TreeMap::new, java.util.stream.Collectors.counting())));
    }
}
