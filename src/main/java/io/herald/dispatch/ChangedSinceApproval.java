package io.herald.dispatch;

/**
 * An approved notification's message, rendered at send time, is not what its approver approved (a template, the catalog
 * or the customer's address edited after the approval): that delivery fails, saying so, and nothing is sent.
 */
public class ChangedSinceApproval extends RuntimeException {

    public ChangedSinceApproval(String reason) {
        super(reason);
    }
}
