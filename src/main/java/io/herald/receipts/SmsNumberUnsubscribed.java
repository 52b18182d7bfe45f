package io.herald.receipts;

/**
 * The SMS provider refused a delivery because the number opted out at the provider (Twilio error 21610: it replied STOP
 * to the sending number): the number is now suppressed in Herald too. The message is the delivery's reason, for people;
 * the delivery FAILS like any refusal, and later SMS to the number are SKIPPED, not sent to be refused again.
 */
public class SmsNumberUnsubscribed extends RuntimeException {

    private final int status;

    public SmsNumberUnsubscribed(String reason, int status) {
        super(reason, null, false, false);
        this.status = status;
    }

    /** The provider's HTTP status (400), kept with the failed attempt. */
    public int status() {
        return status;
    }
}
