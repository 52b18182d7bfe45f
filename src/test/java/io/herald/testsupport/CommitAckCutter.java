package io.herald.testsupport;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A TCP proxy in front of PostgreSQL that reads the wire protocol (v3) both ways and, once armed, cuts the connection of
 * the next transaction that ran a chosen statement right when PostgreSQL acknowledges its COMMIT: the transaction is
 * committed in the database, and the client only sees its connection drop (an I/O error on COMMIT). That is the lost
 * COMMIT acknowledgement a crash of the network, a proxy or a failover can cause, which stopping the database cannot.
 *
 * <p>Or, with {@link #hangAt}, it leaves the next such statement without an answer: the connection stays open and
 * PostgreSQL's answer never reaches the client, as when a failover or a network path drops a connection without closing it.
 *
 * <p>Statements are recognised when they are bound (a Bind message): by their SQL text, which the Parse of their statement
 * named, and a value among their parameters. Everything else is passed through unchanged. Not for production: no TLS
 * ({@link #through} turns encryption requests off).
 */
public final class CommitAckCutter implements Closeable {

    private static final int SSL_REQUEST = 80877103;
    private static final int GSS_REQUEST = 80877104;

    private final ServerSocket listener;
    private final int serverPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean armed = new AtomicBoolean();
    private final AtomicInteger cuts = new AtomicInteger();
    private final AtomicInteger hangs = new AtomicInteger();
    /** Armed to leave the statement's connection without an answer, not to cut its COMMIT acknowledgement. */
    private volatile boolean hang;
    private volatile Predicate<String> statement = sql -> false;
    private volatile byte[] parameters = new byte[0];

    private CommitAckCutter(int serverPort) throws IOException {
        this.serverPort = serverPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "commit-ack-cutter");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A cutter in front of the PostgreSQL of {@code url} (jdbc:postgresql://localhost:PORT/db). */
    public static CommitAckCutter inFrontOf(String url) throws IOException {
        java.util.regex.Matcher port = java.util.regex.Pattern.compile("localhost:(\\d+)/").matcher(url);
        if (!port.find()) {
            throw new IllegalArgumentException("not a local PostgreSQL URL: " + url);
        }
        return new CommitAckCutter(Integer.parseInt(port.group(1)));
    }

    /** The JDBC URL {@code url} (jdbc:postgresql://localhost:PORT/db) through this cutter, without encryption requests. */
    public String through(String url) {
        return url.replace("localhost:" + serverPort + "/", "localhost:" + listener.getLocalPort() + "/")
                + (url.contains("?") ? "&" : "?") + "sslmode=disable&gssEncMode=disable";
    }

    /**
     * Cuts, once, the COMMIT acknowledgement of the next transaction that runs a statement whose SQL matches with a
     * parameter that contains {@code inParameters} (as UTF-8 bytes of its Bind message: a text or a text array).
     */
    public void armFor(Predicate<String> sql, String inParameters) {
        hang = false;
        statement = sql;
        parameters = inParameters.getBytes(StandardCharsets.UTF_8);
        armed.set(true);
    }

    /**
     * Leaves, once, the connection that binds the next statement whose SQL matches with a parameter that contains
     * {@code inParameters} without any answer from then on: open, silent, until the client closes it.
     */
    public void hangAt(Predicate<String> sql, String inParameters) {
        statement = sql;
        parameters = inParameters.getBytes(StandardCharsets.UTF_8);
        hang = true;
        armed.set(true);
    }

    /** How many connections it left without an answer. */
    public int hangs() {
        return hangs.get();
    }

    /** How many COMMIT acknowledgements it cut. */
    public int cuts() {
        return cuts.get();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort);
                // Each message is written as it is read: without TCP_NODELAY, Nagle's algorithm and delayed ACKs made every
                // round trip wait ~40 ms (Flyway's migrations took 80 s through the cutter instead of under one).
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                Connection connection = new Connection(client, server);
                start(connection::clientToServer, "commit-ack-cutter-c2s");
                start(connection::serverToClient, "commit-ack-cutter-s2c");
            } catch (IOException e) {
                return;   // closed
            }
        }
    }

    private static void start(Runnable pump, String name) {
        Thread thread = new Thread(pump, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** One client connection and its connection to PostgreSQL. */
    private final class Connection {
        private final Socket client;
        private final Socket server;
        private final Map<String, String> prepared = new HashMap<>();
        /** Single-byte answers the server owes (to SSL and GSS encryption requests), passed through before any message. */
        private final AtomicInteger owedBytes = new AtomicInteger();
        /** This connection ran the statement in its current transaction: its next COMMIT acknowledgement is cut. */
        private volatile boolean marked;
        /** Left without an answer ({@link #hangAt}): nothing from PostgreSQL reaches the client any more. */
        private volatile boolean silent;

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }

        void clientToServer() {
            try (DataInputStream in = new DataInputStream(client.getInputStream()); OutputStream out = server.getOutputStream()) {
                while (true) {   // untyped: encryption requests, then the startup message
                    int length = in.readInt();
                    byte[] body = in.readNBytes(length - 4);
                    int code = length >= 8 ? java.nio.ByteBuffer.wrap(body, 0, 4).getInt() : 0;
                    if (code == SSL_REQUEST || code == GSS_REQUEST) {
                        owedBytes.incrementAndGet();
                    }
                    write(out, null, length, body);
                    if (code != SSL_REQUEST && code != GSS_REQUEST) {
                        break;
                    }
                }
                while (true) {
                    int type = in.readUnsignedByte();
                    int length = in.readInt();
                    byte[] body = in.readNBytes(length - 4);
                    String sql = switch (type) {
                        case 'Q' -> cString(body, 0);
                        case 'P' -> {
                            String name = cString(body, 0);
                            String text = cString(body, name.getBytes(StandardCharsets.UTF_8).length + 1);
                            prepared.put(name, text);
                            yield text;
                        }
                        case 'B' -> {
                            String portal = cString(body, 0);
                            yield prepared.get(cString(body, portal.getBytes(StandardCharsets.UTF_8).length + 1));
                        }
                        default -> null;
                    };
                    if (type == 'B' && sql != null && armed.get() && statement.test(sql) && contains(body, parameters)) {
                        if (hang && armed.compareAndSet(true, false)) {
                            hangs.incrementAndGet();
                            silent = true;   // PostgreSQL runs it; its answer, and every later one, is dropped
                        } else if (!hang) {
                            marked = true;
                        }
                    }
                    write(out, (byte) type, length, body);
                }
            } catch (IOException e) {
                closeBoth();
            }
        }

        void serverToClient() {
            try (DataInputStream in = new DataInputStream(server.getInputStream()); OutputStream out = client.getOutputStream()) {
                while (true) {
                    if (owedBytes.get() > 0) {
                        out.write(in.readUnsignedByte());
                        out.flush();
                        owedBytes.decrementAndGet();
                        continue;
                    }
                    int type = in.readUnsignedByte();
                    int length = in.readInt();
                    byte[] body = in.readNBytes(length - 4);
                    if (silent) {
                        continue;
                    }
                    String tag = type == 'C' ? cString(body, 0) : "";
                    if (marked && tag.equals("COMMIT") && armed.compareAndSet(true, false)) {
                        cuts.incrementAndGet();   // committed in PostgreSQL; the client never hears of it
                        closeBoth();
                        return;
                    }
                    if (type == 'Z' && body.length == 1 && body[0] == 'I') {
                        marked = false;   // idle: its transaction ended without a cut (a savepoint's ROLLBACK TO is not its end)
                    }
                    write(out, (byte) type, length, body);
                }
            } catch (IOException e) {
                closeBoth();
            }
        }

        private void closeBoth() {
            try {
                client.close();
                server.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    private static void write(OutputStream out, Byte type, int length, byte[] body) throws IOException {
        byte[] message = new byte[(type == null ? 0 : 1) + 4 + body.length];
        int at = 0;
        if (type != null) {
            message[at++] = type;
        }
        message[at++] = (byte) (length >>> 24);
        message[at++] = (byte) (length >>> 16);
        message[at++] = (byte) (length >>> 8);
        message[at++] = (byte) length;
        System.arraycopy(body, 0, message, at, body.length);
        out.write(message);
        out.flush();
    }

    private static boolean contains(byte[] body, byte[] part) {
        outer:
        for (int at = 0; at + part.length <= body.length; at++) {
            for (int i = 0; i < part.length; i++) {
                if (body[at + i] != part[i]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The zero-terminated string at {@code from}. */
    private static String cString(byte[] body, int from) {
        int end = from;
        while (end < body.length && body[end] != 0) {
            end++;
        }
        return new String(body, from, end - from, StandardCharsets.UTF_8);
    }
}
