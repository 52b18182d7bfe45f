package io.herald.testsupport;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Signs test payloads the way the real senders do (see samples/support/SIGNATURE.md). */
public final class Signatures {

    private Signatures() {
    }

    public static String zendesk(String secret, String timestamp, byte[] body) {
        return Base64.getEncoder().encodeToString(hmac(secret, concat(timestamp.getBytes(StandardCharsets.UTF_8), body)));
    }

    /** Stripe-Signature value: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "t.body")> for each secret given. */
    public static String stripe(long unixSeconds, byte[] body, String... secrets) {
        StringBuilder header = new StringBuilder("t=" + unixSeconds);
        for (String secret : secrets) {
            header.append(",v1=").append(java.util.HexFormat.of().formatHex(
                    hmac(secret, concat((unixSeconds + ".").getBytes(StandardCharsets.UTF_8), body))));
        }
        return header.toString();
    }

    static byte[] hmac(String secret, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(data);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
