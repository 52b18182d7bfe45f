package io.herald.console;

/** An operator action that cannot be done, with the reason to show them (unknown target, wrong state, no confirmation). */
public class ActionRefused extends RuntimeException {

    private final boolean unknown;

    public ActionRefused(String reason, boolean unknown) {
        super(reason);
        this.unknown = unknown;
    }

    /** True when the delivery or event does not exist (404), false when it is in the wrong state (409) or unconfirmed. */
    public boolean unknown() {
        return unknown;
    }
}
