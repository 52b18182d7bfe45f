package io.herald.dispatch;

/** The stale sweep settled this delivery while its sender waited (for the database): the sender must not call the provider. */
public class ClaimWithdrawn extends RuntimeException {

    public ClaimWithdrawn(String reason) {
        super(reason);
    }
}
