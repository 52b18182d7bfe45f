package io.herald.receipts;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.herald.config.SmsSettings;
import io.herald.ingest.InboundRejected;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/**
 * X-Twilio-Signature as Twilio's own validators accept it. Twilio's signing is inconsistent about the port: twilio-python and
 * twilio-csharp compute the signature over the URL with the scheme's default port added and with any port removed, and accept
 * either ("check signature of uri with and without port, since sig generation on back end is inconsistent"). A callback Twilio
 * signed over https://herald.example.com:443/... is a real request and must not be refused 401 (its receipt would be lost); a
 * signature over another port or host is still refused.
 */
class TwilioSignaturePortTest {

    private static final String TOKEN = "token";
    private static final String BODY = "AccountSid=ACdemo&ErrorCode=30006&MessageSid=SM123&MessageStatus=undelivered&To=%2B15005550006";
    private static final String PARAMS = "AccountSidACdemoErrorCode30006MessageSidSM123MessageStatusundeliveredTo+15005550006";

    @Test
    void aSignatureOverTheUrlWithoutPortIsAccepted() {
        assertThatCode(() -> verify("https://herald.example.com", "https://herald.example.com/webhooks/sms/status?ref=4711"))
                .doesNotThrowAnyException();
    }

    @Test
    void aSignatureOverTheUrlWithTheDefaultHttpsPortIsAcceptedAsTwiliosValidatorsDo() {
        assertThatCode(() -> verify("https://herald.example.com", "https://herald.example.com:443/webhooks/sms/status?ref=4711"))
                .doesNotThrowAnyException();
    }

    @Test
    void aBaseUrlWrittenWithItsDefaultPortAcceptsASignatureWithoutIt() {
        assertThatCode(() -> verify("https://herald.example.com:443", "https://herald.example.com/webhooks/sms/status?ref=4711"))
                .doesNotThrowAnyException();
    }

    @Test
    void aSignatureOverAnotherPortOrHostIsStillRefused() {
        assertThatThrownBy(() -> verify("https://herald.example.com", "https://herald.example.com:8443/webhooks/sms/status?ref=4711"))
                .isInstanceOf(InboundRejected.class);
        assertThatThrownBy(() -> verify("https://herald.example.com", "https://evil.example.com/webhooks/sms/status?ref=4711"))
                .isInstanceOf(InboundRejected.class);
        assertThatThrownBy(() -> verify("https://herald.example.com", "https://herald.example.com/webhooks/sms/status?ref=4712"))
                .isInstanceOf(InboundRejected.class);
    }

    private static void verify(String baseUrl, String signedUrl) throws Exception {
        SmsSettings settings = new SmsSettings("http://sms.example/Messages.json", "ACdemo", TOKEN, "+15005550006", 10, 16, null, null,
                false, null, null, null, null, baseUrl, 1600, 10);
        SmsStatusCallbacks callbacks = new SmsStatusCallbacks(settings, null);
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(Exchange.HTTP_URL, "http://10.0.0.5:8080/webhooks/sms/status");
        exchange.getMessage().setHeader(Exchange.HTTP_PATH, "/webhooks/sms/status");
        exchange.getMessage().setHeader(Exchange.HTTP_QUERY, "ref=4711");
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/x-www-form-urlencoded");
        exchange.getMessage().setBody(BODY.getBytes(StandardCharsets.UTF_8));
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(TOKEN.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        String signature = Base64.getEncoder().encodeToString(mac.doFinal((signedUrl + PARAMS).getBytes(StandardCharsets.UTF_8)));
        exchange.getMessage().setHeader(SmsStatusCallbacks.SIGNATURE_HEADER, signature);
        callbacks.verify(exchange);
    }
}
