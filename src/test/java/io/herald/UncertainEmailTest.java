package io.herald;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.herald.dispatch.SmtpConnections;
import io.herald.testsupport.HeraldIntegrationTest;
import io.herald.testsupport.Samples;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Email is never sent twice by Herald itself. An SMTP server that takes the whole message after
 * DATA and then never gives its final answer may have delivered it: the delivery is UNCERTAIN with
 * a reason a person can act on, and it is not retried or parked (the server sees one message). A
 * server that refuses the message after DATA gave a definite answer: that is a plain failure.
 * The email channel's real sender is pointed at a tiny SMTP server in this test for its duration.
 */
class UncertainEmailTest extends HeraldIntegrationTest {

    @Autowired
    SmtpConnections smtp;

    private ScriptedSmtpServer server;
    private String originalHost;
    private int originalPort;
    private Object originalReadTimeout;

    @BeforeEach
    void pointTheEmailChannelAtTheScriptedServer() throws IOException {
        server = new ScriptedSmtpServer();
        originalHost = smtp.getHost();
        originalPort = smtp.getPort();
        originalReadTimeout = smtp.getJavaMailProperties().get("mail.smtp.timeout");
        smtp.getJavaMailProperties().put("mail.smtp.timeout", "4000");
        smtp.setHost("127.0.0.1");
        smtp.setPort(server.port());
        smtp.setSession(null);
        smtp.destroy();   // connections kept to the usual server are closed, new ones go to this one
    }

    @AfterEach
    void pointItBack() throws IOException {
        smtp.getJavaMailProperties().put("mail.smtp.timeout", originalReadTimeout);
        smtp.setHost(originalHost);
        smtp.setPort(originalPort);
        smtp.setSession(null);
        smtp.destroy();
        server.close();
    }

    @Test
    void noFinalAnswerAfterDataMakesTheEmailUncertainAndItIsNeverSentAgain() throws Exception {
        server.finalReply = null;   // takes the message, never answers
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "UNCERTAIN"));
        assertThat(delivery(key, "email").get("reason").toString())
                .startsWith("email outcome unknown: the SMTP server took the message (DATA) but gave no final answer")
                .contains("herald.mail.read-timeout-ms", "it may have been delivered")
                .endsWith("check whether the customer received it, and resend if not");
        assertThat(attempts(key)).extracting(a -> a.get("outcome")).containsExactly("UNCERTAIN");
        // Not retried, not parked: the server received the message once, and no other try follows.
        await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).untilAsserted(() -> {
            assertThat(server.messagesFor(key)).isEqualTo(1);
            assertThat(delivery(key, "email")).containsEntry("state", "UNCERTAIN");
        });
        // The other channels went out as usual.
        assertThat(delivery(key, "sms")).containsEntry("state", "SENT");
    }

    @Test
    void aRefusalAfterDataIsADefiniteAnswerAndFailsTheEmail() throws Exception {
        server.finalReply = "554 5.7.1 Message rejected as spam";
        String unique = newTicketId();
        String key = Samples.paymentFailedKey(unique);
        postSignedBilling(Samples.paymentFailed(unique));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(delivery(key, "email")).containsEntry("state", "FAILED"));
        assertThat(delivery(key, "email").get("reason").toString()).contains("554 5.7.1 Message rejected as spam");
        assertThat(server.messagesFor(key)).isEqualTo(1);
    }

    private Map<String, Object> delivery(String key, String channel) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT d.* FROM delivery d JOIN notification n ON n.id = d.notification_id"
                + " WHERE n.idempotency_key = ? AND d.channel = ?", key, channel);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    private List<Map<String, Object>> attempts(String key) {
        return jdbc.queryForList("SELECT a.outcome, a.reason FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id"
                + " JOIN notification n ON n.id = d.notification_id WHERE n.idempotency_key = ? AND d.channel = 'email' ORDER BY a.id", key);
    }

    /** An SMTP server on a raw socket: answers every command, takes DATA, then gives finalReply (null: never answers). */
    static final class ScriptedSmtpServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<String> messages = new CopyOnWriteArrayList<>();
        private final List<Socket> clients = new CopyOnWriteArrayList<>();
        private final AtomicInteger sessions = new AtomicInteger();
        volatile String finalReply;

        ScriptedSmtpServer() throws IOException {
            Thread accept = new Thread(this::accept, "scripted-smtp");
            accept.setDaemon(true);
            accept.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        long messagesFor(String idempotencyKey) {
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
                reply(out, "220 scripted ESMTP");
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    String command = line.toUpperCase();
                    if (command.startsWith("EHLO")) {
                        reply(out, "250 scripted");
                    } else if (command.startsWith("DATA")) {
                        reply(out, "354 go ahead");
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
            }
        }

        private static void reply(OutputStream out, String line) throws IOException {
            out.write((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket client : clients) {
                client.close();
            }
        }
    }
}
