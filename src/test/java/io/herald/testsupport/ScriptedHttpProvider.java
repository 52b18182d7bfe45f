package io.herald.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An HTTP provider on a raw socket, on a fixed port, for what WireMock cannot be made to do: take the
 * whole request and close the connection without an answer, or after the first bytes of an accepting one; refuse connections (nothing listening);
 * or take no connection at all, so a client's connect times out (a listening socket whose accept queue
 * is full). Every request it took in full is kept (its Idempotency-Key header).
 */
public final class ScriptedHttpProvider implements AutoCloseable {

    private final int port;
    private final List<String> keys = new CopyOnWriteArrayList<>();
    private final List<Socket> held = new ArrayList<>();
    private volatile ServerSocket socket;

    public ScriptedHttpProvider() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    /** Idempotency-Key of every request taken in full, in order. */
    public List<String> requestKeys() {
        return List.copyOf(keys);
    }

    /** Takes each request in full, then closes the connection without a word. */
    public synchronized void takeRequestsAndCloseWithoutAnswer() throws IOException {
        serve(null);
    }

    /**
     * Takes each request in full and answers 200 with a Content-Length of 100, then closes the connection after a few bytes
     * of the body: the provider accepted it, and its answer was cut off before it was read.
     */
    public synchronized void acceptRequestsThenCutTheAnswer() throws IOException {
        serve(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                + "{\"name\": \"projects/herald-local/mess").getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Takes each request in full, writes {@code answer} (nothing when null), then closes the connection. */
    private void serve(byte[] answer) throws IOException {
        stop();
        socket = listen(50);
        ServerSocket listening = socket;
        Thread accept = new Thread(() -> {
            while (!listening.isClosed()) {
                try (Socket client = listening.accept()) {
                    String key = readRequest(client.getInputStream());
                    if (key != null) {
                        keys.add(key);
                        if (answer != null) {
                            client.getOutputStream().write(answer);
                            client.getOutputStream().flush();
                        }
                    }
                } catch (IOException e) {
                    // closed, or a client that went away: nothing more to say
                }
            }
        }, "scripted-http-provider");
        accept.setDaemon(true);
        accept.start();
    }

    /** Nothing listens on the port: every connection is refused. */
    public synchronized void refuseConnections() throws IOException {
        stop();
    }

    /**
     * Listens but never accepts, with its accept queue filled by idle connections, so a new connection
     * is never completed and the client's connect times out; checked before returning.
     */
    public synchronized void neverCompleteConnections() throws IOException {
        stop();
        socket = listen(1);
        for (int i = 0; i < 20; i++) {
            Socket filler = new Socket();
            try {
                filler.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                held.add(filler);
            } catch (SocketTimeoutException full) {
                filler.close();
                return;
            }
        }
        throw new IllegalStateException("the accept queue of port " + port + " never filled up");
    }

    /**
     * Listens on the port again. Connections of the previous script may hold it for a moment after they were closed (the
     * kernel lets them finish): binding is tried again for up to 10 s.
     */
    private ServerSocket listen(int backlog) throws IOException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (true) {
            ServerSocket server = new ServerSocket();
            server.setReuseAddress(true);
            try {
                server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
                return server;
            } catch (java.net.BindException busy) {
                server.close();
                if (System.nanoTime() > deadline) {
                    throw busy;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    private void stop() throws IOException {
        for (Socket filler : held) {
            filler.close();
        }
        held.clear();
        if (socket != null) {
            socket.close();
            socket = null;
        }
    }

    /** Reads one request (head and Content-Length body); its Idempotency-Key, or null if it was not complete. */
    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            head.write(b);
            byte[] bytes = head.toByteArray();
            int n = bytes.length;
            if (n >= 4 && bytes[n - 4] == '\r' && bytes[n - 3] == '\n' && bytes[n - 2] == '\r' && bytes[n - 1] == '\n') {
                break;
            }
        }
        String key = null;
        int length = 0;
        for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
            String lower = line.toLowerCase(Locale.ROOT);
            if (lower.startsWith("idempotency-key:")) {
                key = line.substring(line.indexOf(':') + 1).strip();
            } else if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return in.readNBytes(length).length == length && b != -1 ? key : null;
    }

    @Override
    public synchronized void close() throws IOException {
        stop();
    }
}
