package io.herald.dispatch;

/**
 * The customer's address in the directory cannot be sent to as it is (several email addresses, a name around one, a
 * phone number that is not international): that delivery fails, saying what to correct, and nothing is sent.
 */
public class UnusableAddress extends RuntimeException {

    public UnusableAddress(String reason) {
        super(reason);
    }
}
