package io.herald.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.List;

import jakarta.mail.MessagingException;

import org.junit.jupiter.api.Test;

/**
 * A delivery that failed for a reason Herald cannot explain (a bug, an error nobody foresaw) says so in words in the
 * ledger and the console, without the error's name or raw text (it can hold SQL, addresses or a provider's internals):
 * only that it was not the provider's answer, where its details are, and what to do.
 */
class UnexpectedErrorReasonTest {

    /**
     * A provider's error page (HTML, here with a stack trace and the push token it was sent) is named, not copied into the
     * ledger and the console; a JSON answer is kept (it is what the provider's API says) with a token it echoes hidden; other
     * text keeps its first line.
     */
    @Test
    void aProvidersErrorPageIsNamedNotCopiedAndATokenItEchoesIsHidden() {
        String token = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
        String page = "<html><body><h1>500</h1><pre>java.lang.NullPointerException\n\tat com.google.fcm.Foo.bar(Foo.java:42)\n token "
                + token + "</pre></body></html>";
        String html = ProviderErrors.readable(new org.apache.camel.http.base.HttpOperationFailedException("https://fcm.example/send", 500,
                "Server Error", null, null, page), "push");
        assertThat(html).isEqualTo("provider answered HTTP 500 Server Error: an HTML error page, not the provider's API answer (a proxy or"
                + " load balancer in front of it, or the provider's server itself failing); its text is not kept");
        String json = ProviderErrors.readable(new org.apache.camel.http.base.HttpOperationFailedException("https://fcm.example/send", 400,
                "Bad Request", null, null, "{\"error\":{\"message\":\"token " + token + " is not valid\",\"status\":\"INVALID_ARGUMENT\"}}"), "push");
        assertThat(json).isEqualTo("provider answered HTTP 400 Bad Request: {\"error\":{\"message\":\"token [token hidden] is not valid\","
                + "\"status\":\"INVALID_ARGUMENT\"}}");
        String text = ProviderErrors.readable(new org.apache.camel.http.base.HttpOperationFailedException("https://sms.example/send", 502,
                "Bad Gateway", null, null, "upstream connect error\njava.io.IOException: reset\n\tat x.y.Z"), "sms");
        assertThat(text).isEqualTo("provider answered HTTP 502 Bad Gateway: upstream connect error");
        // A program's exception as the answer is named too; a recipient the answer quotes is masked as in the logs.
        String exception = ProviderErrors.readable(new org.apache.camel.http.base.HttpOperationFailedException("https://sms.example/send", 500,
                "Server Error", null, null, "java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"to\" is null"), "sms");
        assertThat(exception).isEqualTo("provider answered HTTP 500 Server Error: an error from the provider's own software (an exception's"
                + " text, not the provider's API answer); its text is not kept");
        String quoted = ProviderErrors.readable(new org.apache.camel.http.base.HttpOperationFailedException("https://sms.example/send", 400,
                "Bad Request", null, null, "{\"message\": \"+4915123456789 (lukas.mueller@example.de) is not a valid number\", \"code\": 21211}"), "sms");
        assertThat(quoted).isEqualTo("provider answered HTTP 400 Bad Request: {\"message\": \"+491…6789 (l***@example.de) is not a valid number\","
                + " \"code\": 21211}" + io.herald.testsupport.Samples.TWILIO_21211_ADVICE);
    }

    @Test
    void anUnforeseenErrorIsNamedAndPointedToNotCopied() {
        IllegalStateException bug = new IllegalStateException("SELECT * FROM customer WHERE email = 'jenny.rosen@example.com' failed");
        String reason = ProviderErrors.readable(bug);
        assertThat(reason).isEqualTo("an unexpected error inside Herald, not an answer from the provider; Herald's log has its"
                + " details on the line with this delivery's id; retry the delivery once the cause is fixed");
        assertThat(reason).doesNotContain("SELECT", "jenny", "example.com", "Exception");
        assertThat(ProviderErrors.unexpected(bug)).isTrue();
    }

