package io.herald.receipts;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.herald.config.SmsSettings;
import io.herald.ingest.InboundRejected;
import io.herald.dispatch.SmsRequest;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Twilio-style SMS status callbacks (POST /webhooks/sms/status, form-encoded). Verified the way Twilio
 * signs them: X-Twilio-Signature is base64(HMAC-SHA1(auth token, full URL + each POST parameter's name
 * and value, sorted by name)). The URL is the one Twilio called: under herald.sms.webhook-base-url when Herald
 * sits behind a proxy (its public address), otherwise the request's own. Matched by MessageSid to the sid
 * the Messages API returned when Herald sent it (delivery.provider_message_id), or, for an SMS whose answer never came
 * (UNCERTAIN, no sid), by the delivery its callback URL names (?ref=&lt;delivery id&gt;, {@link SmsRequest}; covered by the
 * signature, which is over the whole URL).
 */
@Component
public class SmsStatusCallbacks {

    public static final String SIGNATURE_HEADER = "X-Twilio-Signature";
    static final String FORM = "heraldForm";

    /** Carrier error codes that mean the number can never receive: the address is suppressed. */
    private static final Map<String, String> NEVER_RECEIVES = Map.of(
            "21610", "the recipient unsubscribed from this sender by replying STOP (carrier error 21610)",
            "30005", "the number is unknown or no longer exists (carrier error 30005)",
            "30006", "the number is a landline or cannot receive SMS (carrier error 30006)");
    /** Twilio's other common undelivered codes (its error pages 30001 to 30008 and 30034), in words with what to do. */
    private static final Map<String, String> READABLE = Map.of(
            "30003", "the handset is unreachable (switched off or out of coverage; carrier error 30003)",
            "30007", "the carrier filtered the message as spam (carrier error 30007)",
            "30001", "the SMS provider's queue for the sending number overflowed, more was sent than it sends per second (carrier error"
                    + " 30001); retry the delivery, and lower herald.sms.rate-per-second if it happens again",
            "30002", "the SMS provider's account was suspended before the message went out (carrier error 30002); the account's owner"
                    + " must settle it with the provider (billing or a policy notice), then retry the delivery",
            "30004", "the message was blocked: the recipient blocked the sending number, or their carrier refuses messages from it"
                    + " (carrier error 30004); ask the customer to unblock it or to use another channel",
            "30008", "the carrier could not deliver it and gave no reason (carrier error 30008, unknown error); retry the delivery once,"
                    + " and if it fails again ask the customer whether their phone receives SMS from other senders",
            "30034", "the sending number is not registered for US business texting (A2P 10DLC), so US carriers refuse its messages"
                    + " (carrier error 30034); register the number's brand and campaign with the provider, then retry the delivery");

    private final byte[] authToken;

    private final String publicBaseUrl;
    private final DeliveryReceipts receipts;

    public SmsStatusCallbacks(SmsSettings sms, DeliveryReceipts receipts) {
        this.authToken = sms.authToken().getBytes(StandardCharsets.UTF_8);
        this.publicBaseUrl = sms.webhookBaseUrl();
        this.receipts = receipts;
    }

    /** 401 unless the signature matches; 415/400 unless the body is a UTF-8 form. Leaves the parameters in heraldForm. */
    public void verify(Exchange exchange) {
        if (authToken.length == 0) {
            throw new InboundRejected(401, "the SMS auth token is not configured (herald.sms.auth-token); refusing every status callback"
                    + " and inbound message");
        }
        List<String> signatures = io.herald.ingest.SignatureHeaders.values(exchange.getMessage().getHeader(SIGNATURE_HEADER));
        if (signatures.isEmpty()) {
            throw new InboundRejected(401, "missing " + SIGNATURE_HEADER + " header");
        }
        Map<String, List<String>> form = form(exchange);
        StringBuilder params = new StringBuilder();
        form.forEach((name, values) -> values.stream().sorted().forEach(value -> params.append(name).append(value)));
        // Twilio signs the URL with or without its port (its own validators try both: "sig generation on back end is inconsistent").
        boolean valid = false;
        for (String url : portSpellings(url(exchange))) {
            byte[] expected = Base64.getEncoder().encode(hmacSha1((url + params).getBytes(StandardCharsets.UTF_8)));
            for (String signature : signatures) {
                valid |= MessageDigest.isEqual(expected, signature.getBytes(StandardCharsets.US_ASCII));
            }
        }
        if (!valid) {
            throw new InboundRejected(401, "signature does not match (" + io.herald.ingest.SignatureHeaders.tried(signatures) + "wrong auth token herald.sms.auth-token, the body was altered, or the"
                    + " URL Twilio signed differs from " + url(exchange) + ": set herald.sms.webhook-base-url to Herald's public address)");
        }
        exchange.setProperty(FORM, form);
    }

