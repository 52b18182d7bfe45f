package io.herald.notification;

/** A mapped event that does not satisfy the canonical contract; the message is the operator's reason. */
public class InvalidNotification extends RuntimeException {

    public InvalidNotification(String reason) {
        super(reason);
    }
}
