package io.herald.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Properties;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetupTest;
import com.sun.net.httpserver.HttpServer;
import io.herald.testsupport.Browser;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * The local run's mailbox page shows a mail as a reader would see it: the subject decoded, the text part decoded
 * (not quoted-printable), and the HTML part rendered, in a sandboxed frame where its scripts do not run.
 */
class LocalMailboxTest {

    private static final String SUBJECT = "Zahlung fehlgeschlagen – Rechnung für Zoë Müller";
    private GreenMail mail;
    private HttpServer page;

    @BeforeEach
    void start() throws Exception {
        mail = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
        mail.start();
        page = LocalMailbox.serve(mail, 0);
    }

    @AfterEach
    void stop() {
        page.stop(0);
        mail.stop();
    }

    @Test
    void aMultipartMailIsShownDecodedWithItsHtmlRendered() throws Exception {
        send();
        String base = "http://127.0.0.1:" + page.getAddress().getPort();
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/?format=text")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(text).contains("Subject: " + SUBJECT, "Liebe Zoë, Ihre Zahlung über 49,00 € ist fehlgeschlagen.")
                .doesNotContain("=?UTF-8?", "=C3=");

        WebDriver browser = Browser.start();
        try {
            browser.get(base + "/");
            WebElement first = browser.findElement(By.id("mail-1"));
            assertThat(first.findElement(By.className("subject")).getText()).isEqualTo(SUBJECT);
            assertThat(first.findElement(By.className("text")).getText()).contains("Liebe Zoë, Ihre Zahlung über 49,00 € ist fehlgeschlagen.");
            WebElement frame = first.findElement(By.tagName("iframe"));
            assertThat(frame.getAttribute("sandbox")).isEmpty();   // present with no allowances: no scripts, forms or same origin
            browser.switchTo().frame(frame);
            assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Hallo Zoë");
            assertThat(browser.findElement(By.linkText("Jetzt bezahlen")).getAttribute("href")).isEqualTo("https://pay.example.com/in_42");
            assertThat(browser.findElements(By.id("injected"))).as("the mail's script did not run").isEmpty();
        } finally {
            browser.quit();
        }
    }

    /** GreenMail keeps each recipient's mail together; the page lists all of it newest first, whoever it went to. */
    @Test
    void mailToSeveralRecipientsIsListedNewestFirstAcrossThem() throws Exception {
        sendTo("ana@example.net", "first, to Ana", java.time.Instant.parse("2026-12-05T10:00:00Z"));
        sendTo("ben@example.net", "second, to Ben", java.time.Instant.parse("2026-12-05T10:01:00Z"));
        sendTo("ana@example.net", "third, to Ana", java.time.Instant.parse("2026-12-05T10:02:00Z"));
        String base = "http://127.0.0.1:" + page.getAddress().getPort();
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/?format=text")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(text).containsSubsequence("third, to Ana", "second, to Ben", "first, to Ana");
    }

    private void sendTo(String recipient, String subject, java.time.Instant sent) throws Exception {
        Properties properties = new Properties();
        properties.put("mail.smtp.host", "127.0.0.1");
        properties.put("mail.smtp.port", String.valueOf(mail.getSmtp().getPort()));
        MimeMessage message = new MimeMessage(Session.getInstance(properties));
        message.setFrom(new InternetAddress("notifications@herald.local", "Herald"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress(recipient));
        message.setSubject(subject, "UTF-8");
        message.setText("Hello\n", "UTF-8");
        message.setSentDate(java.util.Date.from(sent));
        int before = mail.getReceivedMessages().length;
        Transport.send(message);
        mail.waitForIncomingEmail(5000, before + 1);
    }

    private void send() throws Exception {
        Properties properties = new Properties();
        properties.put("mail.smtp.host", "127.0.0.1");
        properties.put("mail.smtp.port", String.valueOf(mail.getSmtp().getPort()));
        MimeMessage message = new MimeMessage(Session.getInstance(properties));
        message.setFrom(new InternetAddress("notifications@herald.local", "Herald"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress("zoe@example.net", "Zoë Müller", "UTF-8"));
        message.setSubject(SUBJECT, "UTF-8");
        MimeBodyPart text = new MimeBodyPart();
        text.setText("Liebe Zoë, Ihre Zahlung über 49,00 € ist fehlgeschlagen.\n", "UTF-8");
        text.setHeader("Content-Transfer-Encoding", "quoted-printable");
        MimeBodyPart html = new MimeBodyPart();
        html.setContent("<html><body><h1>Hallo Zoë</h1><p>Ihre Zahlung über <b>49,00 €</b> ist fehlgeschlagen.</p>"
                + "<a href=\"https://pay.example.com/in_42\">Jetzt bezahlen</a>"
                + "<script>var p = document.createElement('p'); p.id = 'injected'; document.body.appendChild(p);</script>"
                + "</body></html>", "text/html; charset=UTF-8");
        MimeMultipart alternative = new MimeMultipart("alternative", text, html);
        message.setContent(alternative);
        Transport.send(message);
        mail.waitForIncomingEmail(5000, 1);
    }
}
