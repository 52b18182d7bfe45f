package io.herald.identity;

import io.herald.config.IdentitySettings;
import io.herald.logging.Masking;
import org.springframework.stereotype.Component;

/**
 * An event that carries no customer id, only an email (a Stripe guest charge's billing email, an invoice's customer_email).
 * By default it is not matched: anyone can type another person's email at a checkout, and matching it would notify that
 * person on all their channels and attribute the charge to them. It is quarantined at step identity for an operator to
 * assign (OperatorAssignments). With herald.identity.match-by-email it is matched to the one customer with that email
 * (CustomerDirectory.resolveByEmail).
 */
@Component
public class EmailOnlyEvents {

    /** What every reason about such an event says, after "&lt;source&gt; event &lt;id&gt;": the console offers to assign it. */
    static final String ONLY_THE_EMAIL = " carries no customer id, only the email ";
    /** What the reason of such an event says after an assignment that could not be made (OperatorAssignments). */
    static final String NOT_ASSIGNED = " cannot be assigned to customer ";

    private final CustomerDirectory directory;
    private final boolean matchByEmail;

    public EmailOnlyEvents(CustomerDirectory directory, IdentitySettings settings) {
        this.directory = directory;
        this.matchByEmail = settings.matchByEmail();
    }

    /** The customer for an event that carries only this email, or UnknownCustomer with a reason an operator can act on. */
    public Customer resolve(String source, String sourceEventId, String email) {
        if (matchByEmail) {
            return directory.resolveByEmail(source, sourceEventId, email);
        }
        throw new UnknownCustomer(source + " event " + sourceEventId + ONLY_THE_EMAIL + Masking.email(email)
                + "; Herald matches customers by stable ids only. If you know whose it is, assign it to the customer from the"
                + " event page in the console (it is sent to them once; nothing is linked), or dismiss it");
    }

    /** Whether a quarantine reason is about an event that names its customer only by email (it can be assigned, not linked). */
    public static boolean isAbout(String reason) {
        return reason != null && (reason.contains(ONLY_THE_EMAIL) || reason.contains(NOT_ASSIGNED));
    }
}
