package io.herald.receipts;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.dispatch.ChannelDelivery;
import io.herald.logging.Masking;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * SMS refusals that mean the number will refuse every message, read the way Twilio answers them: 400 with {"code": 21610,
 * "message": "Attempt to send to unsubscribed recipient"} (the number replied STOP, or another opt-out word, to the sending
 * number, also when that reply never reached Herald) or 21614 ("'To' number is not a valid mobile number": a landline, or
 * no mobile number at all). The number is suppressed for SMS with the refusal kept as its
 * receipt, so later SMS to it are SKIPPED with the reason instead of failing and alerting one by one; this delivery fails
 * saying so. Any other refusal is left to refused-by-provider (21211, an invalid number, among them: its fix is
 * a corrected number in the CRM, which is a new address anyway). Called by routes/deliver-sms.camel.yaml as the HTTP
 * template's refusalCheck.
 */
@Component
public class SmsNumbersRefused {

    private static final Logger log = LoggerFactory.getLogger(SmsNumbersRefused.class);
    /** Twilio: "Attempt to send to unsubscribed recipient". */
    static final int UNSUBSCRIBED = 21610;
    /** Twilio: "'To' number is not a valid mobile number" (a landline, or an invalid number). */
    static final int NOT_MOBILE = 21614;

    /** What each code says of the number, and how the suppression ends. */
    private static final Map<Integer, String> WHY = Map.of(
            UNSUBSCRIBED, "has opted out at the provider (it replied STOP to the sending number; Twilio error 21610); it is suppressed for"
                    + " SMS in Herald too, so later SMS to it are skipped until the customer replies START",
            NOT_MOBILE, "is not a mobile number (a landline, or not a valid mobile number; Twilio error 21614); it is suppressed for SMS,"
                    + " so later SMS to it are skipped: correct the customer's phone number in the CRM, or lift the suppression in the"
                    + " console if the number does take SMS");

    private final ObjectMapper json;
    private final DeliveryReceipts receipts;

    public SmsNumbersRefused(ObjectMapper json, DeliveryReceipts receipts) {
        this.json = json;
        this.receipts = receipts;
    }

    /** Right after the provider's answer: such a refusal suppresses the number and fails the delivery; anything else passes. */
    public void checkRefusal(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        String number = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        if (status == null || status != 400 || number == null || deliveryId == null) {
            return;
        }
        int code = code(exchange.getMessage().getBody(String.class));
        String why = WHY.get(code);
        if (why == null) {
            return;
        }
        String masked = Masking.phone(number);
        String reason = "the SMS provider refused the message: the number " + masked + " " + why;
        receipts.numberRefusedAtProvider(deliveryId, number, String.valueOf(code), status, code == UNSUBSCRIBED ? "OPT_OUT" : "UNDELIVERABLE",
                reason);
        log.info("SMS number {} refused by the provider ({}): suppressed", masked, code);
        throw new AddressGone(reason, status);
    }

    /** Twilio's error code in the answer, or -1 when it is not Twilio's JSON. */
    private int code(String body) {
        try {
            JsonNode code = body == null || body.isBlank() ? null : json.readTree(body).path("code");
            return code != null && code.canConvertToInt() ? code.asInt() : -1;
        } catch (Exception e) {
            return -1;
        }
    }
}
