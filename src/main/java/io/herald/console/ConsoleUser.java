package io.herald.console;

import java.security.Principal;
import java.util.Set;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;

/** Who is looking: their name for the audit trail, whether they may act, and whether they see masked values. */
public record ConsoleUser(String name, boolean canAct, boolean admin) {

    private static final Set<String> ACTING = Set.of("ROLE_OPERATOR", "ROLE_ADMIN");

    public static ConsoleUser of(Principal principal) {
        if (!(principal instanceof Authentication authentication)) {
            return new ConsoleUser("anonymous", false, false);
        }
        Set<String> roles = authentication.getAuthorities().stream().map(GrantedAuthority::getAuthority)
                .collect(java.util.stream.Collectors.toSet());
        return new ConsoleUser(authentication.getName(), roles.stream().anyMatch(ACTING::contains), roles.contains("ROLE_ADMIN"));
    }

    /** The role the user really has, as the header shows it (an admin is not shown as an operator). */
    public String role() {
        return admin ? "admin" : canAct ? "operator" : "viewer";
    }

    /** Viewers see emails, phone numbers and names masked. */
    public boolean masked() {
        return !canAct;
    }
}
