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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A light SMTP server for benchmarks: it speaks just enough SMTP for Herald's mail sender (EHLO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT, kept connections), accepts every message after a configurable latency
 * (the pause before its final {@code 250} to DATA, as a relay that writes to disk or forwards) and
 * records when each message arrived and its {@code X-Herald-Idempotency-Key} header, without parsing or
 * storing the message as GreenMail does. One thread per connection ({@code smtp-sink-*}): an SMTP
 * session is sequential, so a connection waiting out the latency holds only its own thread.
 */
public final class SmtpSink implements AutoCloseable {

    /** One message as it arrived: when its final "." came in, and its idempotency header (null if none). */
    public record Message(long receivedAtMillis, String idempotencyKey) {
    }

    private final ServerSocket listener;
    private final ExecutorService connections;
    private final ConcurrentLinkedQueue<Message> messages = new ConcurrentLinkedQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private volatile Duration latency = Duration.ZERO;

    private SmtpSink() {
        try {
            listener = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("the SMTP sink could not listen on a local port", e);
        }
        AtomicInteger count = new AtomicInteger();
        connections = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "smtp-sink-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        connections.execute(this::accept);
    }

    public static SmtpSink start() {
        return new SmtpSink();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** The pause before each message is accepted (the final 250 after DATA). */
    public SmtpSink latency(Duration latency) {
        this.latency = latency;
        return this;
    }

    /** Every message so far, in arrival order. */
    public List<Message> messages() {
        List<Message> all = new ArrayList<>(messages);
        all.sort((a, b) -> Long.compare(a.receivedAtMillis(), b.receivedAtMillis()));
        return all;
    }

    public void clear() {
        messages.clear();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                connections.execute(() -> session(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void session(Socket socket) {
        try (socket; InputStream in = new BufferedInputStream(socket.getInputStream()); OutputStream out = socket.getOutputStream()) {
            reply(out, "220 smtp-sink ESMTP");
            String line;
            while ((line = readLine(in)) != null) {
                String command = line.length() < 4 ? line.toUpperCase(Locale.ROOT) : line.substring(0, 4).toUpperCase(Locale.ROOT);
                switch (command) {
                    case "EHLO" -> reply(out, "250-smtp-sink\r\n250-8BITMIME\r\n250 SMTPUTF8");
                    case "HELO" -> reply(out, "250 smtp-sink");
                    case "DATA" -> {
                        reply(out, "354 end data with <CR><LF>.<CR><LF>");
                        String key = readMessage(in);
                        messages.add(new Message(System.currentTimeMillis(), key));
                        long pause = latency.toMillis();
                        if (pause > 0) {
                            Thread.sleep(pause);
                        }
                        reply(out, "250 2.0.0 Ok: queued as " + queued.incrementAndGet());
                    }
                    case "QUIT" -> {
                        reply(out, "221 2.0.0 Bye");
                        return;
                    }
                    default -> reply(out, "250 2.0.0 Ok");
                }
            }
        } catch (IOException | InterruptedException gone) {
            // The client closed the connection, or the sink is closing.
        }
    }

    /** Reads the message up to the lone "." and returns its X-Herald-Idempotency-Key header. */
    private static String readMessage(InputStream in) throws IOException {
        String key = null;
        boolean inHeaders = true;
        String line;
        while ((line = readLine(in)) != null && !line.equals(".")) {
            if (inHeaders && line.isEmpty()) {
                inHeaders = false;
            } else if (inHeaders && line.regionMatches(true, 0, "X-Herald-Idempotency-Key:", 0, 25)) {
                key = line.substring(25).trim();
            }
        }
        return key;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        return null;
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
        connections.shutdownNow();
    }
}