    /** Records the verified callback; the answer is 200 whatever it matched (an unknown sid is kept, not an error). */
    public void record(Exchange exchange) {
        @SuppressWarnings("unchecked")
        Map<String, List<String>> form = exchange.getProperty(FORM, Map.class);
        String sid = first(form, "MessageSid", first(form, "SmsSid", null));
        String status = first(form, "MessageStatus", first(form, "SmsStatus", null));
        if (sid == null || sid.isBlank() || status == null || status.isBlank()) {
            throw new InboundRejected(400, "a status callback needs MessageSid and MessageStatus");
        }
        status = status.trim().toLowerCase(Locale.ROOT);
        String errorCode = first(form, "ErrorCode", null);
        String to = first(form, "To", null);
        String finalState = switch (status) {
            case "delivered" -> "DELIVERED";
            case "undelivered", "failed" -> "UNDELIVERED";
            default -> null;
        };
        String reason = switch (status) {
            case "delivered" -> "the carrier reported the SMS delivered to the handset";
            case "undelivered", "failed" -> "SMS not delivered: " + explain(errorCode);
            default -> "the SMS provider reported status '" + status + "'";
        };
        String suppress = errorCode == null || finalState == null ? null : NEVER_RECEIVES.get(errorCode.trim());
        String outcome = receipts.record(new DeliveryReceipts.Receipt("sms", sid.trim(), null, status, errorCode, finalState, reason, to, suppress),
                deliveryNamed(exchange));
        exchange.getMessage().removeHeaders("*");
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, "application/json");
        exchange.getMessage().setBody("{\"status\":\"recorded\",\"outcome\":\"" + outcome + "\"}");
    }

    /** The delivery the signed callback URL names (?ref=&lt;delivery id&gt;), or null when it names none (or not as Herald writes it). */
    static Long deliveryNamed(Exchange exchange) {
        String query = exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            String value = pair.startsWith(SmsRequest.REF + "=") ? pair.substring(SmsRequest.REF.length() + 1) : null;
            if (value != null) {
                return value.matches("[1-9][0-9]{0,17}") ? Long.valueOf(value) : null;
            }
        }
        return null;
    }

    /** A carrier error code in words. */
    static String explain(String errorCode) {
        if (errorCode == null || errorCode.isBlank()) {
            return "the carrier gave no error code";
        }
        String code = errorCode.trim();
        String known = NEVER_RECEIVES.getOrDefault(code, READABLE.get(code));
        return known != null ? known : "the carrier reported error " + (code.length() > 20 ? code.substring(0, 20) : code);
    }

    private String url(Exchange exchange) {
        String url = exchange.getMessage().getHeader(Exchange.HTTP_URL, String.class);
        if (publicBaseUrl != null && !publicBaseUrl.isBlank()) {
            url = publicBaseUrl.trim().replaceAll("/+$", "") + exchange.getMessage().getHeader(Exchange.HTTP_PATH, "", String.class);
        }
        String query = exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class);
        return (url == null ? "" : url) + (query == null || query.isBlank() ? "" : "?" + query);
    }

    /** The URL as written, without its port, and with the scheme's default port when it names none (as Twilio's SDKs validate). */
    static List<String> portSpellings(String url) {
        java.util.Set<String> spellings = new java.util.LinkedHashSet<>(List.of(url));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(https?)://([^/:?#]+)(:\\d+)?(.*)$", java.util.regex.Pattern.CASE_INSENSITIVE
                | java.util.regex.Pattern.DOTALL).matcher(url);
        if (m.matches()) {
            spellings.add(m.group(1) + "://" + m.group(2) + m.group(4));
            if (m.group(3) == null) {
                spellings.add(m.group(1) + "://" + m.group(2) + ("https".equalsIgnoreCase(m.group(1)) ? ":443" : ":80") + m.group(4));
            }
        }
        return List.copyOf(spellings);
    }

    private static Map<String, List<String>> form(Exchange exchange) {
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            throw new InboundRejected(415, "content type is '" + (contentType == null ? "none" : contentType)
                    + "'; expected application/x-www-form-urlencoded");
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        exchange.getMessage().setBody(body);
        Map<String, List<String>> form = new TreeMap<>();
        if (body == null || body.length == 0) {
            return form;
        }
        try {
            for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                String[] nameValue = pair.split("=", 2);
                form.computeIfAbsent(URLDecoder.decode(nameValue[0], StandardCharsets.UTF_8), k -> new ArrayList<>())
                        .add(nameValue.length > 1 ? URLDecoder.decode(nameValue[1], StandardCharsets.UTF_8) : "");
            }
        } catch (IllegalArgumentException e) {
            throw new InboundRejected(400, "body is not a valid form (a %-escape is broken); expected name=value pairs");
        }
        return form;
    }

    static String first(Map<String, List<String>> form, String name, String otherwise) {
        List<String> values = form.get(name);
        return values == null || values.isEmpty() ? otherwise : values.get(0);
    }

    private byte[] hmacSha1(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(authToken, "HmacSHA1"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is not available in this JVM", e);
        }
    }
}
