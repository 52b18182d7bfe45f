package io.herald.receipts;

/**
 * The push provider refused a delivery because its token is no longer registered (or is no valid token): the token has
 * been removed from the customer's directory entry. The message is the delivery's reason, for people; the delivery
 * FAILS like any refusal (routes/error-handling.camel.yaml delivery-failed), so a first-success notification moves on.
 */
public class PushTokenUnregistered extends RuntimeException {

    private final int status;

    public PushTokenUnregistered(String reason, int status) {
        super(reason, null, false, false);
        this.status = status;
    }

    /** The provider's HTTP status (404 UNREGISTERED, 400 INVALID_ARGUMENT on the token), kept with the failed attempt. */
    public int status() {
        return status;
    }
}