    @Test
    void theMailServersAnswerAndAnUnresolvableHostAreKnownConditionsInTheirOwnWords() {
        // Angus Mail puts the SMTP server's reply in the message (here a refusal after DATA, as UncertainEmailTest's server answers).
        MessagingException refused = new MessagingException("554 5.7.1 Message rejected as spam\n");
        assertThat(ProviderErrors.readable(new IllegalStateException("wrapped", refused)))
                .isEqualTo("the mail server answered 554 5.7.1 Message rejected as spam");
        assertThat(ProviderErrors.unexpected(refused)).isFalse();
        // A mail error without a reply code is not the server's answer: what caused it speaks (here, nobody listening).
        MessagingException noServer = new MessagingException("Couldn't connect to host, port: localhost, 2525", new ConnectException("Connection refused"));
        assertThat(ProviderErrors.readable(noServer)).startsWith("provider unreachable (connection refused)");
        assertThat(ProviderErrors.readable(new UnknownHostException("sms.example.invalid")))
                .isEqualTo("provider unreachable: its host name sms.example.invalid does not resolve (check herald.<channel>.url or DNS)");
    }

    @Test
    void aKnownConditionKeepsItsOwnWordsAndIsNotLoggedAsUnexpected() {
        ConnectException refused = new ConnectException("Connection refused");
        assertThat(ProviderErrors.readable(refused)).startsWith("provider unreachable (connection refused)");
        assertThat(ProviderErrors.unexpected(refused)).isFalse();
        assertThat(ProviderErrors.unexpected(null)).isFalse();
    }

    /**
     * A network or TLS failure is told in words, never the JDK's text (a certificate failure's reads "PKIX path building
     * failed: sun.security.provider.certpath.SunCertPathBuilderException: …"), and names the channel's own setting.
     */
    @Test
    void networkAndCertificateFailuresAreToldInWordsNamingTheChannelsSetting() {
        javax.net.ssl.SSLHandshakeException untrusted = new javax.net.ssl.SSLHandshakeException("PKIX path building failed: "
                + "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target");
        untrusted.initCause(new java.security.cert.CertPathBuilderException("unable to find valid certification path"));
        assertThat(ProviderErrors.readable(untrusted, "sms")).isEqualTo("provider unreachable: its TLS certificate is not signed by an"
                + " authority Herald's Java trusts (self-signed, or an unknown issuer); nothing was sent. Check the provider's address"
                + " (herald.sms.url) and its certificate");
        javax.net.ssl.SSLHandshakeException otherHost = new javax.net.ssl.SSLHandshakeException("No subject alternative DNS name matching"
                + " push.example found.");
        assertThat(ProviderErrors.readable(new MessagingException("Could not convert socket to TLS", otherHost), "email"))
                .startsWith("provider unreachable: its TLS certificate is for another host name than the one Herald called")
                .endsWith("(herald.mail.host and .port) and its certificate");
        assertThat(ProviderErrors.readable(new javax.net.ssl.SSLException("x", new java.security.cert.CertificateExpiredException("NotAfter: ...")),
                "push")).startsWith("provider unreachable: its TLS certificate has expired;");
        assertThat(ProviderErrors.readable(new java.net.SocketException("Connection reset by peer 10.0.0.7:443"), "ops_webhook"))
                .isEqualTo("the provider closed the connection abruptly (connection reset)");
        assertThat(ProviderErrors.readable(new ConnectException("Connection refused: sms.internal/10.1.2.3:8443"), "sms"))
                .isEqualTo("provider unreachable (connection refused): nothing answers at the address of herald.sms.url (or a"
                        + " firewall refuses Herald); nothing was sent");
        for (Throwable t : List.of(untrusted, otherHost, new java.net.SocketException("Connection reset by peer 10.0.0.7:443"))) {
            assertThat(ProviderErrors.readable(t, "sms")).doesNotContain("sun.", "PKIX", "10.0.0.7", "Exception");
        }
    }
}
