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

    /** What was sent cannot be used as it is (a filter that is not a date, a missing comment): 400, whatever the target's state. */
    public static class InvalidInput extends ActionRefused {
        public InvalidInput(String reason) {
            super(reason, false);
        }
    }
}
