package io.herald.approval;

import java.security.Principal;
import java.util.Set;
import java.util.stream.Collectors;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * Who is looking at the approvals: their name for the audit trail, their single-sign-on subject (four eyes), whether they may decide (the APPROVER role, or
 * ADMIN), and whether personal data is masked for them (viewers only: approvers, operators and admins read the
 * recipients and the message as they would be sent). The accessors are the ones the console's layout reads.
 */
public record Approver(String name, String subject, boolean mayApprove, boolean canAct, boolean admin, boolean masked) {

    public static Approver of(Principal principal) {
        if (!(principal instanceof Authentication authentication)) {
            return new Approver("anonymous", null, false, false, false, true);
        }
        Set<String> roles = authentication.getAuthorities().stream().map(GrantedAuthority::getAuthority).collect(Collectors.toSet());
        boolean admin = roles.contains("ROLE_ADMIN");
        boolean approver = admin || roles.contains("ROLE_APPROVER");
        boolean operator = admin || roles.contains("ROLE_OPERATOR");
        return new Approver(authentication.getName(), subject(authentication), approver, operator, admin, !(approver || operator));
    }

    /** The single-sign-on subject (the token's sub) of a console login or a Bearer token; null for a local account. */
    private static String subject(Authentication authentication) {
        if (authentication instanceof JwtAuthenticationToken jwt) {
            return jwt.getToken().getSubject();
        }
        return authentication.getPrincipal() instanceof OidcUser user ? user.getSubject() : null;
    }

    /** The role as the console's header shows it. */
    public String role() {
        return admin ? "admin" : canAct ? "operator" : mayApprove ? "approver" : "viewer";
    }
}
