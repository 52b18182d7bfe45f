package io.herald.local;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TimeZone;

import com.icegreen.greenmail.util.GreenMail;
import com.sun.net.httpserver.HttpServer;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;

/**
 * The local run's mailbox page (local run only): the mail the in-process SMTP server received, newest first,
 * decoded as a mail client shows it: subject and addresses (RFC 2047 words decoded), the text part (quoted-printable
 * or base64 decoded), and the HTML part rendered in a sandboxed iframe (no scripts, no forms, no access to this
 * page). {@code /?format=text} gives the same as plain text.
 */
final class LocalMailbox {

    /** One received mail, decoded. */
    record Mail(String to, String from, String subject, String date, String text, String html) {
    }

    private LocalMailbox() {
    }

    static HttpServer serve(GreenMail mail, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/", exchange -> {
            List<Mail> mails = read(mail);
            boolean text = String.valueOf(exchange.getRequestURI().getQuery()).contains("format=text");
            byte[] page = (text ? text(mails) : html(mails)).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", (text ? "text/plain" : "text/html") + "; charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(page);
            }
        });
        server.start();
        return server;
    }

    private static java.util.Date when(MimeMessage message) {
        try {
            java.util.Date received = message.getReceivedDate();
            java.util.Date sent = message.getSentDate();
            return received != null ? received : sent != null ? sent : new java.util.Date(0);
        } catch (jakarta.mail.MessagingException e) {
            return new java.util.Date(0);
        }
    }

    /** Every received mail, newest first. */
    static List<Mail> read(GreenMail mail) {
        List<MimeMessage> messages = new ArrayList<>(Arrays.asList(mail.getReceivedMessages()));
        java.util.Collections.reverse(messages);
        // GreenMail lists the mail of one recipient after another: newest first across recipients, by when it came.
        messages.sort(java.util.Comparator.comparing(LocalMailbox::when).reversed());
        SimpleDateFormat date = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss 'UTC'");
        date.setTimeZone(TimeZone.getTimeZone("UTC"));
        List<Mail> mails = new ArrayList<>();
        for (MimeMessage message : messages) {
            try {
                String[] parts = new String[2];
                collect(message, parts);
                mails.add(new Mail(addresses(message.getRecipients(Message.RecipientType.TO)), addresses(message.getFrom()),
                        message.getSubject(), message.getSentDate() == null ? "" : date.format(message.getSentDate()),
                        parts[0], parts[1]));
            } catch (MessagingException | IOException e) {
                mails.add(new Mail("", "", "(this message could not be read: " + e.getMessage() + ")", "", null, null));
            }
        }
        return mails;
    }

    /** The first text/plain part into parts[0], the first text/html into parts[1], decoded. */
    private static void collect(Part part, String[] parts) throws MessagingException, IOException {
        if (part.isMimeType("multipart/*")) {
            Multipart multipart = (Multipart) part.getContent();
            for (int i = 0; i < multipart.getCount(); i++) {
                collect(multipart.getBodyPart(i), parts);
            }
        } else if (part.isMimeType("text/plain") && parts[0] == null && !Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())) {
            parts[0] = String.valueOf(part.getContent());
        } else if (part.isMimeType("text/html") && parts[1] == null && !Part.ATTACHMENT.equalsIgnoreCase(part.getDisposition())) {
            parts[1] = String.valueOf(part.getContent());
        }
    }

    private static String addresses(Address[] addresses) {
        return addresses == null ? "" : String.join(", ", Arrays.stream(addresses).map(Address::toString)
                .map(a -> {
                    try {
                        return jakarta.mail.internet.MimeUtility.decodeText(a);
                    } catch (java.io.UnsupportedEncodingException e) {
                        return a;
                    }
                }).toList());
    }

    private static String html(List<Mail> mails) {
        StringBuilder page = new StringBuilder("""
                <!DOCTYPE html><html><head><meta charset="utf-8"><title>Herald local mailbox</title>
                <meta http-equiv="refresh" content="10">
                <style>body{font:14px system-ui,sans-serif;margin:1rem 2rem;color:#222} .mail{border:1px solid #ccc;border-radius:6px;
                margin:1rem 0;padding:.5rem 1rem} .head{color:#555} .subject{font-size:16px;font-weight:600;color:#000}
                pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem} iframe{width:100%;height:320px;border:1px solid #ddd}</style>
                </head><body><h1>Herald local mailbox</h1>""");
        page.append("<p>").append(mails.size()).append(" message(s) received, newest first (the page refreshes every 10 s;"
                + " <a href=\"/?format=text\">as text</a>).</p>");
        int n = mails.size();
        for (Mail mail : mails) {
            page.append("<div class=\"mail\" id=\"mail-").append(n--).append("\">")
                    .append("<div class=\"subject\">").append(escape(mail.subject())).append("</div>")
                    .append("<div class=\"head\">To: ").append(escape(mail.to())).append(" · From: ").append(escape(mail.from()))
                    .append(mail.date().isEmpty() ? "" : " · " + escape(mail.date())).append("</div>");
            if (mail.html() != null) {
                page.append("<h4>HTML</h4><iframe sandbox title=\"HTML part\" srcdoc=\"").append(escape(mail.html())).append("\"></iframe>");
            }
            if (mail.text() != null) {
                page.append("<h4>Text</h4><pre class=\"text\">").append(escape(mail.text().strip())).append("</pre>");
            }
            page.append("</div>");
        }
        return page.append("</body></html>").toString();
    }

    private static String text(List<Mail> mails) {
        StringBuilder page = new StringBuilder("Herald local mailbox: " + mails.size() + " message(s) received, newest first\n\n");
        int n = mails.size();
        for (Mail mail : mails) {
            page.append("#").append(n--).append("  To: ").append(mail.to())
                    .append("\n    From: ").append(mail.from())
                    .append("\n    Subject: ").append(mail.subject())
                    .append("\n\n").append(mail.text() == null ? "    (no text part)\n" : mail.text().strip().indent(4)).append("\n");
        }
        return page.toString();
    }

    private static String escape(String text) {
        if (text == null) {
            return "";
        }
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
