package io.herald.receipts;

/**
 * The provider refused a delivery because its address can no longer be sent to: a push token FCM calls UNREGISTERED or
 * invalid (removed from the customer's directory entry), or a number the SMS provider refuses for good (Twilio 21610
 * opted out, 21614 no mobile number; suppressed in Herald too). The message is the delivery's reason, for people; the delivery FAILS like any refusal
 * (routes/error-handling.camel.yaml delivery-failed), so a first-success notification moves on to its next channel.
 */
public class AddressGone extends RuntimeException {

    private final int status;

    public AddressGone(String reason, int status) {
        super(reason, null, false, false);
        this.status = status;
    }

    /** The provider's HTTP status (404 UNREGISTERED, 400 INVALID_ARGUMENT, or 400 for Twilio's 21610 and 21614), kept with the failed attempt. */
    public int status() {
        return status;
    }
}
