package io.herald.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An SMTP server on a raw socket, for the replies a real one cannot be made to give: it answers
 * every command, takes the message after DATA, then gives the final reply it was told (none: it
 * never answers); or it goes silent at a given command (e.g. "RCPT"), before DATA; or it stops reading
 * once it has answered DATA. Its greeting, and its reply to a given command, can be set (e.g. "421 …" or "451 …").
 */
public final class ScriptedSmtpServer implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    private final List<String> messages = new CopyOnWriteArrayList<>();
    private final List<Socket> clients = new CopyOnWriteArrayList<>();
    private final AtomicInteger sessions = new AtomicInteger();
    private volatile String finalReply = "250 2.0.0 queued";
    private volatile String silentAt;
    private volatile String greeting = "220 scripted ESMTP";
    private final java.util.Map<String, String> replies = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private volatile boolean deafAtData;
    private final CountDownLatch closed = new CountDownLatch(1);

    public ScriptedSmtpServer() throws IOException {
        Thread accept = new Thread(this::accept, "scripted-smtp");
        accept.setDaemon(true);
        accept.start();
    }

    /** The reply after the message (null: none, ever). */
    public void finalReply(String reply) {
        finalReply = reply;
    }

    /** The server's first line to every new connection (a 421 turns the client away). */
    public void greeting(String line) {
        greeting = line;
    }

    /** The reply to a command (e.g. "RCPT", "MAIL") instead of its usual one; null: the usual one again. */
    public void replyAt(String command, String reply) {
        if (reply == null) {
            replies.remove(command);
        } else {
            replies.put(command, reply);
        }
    }

    /** Every command the server received, in order (the message's lines after DATA are not commands). */
    public List<String> commands() {
        return List.copyOf(commands);
    }

    /** A command (e.g. "RCPT") at which the server stops answering. */
    public void silentAt(String command) {
        silentAt = command;
    }

    /** After answering DATA, the server reads nothing more: the client's writes fill the socket and block. */
    public void deafAtData() {
        deafAtData = true;
    }

    /** How many connections the server has accepted. */
    public int sessions() {
        return sessions.get();
    }

    /** How many messages the server has taken in full (up to the final dot). */
    public int messages() {
        return messages.size();
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** The Message-ID header of the message this server took for the notification's email (null if none). */
    public String messageIdFor(String idempotencyKey) {
        return messages.stream().map(m -> m.replace("\n ", " ").replace("\n\t", " "))
                .filter(m -> m.contains(idempotencyKey + ":email\n")).flatMap(m -> m.lines())
                .filter(line -> line.regionMatches(true, 0, "Message-ID:", 0, 11)).map(line -> line.substring(11).strip())
                .findFirst().orElse(null);
    }

    public long messagesFor(String idempotencyKey) {
        return messages.stream().map(m -> m.replace("\n ", " ").replace("\n\t", " "))
                .filter(m -> m.contains(idempotencyKey + ":email\n")).count();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket client = socket.accept();
                clients.add(client);
                Thread session = new Thread(() -> serve(client), "scripted-smtp-" + sessions.incrementAndGet());
                session.setDaemon(true);
                session.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1));
            OutputStream out = client.getOutputStream();
            String hello = greeting;
            reply(out, hello);
            if (!hello.startsWith("220")) {
                return;   // turned away: the connection is closed, as a real server does
            }
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String command = line.toUpperCase();
                commands.add(line);
                if (silentAt != null && command.startsWith(silentAt)) {
                    in.readLine();   // never answers
                    return;
                }
                String scripted = replies.entrySet().stream().filter(r -> command.startsWith(r.getKey())).map(java.util.Map.Entry::getValue)
                        .findFirst().orElse(null);
                if (scripted != null) {
                    reply(out, scripted);
                } else if (command.startsWith("EHLO")) {
                    // AUTH offered, as a submission server does: a client that would log in in clear would do it here.
                    reply(out, "250-scripted\r\n250 AUTH PLAIN LOGIN");
                } else if (command.startsWith("AUTH")) {
                    reply(out, "235 2.7.0 authenticated");
                } else if (command.startsWith("DATA")) {
                    reply(out, "354 go ahead");
                    if (deafAtData) {
                        closed.await();   // reads nothing more until the server is closed
                        return;
                    }
                    StringBuilder message = new StringBuilder();
                    for (String data = in.readLine(); data != null && !data.equals("."); data = in.readLine()) {
                        message.append(data).append('\n');
                    }
                    messages.add(message.toString());
                    if (finalReply == null) {
                        in.readLine();   // never answers: waits until the client gives up and closes
                        return;
                    }
                    reply(out, finalReply);
                } else if (command.startsWith("QUIT")) {
                    reply(out, "221 bye");
                    return;
                } else {
                    reply(out, "250 ok");
                }
            }
        } catch (IOException gone) {
            // the client closed the connection
        } catch (InterruptedException stopped) {
            Thread.currentThread().interrupt();
        }
    }

    private static void reply(OutputStream out, String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        closed.countDown();
        socket.close();
        for (Socket client : clients) {
            client.close();
        }
    }
}
