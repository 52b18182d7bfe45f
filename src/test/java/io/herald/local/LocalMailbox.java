package io.herald.local;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.sun.net.httpserver.HttpServer;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;

/** A plain-text page listing the mail the local SMTP server received, newest last (local run only). */
final class LocalMailbox {

    private LocalMailbox() {
    }

    static HttpServer serve(GreenMail mail, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", exchange -> {
            byte[] page = render(mail).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(page);
            }
        });
        server.start();
        return server;
    }

    private static String render(GreenMail mail) {
        MimeMessage[] messages = mail.getReceivedMessages();
        StringBuilder page = new StringBuilder("Herald local mailbox: " + messages.length + " message(s) received\n\n");
        int n = 0;
        for (MimeMessage message : messages) {
            try {
                page.append("#").append(++n).append("  To: ").append(String.join(", ",
                                java.util.Arrays.stream(message.getRecipients(Message.RecipientType.TO)).map(Object::toString).toList()))
                        .append("\n    From: ").append(message.getFrom()[0])
                        .append("\n    Subject: ").append(message.getSubject())
                        .append("\n\n").append(GreenMailUtil.getBody(message).strip().indent(4)).append("\n");
            } catch (MessagingException e) {
                page.append("#").append(++n).append(" unreadable: ").append(e.getMessage()).append("\n");
            }
        }
        return page.toString();
    }
}
