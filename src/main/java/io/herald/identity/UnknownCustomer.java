package io.herald.identity;

/** The event's customer cannot be resolved to exactly one directory entry; never guessed. */
public class UnknownCustomer extends RuntimeException {

    public UnknownCustomer(String reason) {
        super(reason);
    }
}
