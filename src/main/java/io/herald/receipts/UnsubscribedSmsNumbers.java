package io.herald.receipts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.herald.dispatch.ChannelDelivery;
import io.herald.logging.Masking;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * SMS refusals that mean the number opted out at the provider, read the way Twilio answers them: 400 with
 * {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}. Twilio answers so for every message after the
 * number replied STOP (or another opt-out word) to the sending number, also when that reply never reached Herald (no inbound
 * webhook, or one refused). The number is suppressed for SMS with the refusal kept as its receipt, so later SMS to it are
 * SKIPPED with the reason instead of failing and alerting one by one; this delivery fails saying so. Any other refusal is
 * left to refused-by-provider. Called by routes/deliver-sms.camel.yaml as the HTTP template's refusalCheck.
 */
@Component
public class UnsubscribedSmsNumbers {

    private static final Logger log = LoggerFactory.getLogger(UnsubscribedSmsNumbers.class);
    /** Twilio: "Attempt to send to unsubscribed recipient". */
    static final int UNSUBSCRIBED = 21610;

    private final ObjectMapper json;
    private final DeliveryReceipts receipts;

    public UnsubscribedSmsNumbers(ObjectMapper json, DeliveryReceipts receipts) {
        this.json = json;
        this.receipts = receipts;
    }

    /** Right after the provider's answer: a 21610 refusal suppresses the number and fails the delivery; anything else passes. */
    public void checkRefusal(Exchange exchange) {
        Integer status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        String number = exchange.getProperty(ChannelDelivery.RECIPIENT, String.class);
        Long deliveryId = exchange.getProperty(ChannelDelivery.DELIVERY_ID, Long.class);
        if (status == null || status != 400 || number == null || deliveryId == null
                || code(exchange.getMessage().getBody(String.class)) != UNSUBSCRIBED) {
            return;
        }
        String masked = Masking.phone(number);
        String reason = "the SMS provider refused the message: the number " + masked + " has opted out at the provider (it replied"
                + " STOP to the sending number; Twilio error 21610); it is suppressed for SMS in Herald too, so later SMS to it are"
                + " skipped until the customer replies START";
        receipts.unsubscribedAtProvider(deliveryId, number, String.valueOf(UNSUBSCRIBED), status, reason);
        log.info("SMS number {} opted out at the provider (21610): suppressed", masked);
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
