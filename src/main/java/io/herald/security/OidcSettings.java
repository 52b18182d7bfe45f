package io.herald.security;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * OIDC login for the console, the API and Hawtio (herald.security.oidc.*). Off while issuer-uri is
 * blank; then only the environment accounts (HeraldUsers) log in. Roles come from one claim of the ID
 * token (browser login) or the access token (Bearer on /api): its values are mapped by role-mapping
 * (claim value: Herald role), or, when role-mapping is empty, taken as Herald's role names. customer-claim names the claim
 * of an APP token issued to one customer (the product's app on their phone): such a token reads and marks that customer's
 * inbox only (InboxScope).
 */
@ConfigurationProperties("herald.security.oidc")
public record OidcSettings(String issuerUri, String clientId, String clientSecret, String rolesClaim,
                           Map<String, String> roleMapping, String usernameClaim, String audience, String customerClaim) {

    static final String FILE = "config/application.yaml (or HERALD_SECURITY_OIDC_*)";
    /** What a claim value may grant; APP is the product's in-app inbox client (its customers' inbox, nothing else). */
    public static final Set<String> ROLES = Set.of("VIEWER", "OPERATOR", "ADMIN", "APP", "APPROVER");

    public OidcSettings {
        rolesClaim = blank(rolesClaim) ? "roles" : rolesClaim.strip();
        usernameClaim = blank(usernameClaim) ? "preferred_username" : usernameClaim.strip();
        roleMapping = roleMapping == null ? Map.of() : Map.copyOf(roleMapping);
        customerClaim = blank(customerClaim) ? "" : customerClaim.strip();
    }

    public boolean enabled() {
        return !blank(issuerUri);
    }

    /** A bad setting stops startup, naming the key. */
    public OidcSettings validated() {
        if (!enabled()) {
            return this;
        }
        if (blank(clientId) || blank(clientSecret)) {
            throw new IllegalStateException(FILE + ": herald.security.oidc.issuer-uri is set, so herald.security.oidc.client-id and"
                    + " herald.security.oidc.client-secret must be set too (HERALD_SECURITY_OIDC_CLIENT_ID / _CLIENT_SECRET)");
        }
        roleMapping.forEach((value, role) -> {
            if (role == null || !ROLES.contains(role.strip().toUpperCase(Locale.ROOT))) {
                throw new IllegalStateException(FILE + ": herald.security.oidc.role-mapping." + value
                        + " must be one of VIEWER, OPERATOR, ADMIN, APP, APPROVER; was '" + role + "'");
            }
        });
        return this;
    }

    static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
