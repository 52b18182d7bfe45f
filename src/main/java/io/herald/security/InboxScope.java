package io.herald.security;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.stereotype.Component;

import io.herald.ledger.StoredText;

/**
 * Whose inbox a caller may read and mark. The in-app API key and an APP token without herald.security.oidc.customer-claim
 * belong to the product's backend, which serves every customer, and read any inbox. An APP token that carries the claim
 * was issued to one customer (the product's app calling Herald directly with its user's token) and reads that customer's
 * inbox only: with the role alone, any signed-in user of the app could read everyone's messages by changing the id in the
 * address. Operators and admins read any inbox.
 */
@Component
public class InboxScope {

    private static final Set<String> EVERY_INBOX = Set.of("ROLE_OPERATOR", "ROLE_ADMIN");

    private final String claim;

    public InboxScope(OidcSettings settings) {
        this.claim = settings.customerClaim();
    }

    /** Why the caller may not use this customer's inbox, in words; empty when it may. */
    public Optional<String> refusal(Authentication caller, String customerId) {
        // The same user signed in through the login page (single sign-on) is held to the customer its ID token names, as a
        // Bearer token is: otherwise the session read any inbox.
        Map<String, Object> claims = caller instanceof JwtAuthenticationToken token ? token.getToken().getClaims()
                : caller != null && caller.getPrincipal() instanceof OidcUser user ? user.getClaims() : null;
        if (claim.isEmpty() || claims == null
                || caller.getAuthorities().stream().map(GrantedAuthority::getAuthority).anyMatch(EVERY_INBOX::contains)) {
            return Optional.empty();
        }
        Object customer = claims.get(claim);
        if (customer == null || customer.toString().equals(customerId)) {
            return Optional.empty();
        }
        return Optional.of("this token was issued to one customer (its claim " + claim + ") and reads and marks only that customer's"
                + " inbox, not customer " + StoredText.label(customerId, 64) + "'s: call with the token of the customer whose inbox"
                + " this is");
    }
}
