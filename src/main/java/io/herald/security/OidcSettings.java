package io.herald.security;

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
@org.springframework.validation.annotation.Validated
@ConfigurationProperties("herald.security.oidc")
public record OidcSettings(String issuerUri, String clientId, String clientSecret, String rolesClaim,
                           Map<String, @jakarta.validation.constraints.Pattern(regexp = ROLE, message = NOT_A_ROLE) String> roleMapping,
                           String usernameClaim, String audience, String customerClaim) {

    /** A role-mapping value: one of ROLES, in any case (ASCII only, as ROLES are compared in Locale.ROOT). */
    static final String ROLE = "(?i)\\s*(VIEWER|OPERATOR|ADMIN|APP|APPROVER)\\s*";
    static final String NOT_A_ROLE = "must be one of VIEWER, OPERATOR, ADMIN, APP, APPROVER";
    static final String CLIENT_ID_NEEDED = "herald.security.oidc.client-id must be set too, as herald.security.oidc.issuer-uri is set";
    static final String CLIENT_SECRET_NEEDED = "herald.security.oidc.client-secret must be set too, as herald.security.oidc.issuer-uri"
            + " is set";
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

    /**
     * Checked with the other settings when they are bound (the failure box then shows the value and where it was set), and
     * again here for settings made in code.
     */
    public OidcSettings validated() {
        if (!isClientIdGiven()) {
            throw new IllegalStateException(CLIENT_ID_NEEDED);
        }
        if (!isClientSecretGiven()) {
            throw new IllegalStateException(CLIENT_SECRET_NEEDED);
        }
        roleMapping.forEach((value, role) -> {
            if (role == null || !role.matches(ROLE)) {
                throw new IllegalStateException("herald.security.oidc.role-mapping." + value + " " + NOT_A_ROLE + "; was '" + role + "'");
            }
        });
        return this;
    }

    @jakarta.validation.constraints.AssertTrue(message = CLIENT_ID_NEEDED)
    public boolean isClientIdGiven() {
        return !enabled() || !blank(clientId);
    }

    @jakarta.validation.constraints.AssertTrue(message = CLIENT_SECRET_NEEDED)
    public boolean isClientSecretGiven() {
        return !enabled() || !blank(clientSecret);
    }

    static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
